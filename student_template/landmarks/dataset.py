"""Landmarks data: standardisation (TODO) and the provided loading code.

The on-disk layout is ``<data_dir>/landmarks.csv`` with the columns
``filename, semantic_label, partition, numeric_label, task`` and the images in
``<data_dir>/images/<filename>``. Images are loaded as N×H×W×C uint8 arrays, standardised
with statistics of the training partition, and handed to PyTorch as N×C×H×W float32.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from config import config
from PIL import Image
from torch.utils.data import DataLoader, Dataset


class ImageStandardizer:
    """Standardise images channel by channel with a mean and standard deviation.

    ``fit`` learns the statistics from a batch (the training partition), ``transform``
    applies them to any batch.
    """

    def __init__(self) -> None:
        self.image_mean: np.ndarray | None = None
        self.image_std: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> None:
        """Compute the per-channel mean and standard deviation of `X`.

        `X` has shape N×H×W×C (any numeric dtype). Store the mean over axis=(0, 1, 2) in
        ``self.image_mean`` and the (population) standard deviation over the same axes in
        ``self.image_std``; both have shape (C,).
        """
        # TODO: implement ImageStandardizer.fit
        raise NotImplementedError("ImageStandardizer.fit: TODO")

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Return `X` standardised: ``(X - image_mean) / image_std``, channel by channel.

        `X` has shape N×H×W×C; the result has the same shape (a float array).
        """
        # TODO: implement ImageStandardizer.transform
        raise NotImplementedError("ImageStandardizer.transform: TODO")


def read_metadata(csv_path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The rows of a landmarks CSV file as dicts (column name → text)."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """One image file as an H×W×3 uint8 array."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


class LandmarksDataset(Dataset):
    """One partition of one task of the landmarks data.

    ``X`` holds the images (N×H×W×C uint8 when loaded; the loaders below replace it with the
    standardised N×C×H×W float32 array), ``y`` the numeric labels.
    """

    def __init__(
        self,
        partition: str,
        task: str = "target",
        augment: bool = False,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if partition not in ("train", "val", "test"):
            raise ValueError(f"partition must be train, val or test, not {partition!r}")
        if task not in ("target", "source"):
            raise ValueError(f"task must be target or source, not {task!r}")
        self.partition = partition
        self.task = task
        self.augment = augment
        self.data_dir = Path(data_dir if data_dir is not None else config("data_dir"))
        if augment:
            self.csv_path = self.data_dir / config("augmented_csv_file")
            self.image_dir = self.data_dir / config("augmented_image_dir")
        else:
            self.csv_path = self.data_dir / config("csv_file")
            self.image_dir = self.data_dir / config("image_dir")
        self.metadata = [
            r
            for r in read_metadata(self.csv_path)
            if r["task"] == task and r["partition"] == partition
        ]
        self.semantic_labels: dict[int, str] = {
            int(r["numeric_label"]): r["semantic_label"] for r in self.metadata
        }
        self.X, self.y = self._load_data()

    def _load_data(self) -> tuple[np.ndarray, np.ndarray]:
        dim = int(config("image_dim"))
        images = [load_image(self.image_dir / r["filename"]) for r in self.metadata]
        X = np.stack(images) if images else np.zeros((0, dim, dim, 3), dtype=np.uint8)
        y = np.array([int(r["numeric_label"]) for r in self.metadata], dtype=np.int64)
        return X, y

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.from_numpy(np.asarray(self.X[idx])).float(), torch.tensor(self.y[idx]).long()

    def get_semantic_label(self, numeric_label: int) -> str:
        """The class name of `numeric_label`."""
        return self.semantic_labels[int(numeric_label)]


def get_train_val_test_datasets(
    task: str = "target",
    augment: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[LandmarksDataset, LandmarksDataset, LandmarksDataset, ImageStandardizer]:
    """The three partitions of `task`, standardised with training statistics, N×C×H×W.

    With `augment`, the training partition is read from the augmented CSV (see
    ``augment_data.py``); validation and test always come from the original images.
    """
    tr = LandmarksDataset("train", task, augment, data_dir)
    va = LandmarksDataset("val", task, False, data_dir)
    te = LandmarksDataset("test", task, False, data_dir)
    standardizer = ImageStandardizer()
    standardizer.fit(tr.X)
    for ds in (tr, va, te):
        X = np.asarray(standardizer.transform(ds.X), dtype=np.float32)
        ds.X = np.ascontiguousarray(X.transpose(0, 3, 1, 2))
    return tr, va, te, standardizer


def get_train_val_test_loaders(
    task: str, batch_size: int, **kwargs: Any
) -> tuple[DataLoader, DataLoader, DataLoader, ImageStandardizer]:
    """DataLoaders for train (shuffled), val and test of `task`, and the fitted standardizer.

    Keyword arguments: ``augment`` and ``data_dir`` go to the data sets; ``seed`` (int) fixes
    the training shuffle order; ``num_workers`` goes to the loaders.
    """
    seed = kwargs.pop("seed", None)
    num_workers = int(kwargs.pop("num_workers", config("num_workers")))
    tr, va, te, standardizer = get_train_val_test_datasets(task, **kwargs)
    generator = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    tr_loader = DataLoader(
        tr, batch_size=batch_size, shuffle=True, generator=generator, num_workers=num_workers
    )
    va_loader = DataLoader(va, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    te_loader = DataLoader(te, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    return tr_loader, va_loader, te_loader, standardizer
