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
        # TODO

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×32×32 → N×num_classes logits."""
        # TODO: implement LeNetStyle.forward
        raise NotImplementedError("LeNetStyle.forward: TODO")


def nin_block(in_channels: int, out_channels: int, kernel_size: int, padding: int, last_relu: bool = True) -> nn.Sequential:
    """A spatial convolution and two 1×1 convolutions, each followed by a ReLU (the last one
    optional: a network's final block gives logits)."""
    # TODO: implement nin_block
    raise NotImplementedError("nin_block: TODO")


class NiNStyle(nn.Module):
    """Three NiN blocks (max pooling between them), then global average pooling."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        # TODO

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×32×32 → N×num_classes logits (the class maps, averaged)."""
        # TODO: implement NiNStyle.forward
        raise NotImplementedError("NiNStyle.forward: TODO")
