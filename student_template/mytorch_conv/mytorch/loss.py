"""The mean squared error loss in numpy (TODO: forward and backward)."""

from __future__ import annotations

import numpy as np


class MSELoss:
    """L = mean over every element of (A − Y)²."""

    def forward(self, A: np.ndarray, Y: np.ndarray) -> float:
        """The loss of predictions `A` against targets `Y` (same shape); keeps what backward needs."""
        # TODO: implement MSELoss.forward
        raise NotImplementedError("MSELoss.forward: TODO")

    def backward(self) -> np.ndarray:
        """dL/dA for the last ``forward`` (A's shape)."""
        # TODO: implement MSELoss.backward
        raise NotImplementedError("MSELoss.backward: TODO")
