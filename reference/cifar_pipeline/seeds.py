"""Reproducibility: seeding every random generator, and robustness over random seeds."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, numpy's global generator and torch (CPU and every CUDA device)
    with `seed`, so that the same seed gives the same initial weights, the same shuffled batch
    order and the same augmentations."""
    # BEGIN SOLUTION
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    # END SOLUTION


def seed_robustness(
    make_model: Callable[[], Any], seeds: Sequence[int], run: Callable[[Any], float]
) -> tuple[list[float], float, float]:
    """Train and test one fresh model per seed; return `(accuracies, mean, std)`.

    For each seed in order: `seed_everything(seed)`, then `model = make_model()`, then
    `run(model)` gives that seed's test accuracy. `accuracies` lists them in the order of
    `seeds`; `mean` is their mean and `std` their **population** standard deviation (divided
    by the number of seeds, numpy's `np.std` default; 0.0 for a single seed). All floats.
    """
    # BEGIN SOLUTION
    accuracies = []
    for seed in seeds:
        seed_everything(seed)
        model = make_model()
        accuracies.append(float(run(model)))
    values = np.asarray(accuracies, dtype=np.float64)
    return accuracies, float(values.mean()), float(values.std())
    # END SOLUTION
