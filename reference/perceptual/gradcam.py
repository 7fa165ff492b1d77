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
        # BEGIN SOLUTION
        self._activations: torch.Tensor | None = None
        self._handles = [target_layer.register_forward_hook(self._keep_activations)]
        # END SOLUTION

    def _keep_activations(self, _module: nn.Module, _inputs: Any, output: torch.Tensor) -> None:
        """A forward hook: remember the target layer's output."""
        # BEGIN SOLUTION
        self._activations = output
        # END SOLUTION

    def __call__(self, x: torch.Tensor, class_idx: int | None = None) -> torch.Tensor:
        """N×H×W maps in [0, 1], one per image of the N×C×H×W batch `x` (the formula above)."""
        # BEGIN SOLUTION
        x = x.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            logits = self.model(x)
            acts = self._activations
            if acts is None:
                raise RuntimeError("the target layer did not run in the forward pass")
            if class_idx is None:
                index = logits.argmax(dim=1)
            else:
                index = torch.full((logits.shape[0],), int(class_idx), dtype=torch.long, device=logits.device)
            score = logits.gather(1, index[:, None]).sum()
            (grads,) = torch.autograd.grad(score, acts)
        weights = grads.mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((weights * acts.detach()).sum(dim=1, keepdim=True))
        up = F.interpolate(cam, size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)[:, 0]
        lo = up.amin(dim=(1, 2), keepdim=True)
        span = up.amax(dim=(1, 2), keepdim=True) - lo
        safe = torch.where(span > 0, span, torch.ones_like(span))
        self._activations = None
        return torch.where(span > 0, (up - lo) / safe, torch.zeros_like(up)).detach()
        # END SOLUTION

    def close(self) -> None:
        """Remove every hook this object registered."""
        # BEGIN SOLUTION
        for handle in self._handles:
            handle.remove()
        self._handles = []
        # END SOLUTION

    def __enter__(self) -> GradCAM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
