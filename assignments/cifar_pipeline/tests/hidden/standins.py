"""The grader's pieces of the training check, and stand-ins for networks that already lost
points (hidden: not in what students get beforehand; at grading time the training check loads
this file into the child with `student.ship(standins)`, where student code could read it, so
nothing here is secret).

The training epoch and the optimizer are the grader's own: the training part judges the
networks, not your loop (that is `train_loop`'s part). The network stand-ins are deliberately
not the handout's (different widths, one hidden layer fewer), so they reveal nothing of MyNet.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

LEARNING_RATE = 2e-3


class SmallNet(nn.Module):
    """Stand-in for 3×32×32 images: three 3×3 convolutions (with batch norm when
    `regularized`) and max pooling, then a linear head (after dropout when `regularized`)."""

    def __init__(self, regularized: bool = False, num_classes: int = 10) -> None:
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(3, 24, 3, padding=1), nn.Conv2d(24, 48, 3, padding=1), nn.Conv2d(48, 48, 3, padding=1)])
        self.norms = nn.ModuleList([nn.BatchNorm2d(c) if regularized else nn.Identity() for c in (24, 48, 48)])
        self.drop = nn.Dropout(0.5) if regularized else nn.Identity()
        self.head = nn.Linear(48 * 4 * 4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """conv, (batch norm,) ReLU, 2×2 max pooling, three times; flatten; (dropout;) a linear head."""
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = F.max_pool2d(F.relu(norm(conv(x))), 2)
        return self.head(self.drop(x.flatten(1)))


def evaluate(model: nn.Module, loader: Any, loss_fn: Any) -> tuple[float, float]:
    """The grader's `evaluate`, put in place of yours while the hidden tests run your `train`,
    so that `train` is judged on its own (the `evaluate` part judges yours)."""
    was_training = model.training
    model.eval()
    total, correct, count = 0.0, 0, 0
    try:
        with torch.no_grad():
            for x, y in loader:
                logits = model(x)
                total += float(loss_fn(logits, y)) * len(y)
                correct += int((logits.argmax(dim=1) == y).sum())
                count += len(y)
    finally:
        model.train(was_training)
    return total / count, correct / count


def train_epoch(loader: Any, model: nn.Module, criterion: Any, optimizer: torch.optim.Optimizer) -> None:
    """The grader's training epoch: train mode; zero_grad, forward, loss, backward, step per batch."""
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


def adam(model: nn.Module) -> torch.optim.Optimizer:
    """The grader's optimizer: Adam, learning rate `LEARNING_RATE`."""
    return torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
