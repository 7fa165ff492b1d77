"""Synthetic stand-in for CIFAR-10, in torchvision's ``cifar-10-batches-py`` layout.

``generate(out_dir, seed)`` writes ``out_dir/cifar-10-batches-py/{data_batch_1..5,
test_batch, batches.meta}`` with `grader.synthetic.cifar10` (the writer `mytorch_conv` uses
too, where the classes are explained). torchvision's ``CIFAR10`` checks the MD5s of the
original files, so the assignment's code reads this folder with ``SyntheticCIFAR10``
(``CIFAR10`` without those checks).

Below the generator is the trusted loader of the training check (`training_data`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from grader.synthetic.cifar10 import generate_cifar, load_batches

# images per class: {size: (train, test)}; "full" is the real CIFAR-10's
SIZES: dict[str, tuple[int, int]] = {"small": (300, 60), "full": (5000, 1000)}
# The handout's transforms: ToTensor() then Normalize((0.5,)*3, (0.5,)*3).
MEAN, STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)


def generate(out_dir: Path | str, seed: int = 0, *, size: str = "small") -> Path:
    """Write the synthetic CIFAR-10 for `seed` into `out_dir`; return it.

    ``size="small"`` (CPU checks): 300 train + 60 test images per class (3000 / 600);
    ``size="full"``: 5000 + 1000, the real data set's sizes.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    train, test = SIZES[size]
    return generate_cifar(out_dir, seed, train_per_class=train, test_per_class=test)


def first_per_class(images: np.ndarray, labels: np.ndarray, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `per_class` images of every class, in file order."""
    keep = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        keep[np.flatnonzero(labels == c)[:per_class]] = True
    return images[keep], labels[keep]


def training_data(
    data_dir: Path | str, heldout_dir: Path | str, *, per_class: int, stop_per_class: int = 10, heldout_per_class: int = 20
) -> Any:
    """The training check's data (`grader.checks.training.TrainingData`).

    Training: the first `per_class` images of each class of ``data_dir``'s train split (a
    small set, so that an unregularised network overfits within the budget); the stopping
    rule's statistics: the first `stop_per_class` per class of ``data_dir``'s test split. The
    metrics are computed on the training images followed by the first `heldout_per_class` per
    class of ``heldout_dir``'s test split (generated from the grading seed, its labels stay in
    this process): the first ``10 * per_class`` rows give training statistics, the rest
    validation statistics (`split_metric`). Images scaled to [0, 1] and normalised
    as the handout's transforms do (mean 0.5, std 0.5 per channel); N×3×32×32 float32.
    """
    from grader.checks.training import TrainingData

    train = first_per_class(*load_batches(data_dir, "train"), per_class)
    stop = first_per_class(*load_batches(data_dir, "test"), stop_per_class)
    heldout = first_per_class(*load_batches(heldout_dir, "test"), heldout_per_class)
    measured = (np.concatenate([train[0], heldout[0]]), np.concatenate([train[1], heldout[1]]))
    return TrainingData.from_images(train, stop, measured, mean=MEAN, std=STD)


def split_metric(metric: Any, n_train: int, *, on_train: bool, label: str) -> Any:
    """`metric` on the rows `training_data` put first (the training images) or on the rest."""

    def part(labels: np.ndarray, logits: np.ndarray) -> float:
        rows = slice(None, n_train) if on_train else slice(n_train, None)
        return float(metric(np.asarray(labels)[rows], np.asarray(logits)[rows]))

    part.label = label  # type: ignore[attr-defined]
    return part
