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
        # Define self.conv1, self.pool, self.conv2, self.conv3 and self.fc_1 here,
        # then call self.init_weights().

    def init_weights(self) -> None:
        """Initialise every parameter.

        Conv weights ~ N(0, σ = 1/√(5·5·C_in)) where C_in is the layer's number of input
        channels; fc_1 weight ~ N(0, σ = 1/√fan_in) with fan_in = 32; all biases = 0.
        """
        # TODO: implement Target.init_weights
        raise NotImplementedError("Target.init_weights: TODO")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch N×3×64×64 to logits N×2."""
        # TODO: implement Target.forward
        raise NotImplementedError("Target.forward: TODO")
