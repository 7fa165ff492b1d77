"""The source-task CNN (TODO): the Target's conv stack with 8 outputs."""

from __future__ import annotations

from math import sqrt

import torch
import torch.nn.functional as F
from torch import nn


class Source(nn.Module):
    """A CNN for 3×64×64 images with 8 outputs (39,952 learnable parameters).

    The same convolutional stack as ``Target`` (``conv1``, ``pool``, ``conv2``, ``conv3``,
    each conv 5×5, stride 2, padding 2, with 16, 64 and 8 filters), then ``fc1``: 32 → 8.
    """

    def __init__(self) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.conv1 = nn.Conv2d(3, 16, kernel_size=5, stride=2, padding=2)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(16, 64, kernel_size=5, stride=2, padding=2)
        self.conv3 = nn.Conv2d(64, 8, kernel_size=5, stride=2, padding=2)
        self.fc1 = nn.Linear(32, 8)
        self.init_weights()
        # END SOLUTION
        # BEGIN PROMPT
        # Define self.conv1, self.pool, self.conv2, self.conv3 and self.fc1 here,
        # then call self.init_weights().
        # END PROMPT

    def init_weights(self) -> None:
        """Initialise every parameter.

        Conv weights ~ N(0, σ = 1/√(5·5·C_in)); fc1 weight ~ N(0, σ = 1/√fan_in) with
        fan_in = 32; all biases = 0.
        """
        # BEGIN SOLUTION
        for conv in (self.conv1, self.conv2, self.conv3):
            c_in = conv.weight.size(1)
            nn.init.normal_(conv.weight, 0.0, 1 / sqrt(5 * 5 * c_in))
            nn.init.constant_(conv.bias, 0.0)
        fan_in = self.fc1.weight.size(1)
        nn.init.normal_(self.fc1.weight, 0.0, 1 / sqrt(fan_in))
        nn.init.constant_(self.fc1.bias, 0.0)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch N×3×64×64 to logits N×8."""
        # BEGIN SOLUTION
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = F.relu(self.conv3(x))
        x = torch.flatten(x, start_dim=1)
        return self.fc1(x)
        # END SOLUTION
