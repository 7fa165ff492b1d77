"""Stand-ins for pieces that already lost points in their own parts, and the grader's own
pieces of the imbalance check (hidden: not in what students get beforehand; at grading time
the training checks load this file into the child with `student.ship(standins)`, where student
code could read it, so nothing here is secret).

The model stand-in is deliberately *not* the handout's Net (a different small network), so a
submission whose architecture lost points still has its training judged, and nothing here
reveals Net's solution. The criterion and optimizer are the textbook ones the handout names.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SmallNet(nn.Module):
    """A model stand-in for 3×32×32 images: three 3×3 convolutions with max pooling and one
    linear layer (not the handout's Net)."""

    def __init__(self, num_classes: int = 5) -> None:
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


def criterion() -> nn.Module:
    """Plain cross-entropy."""
    return nn.CrossEntropyLoss()


def weighted_criterion() -> nn.Module:
    """Cross-entropy weighing cat 1 and dog 20, as the handout specifies."""
    return nn.CrossEntropyLoss(weight=torch.tensor([1.0, 20.0]))


def sgd(model: nn.Module, lr: float, momentum: float) -> torch.optim.Optimizer:
    """SGD with only `lr` and `momentum` set."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
