"""Two CNNs for 3×32×32 CIFAR-10 images (TODO: both).

- ``LeNetStyle``: convolutions followed by fully connected layers, with at least one
  ``nn.BatchNorm2d`` (or 1d) and one ``nn.Dropout``.
- ``NiNStyle``: "network in network" blocks (a spatial convolution followed by two 1×1
  convolutions, ReLU after each), ending with global average pooling
  (``nn.AdaptiveAvgPool2d(1)``); no ``nn.Linear`` anywhere: the last block has one channel per
  class.

Both map N×3×32×32 images to N×num_classes logits. Use ``nn.ReLU`` modules (not
``F.relu``), so that ``interpret.guided_backprop`` can find them.
"""

from __future__ import annotations

import torch
from torch import nn


class LeNetStyle(nn.Module):
    """conv-BN-ReLU-pool twice, then dropout and two fully connected layers."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, num_classes),
        )  # fmt: skip
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×32×32 → N×num_classes logits."""
        # BEGIN SOLUTION
        return self.classifier(self.features(x))
        # END SOLUTION


def nin_block(in_channels: int, out_channels: int, kernel_size: int, padding: int, last_relu: bool = True) -> nn.Sequential:
    """A spatial convolution and two 1×1 convolutions, each followed by a ReLU (the last one
    optional: a network's final block gives logits)."""
    # BEGIN SOLUTION
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 1),
    ]  # fmt: skip
    if last_relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)
    # END SOLUTION


class NiNStyle(nn.Module):
    """Three NiN blocks (max pooling between them), then global average pooling."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nin_block(3, 32, 5, 2), nn.MaxPool2d(2),
            nin_block(32, 64, 3, 1), nn.MaxPool2d(2),
            nin_block(64, num_classes, 3, 1, last_relu=False),
        )  # fmt: skip
        self.gap = nn.AdaptiveAvgPool2d(1)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×32×32 → N×num_classes logits (the class maps, averaged)."""
        # BEGIN SOLUTION
        return torch.flatten(self.gap(self.features(x)), 1)
        # END SOLUTION
