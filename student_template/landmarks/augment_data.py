"""Data augmentation: ``Rotate`` and ``Grayscale`` (TODO) and ``main`` (provided).

A transform is a function ``img → img`` on one H×W×C uint8 image. ``main`` writes
``augmented_landmarks.csv`` and the images in ``augmented/`` next to the original data;
``dataset.get_train_val_test_loaders(..., augment=True)`` reads the training partition from
there.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

Transform = Callable[[np.ndarray], np.ndarray]


def Rotate(deg: int = 20) -> Transform:
    """A transform rotating an image by a random integer angle in [-deg, deg] (inclusive).

    The angle is drawn with ``np.random`` for every call. The rotated image keeps the
    input's shape (H×W×C) and dtype; pixels that come from outside the image are black (0).
    """

    def _rotate(img: np.ndarray) -> np.ndarray:
        # TODO: implement Rotate._rotate
        raise NotImplementedError("Rotate._rotate: TODO")

    return _rotate


def Grayscale() -> Transform:
    """A transform turning an H×W×3 image into gray.

    Each output pixel has three equal channels: the mean of the input pixel's channels,
    rounded to the nearest integer. The result has dtype uint8.
    """

    def _grayscale(img: np.ndarray) -> np.ndarray:
        # TODO: implement Grayscale._grayscale
        raise NotImplementedError("Grayscale._grayscale: TODO")

    return _grayscale


def augment(
    image_path: str | os.PathLike[str], transforms: Sequence[Transform], n: int = 1
) -> list[np.ndarray]:
    """`n` augmented copies of the image at `image_path` for each transform in `transforms`."""
    with Image.open(image_path) as im:
        img = np.asarray(im.convert("RGB"), dtype=np.uint8)
    return [np.asarray(t(img), dtype=np.uint8) for t in transforms for _ in range(n)]


def main(
    data_dir: str | os.PathLike[str] | None = None,
    partitions: Iterable[str] = ("train",),
    transforms: Sequence[Transform] | None = None,
    n: int = 1,
    keep_original: bool = True,
) -> Path:
    """Write ``augmented_landmarks.csv`` and ``augmented/`` for the chosen `partitions`.

    Every image of those partitions (both tasks) gets `n` augmented copies per transform
    (default: ``Rotate()`` and ``Grayscale()``), named ``<stem>_aug<k>.png``; with
    `keep_original` the original image is copied along. Returns the CSV's path.
    """
    from config import config

    root = Path(data_dir if data_dir is not None else config("data_dir"))
    transforms = list(transforms) if transforms is not None else [Rotate(), Grayscale()]
    parts = set(partitions)
    src_dir = root / config("image_dir")
    out_dir = root / config("augmented_image_dir")
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(root / config("csv_file"), newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fieldnames = list(reader.fieldnames or [])
        rows = list(reader)
    out_rows = []
    for row in rows:
        if row["partition"] not in parts:
            continue
        src = src_dir / row["filename"]
        if keep_original:
            shutil.copyfile(src, out_dir / row["filename"])
            out_rows.append(row)
        stem = Path(row["filename"]).stem
        for k, img in enumerate(augment(src, transforms, n)):
            name = f"{stem}_aug{k}.png"
            Image.fromarray(img).save(out_dir / name)
            out_rows.append({**row, "filename": name})
    csv_path = root / config("augmented_csv_file")
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fieldnames, lineterminator="\n")
        writer.writeheader()
        writer.writerows(out_rows)
    print(f"Wrote {len(out_rows)} rows to {csv_path}")
    return csv_path


if __name__ == "__main__":
    main()
