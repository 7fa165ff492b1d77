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
    # BEGIN SOLUTION
    modules = dict(model.named_modules())
    captured: dict[str, torch.Tensor] = {}
    handles = []
    for name in layer_names:

        def hook(_module: nn.Module, _inputs: Any, output: torch.Tensor, name: str = name) -> None:
            captured[name] = output.detach().clone()

        handles.append(modules[name].register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return captured
    # END SOLUTION


def class_activation_map(features: torch.Tensor, fc_weight: torch.Tensor, class_idx: int) -> torch.Tensor:
    """CAM for class `class_idx`: Σ_k w_k · f_k, with features f (K×H×W) from the last
    convolution of a network ending in global average pooling + a linear layer of weights
    `fc_weight` (C×K). Returns an H×W tensor."""
    # BEGIN SOLUTION
    return torch.einsum("k,khw->hw", fc_weight[class_idx], features)
    # END SOLUTION


def guided_backprop(model: nn.Module, x: torch.Tensor, target_class: int) -> torch.Tensor:
    """The saliency of `x` (its shape) for `target_class`: the gradient of the class's logit
    (summed over the batch) with respect to `x`, where every ``nn.ReLU`` of the model passes
    back only positive gradients (and only where its input was positive).

    In eval mode. The model is left as it was: its ReLUs, hooks, mode and parameter
    gradients (none).
    """
    # BEGIN SOLUTION
    handles = []
    for module in model.modules():
        if isinstance(module, nn.ReLU):

            def guide(_m: nn.Module, grad_in: tuple[torch.Tensor, ...], _grad_out: Any) -> tuple[torch.Tensor, ...]:
                return (torch.clamp(grad_in[0], min=0.0),)

            handles.append(module.register_full_backward_hook(guide))
    was_training = model.training
    x = x.detach().clone().requires_grad_(True)
    try:
        model.eval()
        model(x)[:, target_class].sum().backward()
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
        model.zero_grad(set_to_none=True)
    return x.grad.detach()
    # END SOLUTION


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
    # BEGIN SOLUTION
    w = np.asarray(torch.as_tensor(weight).detach().cpu(), dtype=np.float64)
    images = [_normalised(f.transpose(1, 2, 0)) if f.shape[0] == 3 else _normalised(f[0]) for f in w]
    return _save_grid(images, path, cmap=None if w.shape[1] == 3 else "gray")
    # END SOLUTION
    # BEGIN PROMPT
    # Make one image per filter (normalised to [0, 1] with _normalised; K×K×3 when C = 3) and
    # hand them to _save_grid.
    # END PROMPT


def plot_feature_maps(maps: torch.Tensor | np.ndarray, path: str | os.PathLike[str]) -> tuple[int, int]:
    """Save a grid of K feature maps (K×H×W) as a PNG of 150·cols × 150·rows pixels; returns
    (rows, cols)."""
    # BEGIN SOLUTION
    m = np.asarray(torch.as_tensor(maps).detach().cpu(), dtype=np.float64)
    return _save_grid([_normalised(a) for a in m], path, cmap="viridis")
    # END SOLUTION


def show(model: nn.Module, x: torch.Tensor, names: Mapping[str, str], out_dir: str | os.PathLike[str]) -> None:
    """Save the first conv layer's filters and the feature maps of `names` for one image."""
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    plot_filters(first.weight, os.path.join(out_dir, "filters.png"))
    maps = feature_maps(model, x[:1], list(names))
    for name, title in names.items():
        plot_feature_maps(maps[name][0], os.path.join(out_dir, f"maps_{title}.png"))
