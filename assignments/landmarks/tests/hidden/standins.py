"""Stand-ins for pieces that already lost points in their own parts (hidden: not in what
students get beforehand; at grading time the training check loads this file into the child
with `student.ship(standins)`, where student code could read it, so nothing here is secret).

`train_epoch` and `early_stopping` are the textbook behaviour the handout writes out. The
model stand-in is deliberately *not* the handout's Target (a different small network), so a
submission whose architecture lost points still has its training pieces judged, and nothing
here reveals the Target's solution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def train_epoch(data_loader, model, criterion, optimizer):  # noqa: ANN001, ANN201 - the handout's signature
    """One epoch: zero_grad, forward, loss, backward, step per batch."""
    model.train()
    for X, y in data_loader:
        optimizer.zero_grad()
        loss = criterion(model(X), y)
        loss.backward()
        optimizer.step()


def early_stopping(stats, curr_count_to_patience, global_min_loss):  # noqa: ANN001, ANN201
    """(count, min loss) after the latest epoch's statistics [accuracy, loss, auroc]."""
    if stats[-1][1] < global_min_loss:
        return 0, stats[-1][1]
    return curr_count_to_patience + 1, global_min_loss


class SmallNet(nn.Module):
    """A model stand-in for 64×64 RGB images, two classes: not the handout's Target."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_a = nn.Conv2d(3, 12, 5, stride=2, padding=2)
        self.conv_b = nn.Conv2d(12, 16, 3, stride=2, padding=1)
        self.head = nn.Linear(16, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Two strided convolutions, global max pooling, a linear head."""
        x = F.relu(self.conv_a(x))
        x = F.relu(self.conv_b(x))
        return self.head(torch.amax(x, dim=(2, 3)))
