"""A 2-D convolution layer in numpy, without bias (TODO: forward and backward).

Shapes: the input A is N×C_in×H×W; the weights W are C_out×C_in×K×K; the output Z is
N×C_out×H_out×W_out with H_out = (H + 2·padding − K) // stride + 1 (W_out alike). Like
``torch.nn.functional.conv2d``, this is a *cross-correlation*: the kernel is not flipped.

Both passes must be vectorised (no Python loop over output pixels): they are timed against
PyTorch on the same input. ``np.lib.stride_tricks.sliding_window_view`` and ``np.einsum`` (or
an im2col matrix product) are the tools.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class Conv2D:
    """Convolution with `out_channels` K×K filters over `in_channels` channels, no bias."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        weight_init_fn: Callable[[int, int, int, int], np.ndarray] | None = None,
    ) -> None:
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        if weight_init_fn is None:
            self.W = np.random.normal(0.0, 1.0, (out_channels, in_channels, kernel_size, kernel_size))
        else:
            self.W = weight_init_fn(out_channels, in_channels, kernel_size, kernel_size)
        self.dLdW = np.zeros_like(self.W)

    def forward(self, A: np.ndarray) -> np.ndarray:
        """Z = the cross-correlation of the zero-padded A with W, at the given stride.

        Keep what ``backward`` needs (e.g. A's shape, the padded input or its windows).
        """
        # BEGIN SOLUTION
        p, k, s = self.padding, self.kernel_size, self.stride
        self.input_shape = A.shape
        padded = np.pad(A, ((0, 0), (0, 0), (p, p), (p, p)))
        self.padded_shape = padded.shape
        # N×C×H_out×W_out×K×K views of the padded input, one window per output pixel
        self.windows = sliding_window_view(padded, (k, k), axis=(2, 3))[:, :, ::s, ::s]
        return np.einsum("nchwij,ocij->nohw", self.windows, self.W, optimize=True)
        # END SOLUTION

    def backward(self, dLdZ: np.ndarray) -> np.ndarray:
        """Given dL/dZ (Z's shape), store dL/dW in ``self.dLdW`` (W's shape, summed over the
        batch) and return dL/dA (A's shape)."""
        # BEGIN SOLUTION
        p, k, s = self.padding, self.kernel_size, self.stride
        self.dLdW = np.einsum("nohw,nchwij->ocij", dLdZ, self.windows, optimize=True)
        n, c, h, w = self.input_shape
        h_out, w_out = dLdZ.shape[2:]
        d_padded = np.zeros(self.padded_shape, dtype=np.result_type(dLdZ, self.W))
        # what each kernel offset (i, j) sends back to the input pixels it touched
        spread = np.einsum("nohw,ocij->ijnchw", dLdZ, self.W, optimize=True)
        for i in range(k):
            for j in range(k):
                d_padded[:, :, i : i + s * h_out : s, j : j + s * w_out : s] += spread[i, j]
        return d_padded[:, :, p : p + h, p : p + w]
        # END SOLUTION
