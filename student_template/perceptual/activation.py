"""A custom activation function with its own backward pass (TODO: forward and backward).

    f(x) = x²      for x > 0          f'(x) = 2x    for x > 0
    f(x) = 0.2·x   for x < 0          f'(x) = 0.2   for x < 0
    f(0) = 0                          f'(0) = 0     (exactly: not 0.2, not a one-sided limit)

`CustomActivation` is an `nn.Module` whose forward calls `CustomActivationFunction.apply`, a
`torch.autograd.Function`: write its `forward` and its `backward` yourself (autograd does not
differentiate through them). It works element-wise on tensors of any shape and floating dtype,
keeps shape and dtype, and never changes its input in place.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

NEGATIVE_SLOPE = 0.2


class CustomActivationFunction(torch.autograd.Function):
    """f(x) = x² (x > 0), 0.2·x (x < 0), 0 at 0, with the derivative written by hand."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        """f(x) element-wise; save what backward needs with `ctx.save_for_backward`."""
        # TODO: implement CustomActivationFunction.forward
        raise NotImplementedError("CustomActivationFunction.forward: TODO")

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        """The gradient with respect to x: grad_output · f'(x), with f'(0) = 0."""
        # TODO: implement CustomActivationFunction.backward
        raise NotImplementedError("CustomActivationFunction.backward: TODO")


class CustomActivation(nn.Module):
    """The activation as a layer: `CustomActivation()(x)`; no parameters."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) through `CustomActivationFunction`."""
        return CustomActivationFunction.apply(x)
