"""Synthetic stand-in for CIFAR-10, in torchvision's ``cifar-10-batches-py`` layout.

``generate(out_dir, seed)`` writes ``out_dir/cifar-10-batches-py/{data_batch_1..5,
test_batch, batches.meta}`` with `grader.synthetic.cifar10` (shared with `cifar_pipeline`),
where the classes are explained: ten shapes (a plus, a ring, a triangle …) named as
CIFAR-10's classes, with colours and areas drawn from the same distribution for every class,
so a classifier on per-image colour statistics stays at chance while a small CNN learns them
in a few epochs on the CPU. The same seed gives byte-identical files.

torchvision's ``CIFAR10`` checks the MD5s of the original files, so the assignment's code
reads this folder with ``SyntheticCIFAR10`` (``CIFAR10`` without those checks); see
`grader.synthetic.cifar10`.

Below the generator is the trusted loader of the training check (`training_data`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.synthetic.cifar10 import generate_cifar, load_batches

# images per class: {size: (train, test)}; "full" is the real CIFAR-10's
SIZES: dict[str, tuple[int, int]] = {"small": (300, 60), "full": (5000, 1000)}


def generate(out_dir: Path | str, seed: int = 0, *, size: str = "small") -> Path:
    """Write the synthetic CIFAR-10 for `seed` into `out_dir`; return it.

    ``size="small"`` (CPU checks): 300 train + 60 test images per class (3000 / 600);
    ``size="full"``: 5000 + 1000, the real data set's sizes.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    train, test = SIZES[size]
    return generate_cifar(out_dir, seed, train_per_class=train, test_per_class=test)


def training_data(data_dir: Path | str, heldout_dir: Path | str) -> Any:
    """The training check's data (`grader.checks.training.TrainingData`).

    Training: ``data_dir``'s train split; the stopping rule's statistics: ``data_dir``'s test
    split (whose labels the child could read anyway); the threshold: ``heldout_dir``'s test
    split (generated from the grading seed). Images scaled to [0, 1] and normalised with the
    per-channel mean and (population) std of the training images, computed here; N×3×32×32
    float32.
    """
    from grader.checks.training import TrainingData

    return TrainingData.from_images(
        load_batches(data_dir, "train"), load_batches(data_dir, "test"), load_batches(heldout_dir, "test")
    )
