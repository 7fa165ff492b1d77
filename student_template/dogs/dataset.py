"""Dog data: training statistics and transforms (TODO), and the provided loading code.

The on-disk layout is torchvision's ``ImageFolder`` layout::

    data/dogs/{train,val}/<breed>/*.jpg       # part 1: five breeds, balanced
    data/dogcat/{train,val}/{cat,dog}/*.jpg   # part 2: cats vs dogs, imbalanced

Class indices are the sorted folder names (``ImageFolder``'s rule): for dog/cat, cat = 0 and
dog = 1. Set ``DOGS_DATA`` to use another data folder than ``./data``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

DATA_DIR = Path(os.environ.get("DOGS_DATA", "data"))
IMAGE_SIZE = 32  # the breeds are classified at 32×32
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The image files of an ImageFolder tree (``folder/<class>/*``), sorted."""
    exts = {".jpg", ".jpeg", ".png"}
    return sorted(p for p in Path(folder).glob("*/*") if p.suffix.lower() in exts)


def compute_train_statistics(dataset_dir: str | os.PathLike[str]) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of the *training* images.

    `dataset_dir` holds ``train/`` and ``val/`` (ImageFolder trees); only ``train/`` counts.
    Every image is converted to RGB, resized to 32×32 (``Image.resize((32, 32),
    Image.BILINEAR)``, as ``transforms.Resize((32, 32))`` does) and scaled to [0, 1]. Returns
    ``(mean, std)``, two lists of 3 floats: the mean and the population standard deviation
    (ddof 0) of every pixel of every training image, channel by channel.
    """
    # TODO: implement compute_train_statistics
    raise NotImplementedError("compute_train_statistics: TODO")


def folder_loaders(dataset_dir: Path, tf: transforms.Compose, batch_size: int, seed: int) -> tuple[DataLoader, DataLoader]:
    """Shuffled (seeded) train and ordered val loaders over ``dataset_dir/{train,val}`` with `tf`."""
    train = datasets.ImageFolder(dataset_dir / "train", transform=tf)
    val = datasets.ImageFolder(dataset_dir / "val", transform=tf)
    g = torch.Generator().manual_seed(seed)
    return (
        DataLoader(train, batch_size=batch_size, shuffle=True, generator=g),
        DataLoader(val, batch_size=batch_size, shuffle=False),
    )


class DogDataset:
    """The five breeds: train and val ``ImageFolder`` datasets with the transforms below."""

    def __init__(
        self,
        dataset_dir: str | os.PathLike[str] = DATA_DIR / "dogs",
        mean: list[float] | None = None,
        std: list[float] | None = None,
    ) -> None:
        self.dataset_dir = Path(dataset_dir)
        if mean is None or std is None:
            mean, std = compute_train_statistics(self.dataset_dir)
        self.mean = list(mean)
        self.std = list(std)

    def get_transforms(self, if_resize: bool = True) -> transforms.Compose:
        """The image pipeline: ``Resize((32, 32))``, ``ToTensor()``, ``Normalize(mean, std)``.

        `mean` and `std` are ``self.mean`` and ``self.std`` (the training statistics). With
        ``if_resize=False`` the pipeline is the same without the resize.
        """
        # TODO: implement DogDataset.get_transforms
        raise NotImplementedError("DogDataset.get_transforms: TODO")

    def get_loaders(self, batch_size: int, seed: int = 0, if_resize: bool = True) -> tuple[DataLoader, DataLoader]:
        """Train and val loaders with these transforms."""
        return folder_loaders(self.dataset_dir, self.get_transforms(if_resize), batch_size, seed)



class DogCatDataset:
    """Cats (0) and dogs (1), imbalanced: the pipeline of an ImageNet-pretrained network."""

    def __init__(self, dataset_dir: str | os.PathLike[str] = DATA_DIR / "dogcat") -> None:
        self.dataset_dir = Path(dataset_dir)

    def get_transforms(self) -> transforms.Compose:
        """``Resize((256, 256))``, ``CenterCrop(224)``, ``ToTensor()``, then ``Normalize``
        with the ImageNet statistics (``IMAGENET_MEAN``, ``IMAGENET_STD``)."""
        # TODO: implement DogCatDataset.get_transforms
        raise NotImplementedError("DogCatDataset.get_transforms: TODO")

    def get_loaders(self, batch_size: int, seed: int = 0) -> tuple[DataLoader, DataLoader]:
        """Train and val loaders with these transforms."""
        return folder_loaders(self.dataset_dir, self.get_transforms(), batch_size, seed)



def main() -> None:
    """Print the training statistics of the breeds and the size of each partition."""
    mean, std = compute_train_statistics(DATA_DIR / "dogs")
    print(f"mean: {[round(m, 4) for m in mean]}  std: {[round(s, 4) for s in std]}")
    for name in ("dogs", "dogcat"):
        for part in ("train", "val"):
            ds = datasets.ImageFolder(DATA_DIR / name / part)
            counts = np.bincount([y for _, y in ds.samples], minlength=len(ds.classes))
            print(f"{name}/{part}: " + ", ".join(f"{c} {n}" for c, n in zip(ds.classes, counts, strict=True)))


if __name__ == "__main__":
    main()
