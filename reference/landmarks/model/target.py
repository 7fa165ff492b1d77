"""The target-task CNN (TODO): three conv layers and one fully connected layer, 2 outputs."""

from __future__ import annotations

from math import sqrt

import torch
import torch.nn.functional as F
from torch import nn


class Target(nn.Module):
    """A CNN for 3×64×64 images with 2 outputs (39,754 learnable parameters).

    - ``conv1``: 16 filters 5×5, stride 2, padding 2 → ReLU → max-pool 2×2 stride 2 (``pool``)
    - ``conv2``: 64 filters 5×5, stride 2, padding 2 → ReLU → max-pool 2×2 stride 2
    - ``conv3``: 8 filters 5×5, stride 2, padding 2 → ReLU
    - ``fc_1``: flatten (8·2·2 = 32) → 2
    """

    def __init__(self) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.conv1 = nn.Conv2d(3, 16, kernel_size=5, stride=2, padding=2)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(16, 64, kernel_size=5, stride=2, padding=2)
        self.conv3 = nn.Conv2d(64, 8, kernel_size=5, stride=2, padding=2)
        self.fc_1 = nn.Linear(32, 2)
        self.init_weights()
        # END SOLUTION
        # BEGIN PROMPT
        # Define self.conv1, self.pool, self.conv2, self.conv3 and self.fc_1 here,
        # then call self.init_weights().
        # END PROMPT

    def init_weights(self) -> None:
        """Initialise every parameter.

        Conv weights ~ N(0, σ = 1/√(5·5·C_in)) where C_in is the layer's number of input
        channels; fc_1 weight ~ N(0, σ = 1/√fan_in) with fan_in = 32; all biases = 0.
        """
        # BEGIN SOLUTION
        for conv in (self.conv1, self.conv2, self.conv3):
            c_in = conv.weight.size(1)
            nn.init.normal_(conv.weight, 0.0, 1 / sqrt(5 * 5 * c_in))
            nn.init.constant_(conv.bias, 0.0)
        fan_in = self.fc_1.weight.size(1)
        nn.init.normal_(self.fc_1.weight, 0.0, 1 / sqrt(fan_in))
        nn.init.constant_(self.fc_1.bias, 0.0)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch N×3×64×64 to logits N×2."""
        # BEGIN SOLUTION
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = F.relu(self.conv3(x))
        x = torch.flatten(x, start_dim=1)
        return self.fc_1(x)
        # END SOLUTION
