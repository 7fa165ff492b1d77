"""The grader's own pieces for the hidden activation and gradcam tests, shipped into the child
with `student.ship(standins)` (so nothing here is secret: student code could read it).

`SmallResNet` is a stand-in residual network, deliberately *not* the handout's ResNet36 or
ResidualBlock3 (one two-conv block, no batch norm): the activation and Grad-CAM tests need a
residual model, and using the student's own ResNet36 would make a bug there cost points in
those parts too. Self-contained: torch only.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class TwoConvBlock(nn.Module):
    """conv → act → conv, plus the input, then act (the same activation module each time)."""

    def __init__(self, channels: int, act: nn.Module) -> None:
        super().__init__()
        self.conv_a = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_b = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same shape in and out."""
        return self.act(self.conv_b(self.act(self.conv_a(x))) + x)


class SmallResNet(nn.Module):
    """stem conv (3 → 4) → act → TwoConvBlock → global average pooling → fc (4 → 3), seeded;
    `act` is any activation module (ReLU when None)."""

    def __init__(self, act: Any = None, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        act = nn.ReLU() if act is None else act
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.act = act
        self.block = TwoConvBlock(4, act)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)
        with torch.no_grad():
            for conv in (self.stem, self.block.conv_a, self.block.conv_b):
                conv.weight.mul_(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W → N×3."""
        return self.fc(torch.flatten(self.pool(self.block(self.act(self.stem(x)))), 1))


def vjp_after_another_call(module: Any, x1: torch.Tensor, x2: torch.Tensor, grad_output: torch.Tensor) -> Any:
    """The gradient of sum(module(x1) · grad_output) w.r.t. x1, taken after module(x2) ran too."""
    x1 = x1.detach().clone().requires_grad_(True)
    y1 = module(x1)
    module(x2.detach().clone().requires_grad_(True))
    if not isinstance(y1, torch.Tensor) or not y1.requires_grad:
        return None
    (grad,) = torch.autograd.grad(y1, x1, grad_output.to(y1.dtype), allow_unused=True)
    return grad
