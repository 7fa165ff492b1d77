"""Grad-CAM: where a network looks when it picks a class (TODO: hooks, the map, cleaning up).

For a batch x (N×C×H×W), the class c_n of each image (`class_idx`, or the largest logit when
it is None) and the output A (N×K×h×w) of `target_layer`:

    α[n, k]  = mean over (i, j) of ∂ logit[n, c_n] / ∂ A[n, k, i, j]
    cam[n]   = ReLU(Σ_k α[n, k] · A[n, k])                        (h×w)
    up[n]    = bilinear resize of cam[n] to H×W (`F.interpolate`, align_corners=False)
    map[n]   = (up[n] − min up[n]) / (max up[n] − min up[n])       (all zeros when max = min)

The model's parameters and mode are left as they are; the forward hook on `target_layer` is
removed by `close()`, also when the object is used as a context manager (`with GradCAM(...)`).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class GradCAM:
    """Grad-CAM maps of `model` at `target_layer` (a submodule of `model`)."""

    def __init__(self, model: nn.Module, target_layer: nn.Module) -> None:
        self.model = model
        self.target_layer = target_layer
        # TODO

    def _keep_activations(self, _module: nn.Module, _inputs: Any, output: torch.Tensor) -> None:
        """A forward hook: remember the target layer's output."""
        # TODO: implement GradCAM._keep_activations
        raise NotImplementedError("GradCAM._keep_activations: TODO")

    def __call__(self, x: torch.Tensor, class_idx: int | None = None) -> torch.Tensor:
        """N×H×W maps in [0, 1], one per image of the N×C×H×W batch `x` (the formula above)."""
        # TODO: implement GradCAM.__call__
        raise NotImplementedError("GradCAM.__call__: TODO")

    def close(self) -> None:
        """Remove every hook this object registered."""
        # TODO: implement GradCAM.close
        raise NotImplementedError("GradCAM.close: TODO")

    def __enter__(self) -> GradCAM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
