"""How the networks see: feature maps, class activation maps, guided backpropagation, plots
(TODO: all but the grid helpers `grid_shape`, `_save_grid` and `_normalised`)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn


def feature_maps(model: nn.Module, x: torch.Tensor, layer_names: Sequence[str]) -> dict[str, torch.Tensor]:
    """The output of each named submodule (``dict(model.named_modules())[name]``) on `x`.

    Captured with forward hooks, in eval mode and without gradients; every hook is removed
    afterwards (even if the forward pass fails) and the model's mode is restored. Returns
    name → the module's output tensor, detached, exactly as the module gave it (the output of
    a convolution is taken before any ReLU that follows it).
    """
    # TODO: implement feature_maps
    raise NotImplementedError("feature_maps: TODO")


def class_activation_map(features: torch.Tensor, fc_weight: torch.Tensor, class_idx: int) -> torch.Tensor:
    """CAM for class `class_idx`: Σ_k w_k · f_k, with features f (K×H×W) from the last
    convolution of a network ending in global average pooling + a linear layer of weights
    `fc_weight` (C×K). Returns an H×W tensor."""
    # TODO: implement class_activation_map
    raise NotImplementedError("class_activation_map: TODO")


def guided_backprop(model: nn.Module, x: torch.Tensor, target_class: int) -> torch.Tensor:
    """The saliency of `x` (its shape) for `target_class`: the gradient of the class's logit
    (summed over the batch) with respect to `x`, where every ``nn.ReLU`` of the model passes
    back only positive gradients (and only where its input was positive).

    In eval mode. The model is left as it was: its ReLUs, hooks, mode and parameter
    gradients (none).
    """
    # TODO: implement guided_backprop
    raise NotImplementedError("guided_backprop: TODO")


# ---------------------------------------------------------------------- plots (the grid is provided)

CELL_INCHES = 1.5
DPI = 100


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of the smallest near-square grid with n cells: cols = ⌈√n⌉."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols


def _save_grid(images: Sequence[np.ndarray], path: str | os.PathLike[str], cmap: str | None) -> tuple[int, int]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = grid_shape(len(images))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * CELL_INCHES, rows * CELL_INCHES), dpi=DPI, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img in zip(axes.flat, images, strict=False):
        ax.imshow(img, cmap=cmap)
    fig.savefig(path, dpi=DPI, format="png")
    plt.close(fig)
    return rows, cols


def _normalised(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def plot_filters(weight: torch.Tensor | np.ndarray, path: str | os.PathLike[str]) -> tuple[int, int]:
    """Save a grid of a conv layer's O filters (O×C×K×K; RGB when C = 3, else channel 0) as a
    PNG of 150·cols × 150·rows pixels; returns (rows, cols)."""
    # Make one image per filter (normalised to [0, 1] with _normalised; K×K×3 when C = 3) and
    # hand them to _save_grid.
    raise NotImplementedError("plot_filters: TODO")


def plot_feature_maps(maps: torch.Tensor | np.ndarray, path: str | os.PathLike[str]) -> tuple[int, int]:
    """Save a grid of K feature maps (K×H×W) as a PNG of 150·cols × 150·rows pixels; returns
    (rows, cols)."""
    # TODO: implement plot_feature_maps
    raise NotImplementedError("plot_feature_maps: TODO")


def show(model: nn.Module, x: torch.Tensor, names: Mapping[str, str], out_dir: str | os.PathLike[str]) -> None:
    """Save the first conv layer's filters and the feature maps of `names` for one image."""
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    plot_filters(first.weight, os.path.join(out_dir, "filters.png"))
    maps = feature_maps(model, x[:1], list(names))
    for name, title in names.items():
        plot_feature_maps(maps[name][0], os.path.join(out_dir, f"maps_{title}.png"))
