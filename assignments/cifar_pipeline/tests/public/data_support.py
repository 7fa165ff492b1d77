"""Builders the data tests ship into the sandboxed child (`student.ship(data_support)`).

They make, in the child, what the grader chose: small data sets with given labels, PIL images
from pixel arrays, transform outputs after a given torch seed. Student code can read and patch
them (they run in its process), so nothing here is secret and no verdict rests on what they
report: the tests compare the values that come back with what they compute themselves.
Self-contained: standard library, numpy, torch and PIL only.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from PIL import Image


class Labelled:
    """A map-style data set whose item `i` is ``(a 3×2×2 image, labels[i])``.

    Labels are Python ints (as ``CIFAR10`` gives them), or 0-d tensors with ``tensors=True``
    (as ``TensorDataset`` gives them). It has ``__len__`` and ``__getitem__`` only (an index
    past the end raises IndexError, so plain iteration works too), no ``targets``.
    """

    def __init__(self, labels: list[int], tensors: bool = False) -> None:
        self._labels = [int(v) for v in labels]
        self._tensors = tensors

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, Any]:
        if not -len(self._labels) <= i < len(self._labels):
            raise IndexError(i)
        label = self._labels[i]
        return torch.full((3, 2, 2), float(label) / 10), torch.tensor(label) if self._tensors else label


def numbered(n: int) -> Labelled:
    """A data set of `n` items whose item `i` has the label `i` (so items can be told apart)."""
    return Labelled(list(range(n)))


def labels_of(dataset: Any) -> list[int]:
    """The labels of ``dataset[0], …, dataset[len(dataset) - 1]``, read through len and indexing."""
    return [int(dataset[k][1]) for k in range(len(dataset))]


def reseed_globals(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators (to move the global random state)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def pil_image(pixels: Any) -> Image.Image:
    """An RGB PIL image from an H×W×3 uint8 array (what ``CIFAR10`` gives a transform)."""
    return Image.fromarray(np.asarray(pixels, dtype=np.uint8), mode="RGB")


def transformed(transform: Any, pixels: Any, seed: int, times: int = 1) -> torch.Tensor:
    """``transform(image)`` `times` times in a row after ``torch.manual_seed(seed)``, stacked.

    The image is the PIL image of `pixels`; each output must be a tensor (TypeError otherwise).
    """
    image = pil_image(pixels)
    torch.manual_seed(seed)
    outs = []
    for _ in range(times):
        out = transform(image)
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"the transform gave {type(out).__name__}, expected a tensor (is ToTensor missing?)")
        outs.append(out.detach().cpu())
    shapes = {tuple(o.shape) for o in outs}
    if len(shapes) != 1:
        raise ValueError(f"the transform gave tensors of different shapes {sorted(shapes)}")
    return torch.stack(outs)


def cifar10(root: str, train: bool) -> Any:
    """torchvision's ``CIFAR10`` over `root` without a transform (PIL images, int labels).

    The MD5 checks of the original files are reduced to "the file exists", so a synthetic
    set in the same layout loads too; nothing is downloaded.
    """
    from torchvision.datasets import CIFAR10

    class Unchecked(CIFAR10):
        train_list = [[name, None] for name, _ in CIFAR10.train_list]
        test_list = [[name, None] for name, _ in CIFAR10.test_list]
        meta = {**CIFAR10.meta, "md5": None}

    return Unchecked(root, train=train, download=False)
