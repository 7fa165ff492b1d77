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
        # Define conv1, conv2, conv3, fc1 and fc2 as in the table (these names: the tests use them).

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×32×32 images → N×10 logits."""
        # TODO: implement MyNet.forward
        raise NotImplementedError("MyNet.forward: TODO")


class MyNetRegularized(nn.Module):
    """MyNet without biases, with batch normalisation after each conv and dropout: 540,696 parameters."""

    def __init__(self) -> None:
        super().__init__()
        # Define conv1..conv3, bn1..bn3, fc1, fc2 (no biases) and self.dropout = nn.Dropout(0.5).

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×32×32 images → N×10 logits; dropout is active in train mode only."""
        # TODO: implement MyNetRegularized.forward
        raise NotImplementedError("MyNetRegularized.forward: TODO")


def count_parameters(model: nn.Module) -> int:
    """The number of learnable (requires_grad) values of `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


if __name__ == "__main__":
    for net in (MyNet(), MyNetRegularized()):
        print(f"{type(net).__name__}: {count_parameters(net)} learnable parameters")
