"""Small networks and criteria the landmarks tests build in the child and, as twins, here.

Tests ship this file into the child (`student.ship(nets)`) and import it in the grading
process (`from assignments.landmarks import nets`), so both sides build from one definition:
the child's object is handed to student code, the local twin computes what to expect. Nothing
here is a solution: these are stand-ins with the layer names the handout uses.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FreezeNet(nn.Module):
    """A small network with Target's attribute names (conv1, conv2, conv3, fc_1) for 8×8 inputs."""

    def __init__(self, seed: int = 0, widths: tuple[int, int, int] = (4, 4, 4)) -> None:
        super().__init__()
        torch.manual_seed(seed)
        a, b, c = widths
        self.conv1 = nn.Conv2d(3, a, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(a, b, 3, padding=1)
        self.conv3 = nn.Conv2d(b, c, 3, padding=1)
        self.fc_1 = nn.Linear(c * 2 * 2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """conv1 → ReLU → pool → conv2 → ReLU → pool → conv3 → ReLU → flatten → fc_1."""
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = F.relu(self.conv3(x))
        return self.fc_1(torch.flatten(x, 1))


class GradcamNet(nn.Module):
    """A small CNN ending in global average pooling: Grad-CAM's usual setting."""

    def __init__(self, seed: int = 0, num_classes: int = 3) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 5, 3, stride=2, padding=1)
        self.fc = nn.Linear(5, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """conv1 → ReLU → conv2 → ReLU → mean over space → fc."""
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.fc(x.mean(dim=(2, 3)))


def weighted_criterion() -> nn.Module:
    """Cross-entropy with class weights: a loop must use the criterion it is given."""
    return nn.CrossEntropyLoss(weight=torch.tensor([0.3, 1.0, 2.0]))
