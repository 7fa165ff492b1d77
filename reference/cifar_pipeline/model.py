"""The CNNs of the pipeline (TODO): `MyNet` and its regularised twin `MyNetRegularized`.

Input: a batch of N×3×32×32 images; output: N×10 logits. Every convolution is 3×3 with
padding 1 (it keeps the size), every pooling ``max_pool2d`` with kernel 2 and stride 2.

| layer | MyNet                     | output   | MyNetRegularized (no biases anywhere)      |
| ----- | ------------------------- | -------- | ------------------------------------------ |
| conv1 | Conv2d(3, 16, 3, pad 1)   | 16×32×32 | conv1 (bias=False), bn1 = BatchNorm2d(16)  |
|       | ReLU, max-pool 2          | 16×16×16 | ReLU, max-pool 2                           |
| conv2 | Conv2d(16, 32, 3, pad 1)  | 32×16×16 | conv2 (bias=False), bn2 = BatchNorm2d(32)  |
|       | ReLU, max-pool 2          | 32×8×8   | ReLU, max-pool 2                           |
| conv3 | Conv2d(32, 64, 3, pad 1)  | 64×8×8   | conv3 (bias=False), bn3 = BatchNorm2d(64)  |
|       | ReLU, max-pool 2          | 64×4×4   | ReLU, max-pool 2                           |
|       | flatten                   | 1024     | flatten, Dropout(0.5)                      |
| fc1   | Linear(1024, 500), ReLU   | 500      | fc1 (bias=False), ReLU, Dropout(0.5)       |
| fc2   | Linear(500, 10)           | 10       | fc2 (bias=False)                           |

In MyNetRegularized each batch norm comes right after its convolution, before the ReLU:
conv → bn → ReLU → pool.

MyNet has 541,094 learnable parameters, MyNetRegularized 540,696.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MyNet(nn.Module):
    """Three conv → ReLU → max-pool blocks and two fully connected layers: 541,094 parameters."""

    def __init__(self) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(64 * 4 * 4, 500)
        self.fc2 = nn.Linear(500, 10)
        # END SOLUTION
        # BEGIN PROMPT
        # Define conv1, conv2, conv3, fc1 and fc2 as in the table (these names: the tests use them).
        # END PROMPT

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×32×32 images → N×10 logits."""
        # BEGIN SOLUTION
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.max_pool2d(F.relu(self.conv3(x)), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)
        # END SOLUTION


class MyNetRegularized(nn.Module):
    """MyNet without biases, with batch normalisation after each conv and dropout: 540,696 parameters."""

    def __init__(self) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.conv3 = nn.Conv2d(32, 64, kernel_size=3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 4 * 4, 500, bias=False)
        self.fc2 = nn.Linear(500, 10, bias=False)
        self.dropout = nn.Dropout(0.5)
        # END SOLUTION
        # BEGIN PROMPT
        # Define conv1..conv3, bn1..bn3, fc1, fc2 (no biases) and self.dropout = nn.Dropout(0.5).
        # END PROMPT

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×32×32 images → N×10 logits; dropout is active in train mode only."""
        # BEGIN SOLUTION
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2)
        x = self.dropout(torch.flatten(x, 1))
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)
        # END SOLUTION


def count_parameters(model: nn.Module) -> int:
    """The number of learnable (requires_grad) values of `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


if __name__ == "__main__":
    for net in (MyNet(), MyNetRegularized()):
        print(f"{type(net).__name__}: {count_parameters(net)} learnable parameters")
