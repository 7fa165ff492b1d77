"""Training curves (provided code).

matplotlib is imported on first use with the non-interactive Agg backend, so importing this
module is cheap and works without a display.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

_METRICS = ("Accuracy", "Loss")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_training_plot(stats: Sequence[Sequence[float]], path: str | os.PathLike[str], title: str = "Training") -> None:
    """Plot accuracy and loss per epoch for train and val (`stats` rows:
    ``[train_acc, train_loss, val_acc, val_loss]``) and save the figure to `path`."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    fig.suptitle(title)
    epochs = list(range(1, len(stats) + 1))
    for i, (ax, metric) in enumerate(zip(axes, _METRICS, strict=True)):
        ax.plot(epochs, [s[i] for s in stats], "--o", label="Train")
        ax.plot(epochs, [s[2 + i] for s in stats], "--o", label="Validation")
        ax.set_xlabel("Epoch")
        ax.set_ylabel(metric)
        ax.legend()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
