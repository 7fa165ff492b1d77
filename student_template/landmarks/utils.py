"""Plotting of training curves and Grad-CAM overlays (provided code).

matplotlib is imported on first use, with the non-interactive Agg backend, so that importing
this module is cheap and works without a display.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

_NAMES = ("Validation", "Train", "Test")
_METRICS = ("Accuracy", "Loss", "AUROC")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def make_training_plot(name: str = "CNN Training") -> Any:
    """A figure with three panels (accuracy, loss, AUROC); returns the axes."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(20, 5))
    fig.suptitle(name)
    for ax, metric in zip(axes, _METRICS, strict=True):
        ax.set_xlabel("Epoch")
        ax.set_ylabel(metric)
    return axes


def update_training_plot(axes: Any, epoch: int, stats: Sequence[Sequence[float]]) -> None:
    """Redraw the curves of `stats` (one entry per epoch, as in ``train_common``)."""
    data = np.asarray(stats, dtype=np.float64)
    n_sets = data.shape[1] // 3
    epochs = np.arange(len(data))
    colors = ("r", "b", "g")
    for m, ax in enumerate(axes):
        ax.clear()
        for i in range(n_sets):
            ax.plot(epochs, data[:, 3 * i + m], linestyle="--", marker="o", color=colors[i])
        ax.legend(list(_NAMES[:n_sets]))
        ax.set_xlabel("Epoch")
        ax.set_ylabel(_METRICS[m])


def save_training_plot(axes: Any, path: str | os.PathLike[str]) -> None:
    """Write the figure holding `axes` to `path`."""
    fig = np.asarray(axes).ravel()[0].figure
    fig.savefig(path, dpi=100)


def hold_training_plot(axes: Any) -> None:
    """Close the training figure (the Agg backend has no window to keep open)."""
    plt = _plt()
    plt.close(np.asarray(axes).ravel()[0].figure)


def save_gradcam_overlay(
    image: np.ndarray, heatmap: np.ndarray, path: str | os.PathLike[str], title: str = ""
) -> None:
    """Save `image` (H×W×3, values in [0, 1] or uint8) side by side with `heatmap` on top."""
    plt = _plt()
    img = np.asarray(image, dtype=np.float64)
    if img.max() > 1.0:
        img = img / 255.0
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    axes[0].imshow(np.clip(img, 0, 1))
    axes[0].set_title("image")
    axes[1].imshow(np.clip(img, 0, 1))
    axes[1].imshow(np.asarray(heatmap), cmap="jet", alpha=0.5, vmin=0.0, vmax=1.0)
    axes[1].set_title(title or "Grad-CAM")
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
