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
        # Define self.conv1, self.pool, self.conv2, self.conv3 and self.fc1 here,
        # then call self.init_weights().

    def init_weights(self) -> None:
        """Initialise every parameter.

        Conv weights ~ N(0, σ = 1/√(5·5·C_in)); fc1 weight ~ N(0, σ = 1/√fan_in) with
        fan_in = 32; all biases = 0.
        """
        # TODO: implement Source.init_weights
        raise NotImplementedError("Source.init_weights: TODO")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch N×3×64×64 to logits N×8."""
        # TODO: implement Source.forward
        raise NotImplementedError("Source.forward: TODO")
