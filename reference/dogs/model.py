"""The breed classifier of the handout's Appendix A (TODO: layers, initialisation, forward).

| layer | filters / units | kernel, stride, padding | activation | weight init           | output   |
| ----- | --------------- | ----------------------- | ---------- | --------------------- | -------- |
| conv1 | 16              | 5×5, 2, 2               | ReLU       | N(0, σ² = 2/(5·5·3))  | 16×16×16 |
| conv2 | 32              | 5×5, 2, 2               | ReLU       | N(0, σ² = 2/(5·5·16)) | 32×8×8   |
| conv3 | 64              | 5×5, 2, 2               | ReLU       | N(0, σ² = 2/(5·5·32)) | 64×4×4   |
| conv4 | 128             | 5×5, 2, 2               | ReLU       | N(0, σ² = 2/(5·5·64)) | 128×2×2  |
| fc1   | 64              | —                       | ReLU       | N(0, σ² = 1/256)      | 64       |
| fc2   | 5               | —                       | none       | N(0, σ² = 1/32)       | 5        |

All biases are 0. The input is a batch of 3×32×32 images; the output, 5 logits per image.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    """Four strided 5×5 convolutions and two fully connected layers: 303,397 parameters."""

    def __init__(self) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.conv1 = nn.Conv2d(3, 16, kernel_size=5, stride=2, padding=2)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5, stride=2, padding=2)
        self.conv3 = nn.Conv2d(32, 64, kernel_size=5, stride=2, padding=2)
        self.conv4 = nn.Conv2d(64, 128, kernel_size=5, stride=2, padding=2)
        self.fc1 = nn.Linear(128 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 5)
        # END SOLUTION
        # BEGIN PROMPT
        # Define conv1..conv4, fc1 and fc2 as in the table (these names: the tests use them).
        # END PROMPT
        self.init_weights()

    def init_weights(self) -> None:
        """Weights from N(0, σ²) as in the table (σ² is a *variance*); biases 0."""
        # BEGIN SOLUTION
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
            nn.init.normal_(conv.weight, 0.0, math.sqrt(2.0 / fan_in))
            nn.init.zeros_(conv.bias)
        nn.init.normal_(self.fc1.weight, 0.0, math.sqrt(1.0 / 256))
        nn.init.zeros_(self.fc1.bias)
        nn.init.normal_(self.fc2.weight, 0.0, math.sqrt(1.0 / 32))
        nn.init.zeros_(self.fc2.bias)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×32×32 images → N×5 logits: conv1..conv4 with ReLU, flatten, fc1 with ReLU, fc2."""
        # BEGIN SOLUTION
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        x = F.relu(self.conv4(x))
        x = F.relu(self.fc1(x.flatten(start_dim=1)))
        return self.fc2(x)
        # END SOLUTION


def count_parameters(model: nn.Module) -> int:
    """The number of learnable (requires_grad) float values of `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


if __name__ == "__main__":
    print(f"Net: {count_parameters(Net())} learnable parameters (the handout says 303,397)")
