"""The stand-in for a LeNetStyle whose architecture already lost points (hidden: not in what
students get beforehand; at grading time the training check loads this file into the child
with `student.ship(standins)`, where student code could read it, so nothing here is secret).

Deliberately different from the handout's networks (no batch norm, no dropout, one linear
layer), so it reveals nothing of the solution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SmallNet(nn.Module):
    """Three 3×3 convolutions with max pooling and a linear head, for 3×32×32 images."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv_a = nn.Conv2d(3, 16, 3, padding=1)
        self.conv_b = nn.Conv2d(16, 32, 3, padding=1)
        self.conv_c = nn.Conv2d(32, 32, 3, padding=1)
        self.head = nn.Linear(32 * 4 * 4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """conv, ReLU, 2×2 max pooling, three times; flatten; a linear head."""
        for conv in (self.conv_a, self.conv_b, self.conv_c):
            x = F.max_pool2d(F.relu(conv(x)), 2)
        return self.head(x.flatten(1))
