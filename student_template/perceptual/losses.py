"""Pixel distances against a perceptual distance (TODO).

A photograph and the same photograph moved by one pixel look identical to a person, yet
their pixel-wise distance can be large. A perceptual distance compares what a trained network
*sees* instead: the feature maps of a few layers of VGG-16.

No code here downloads anything: ``local_weights()`` gives VGG-16's ImageNet weights only when
their file is already in the local torch cache (``torch.hub.get_dir()/checkpoints``), else None
(a randomly initialised network; everything still runs, the distances are just not the
trained network's). To use real weights offline, copy ``vgg16-397923af.pth`` into that folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision import models
from torchvision.models import VGG16_Weights

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# After relu1_2, relu2_2, relu3_3 and relu5_3 in torchvision's numbering of vgg16().features.
LAYER_INDICES = (3, 8, 15, 29)
LOCAL = "local"


def local_weights() -> VGG16_Weights | None:
    """``VGG16_Weights.IMAGENET1K_V1`` if its file is in the local torch cache, else None."""
    weights = VGG16_Weights.IMAGENET1K_V1
    name = os.path.basename(urlparse(weights.url).path)
    return weights if (Path(torch.hub.get_dir()) / "checkpoints" / name).is_file() else None


def translate(img: Any, dx: int, dy: int) -> Any:
    """`img` moved by `dx` pixels to the right and `dy` pixels down (negative: left, up).

    `img` is an H×W×C (or H×W) numpy array, or a tensor whose last two dimensions are H×W
    (C×H×W, N×C×H×W). Pixels that nothing moves into are 0. The result has the shape and the
    dtype of `img`; `img` itself is not changed.
    """
    # TODO: implement translate
    raise NotImplementedError("translate: TODO")


def _float64(x: Any) -> np.ndarray:
    """`x` (a numpy array, a tensor, a number) as a float64 numpy array."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def mae(a: Any, b: Any) -> float:
    """Mean absolute difference of `a` and `b` over all elements, computed in float64 (so
    uint8 images do not wrap around). Numpy arrays or tensors of one shape."""
    # TODO: implement mae
    raise NotImplementedError("mae: TODO")


def mse(a: Any, b: Any) -> float:
    """Mean squared difference of `a` and `b` over all elements, computed in float64."""
    # TODO: implement mse
    raise NotImplementedError("mse: TODO")


class VGGFeatures(nn.Module):
    """The activations of VGG-16's feature stack after each layer in `layer_indices`.

    ``forward(x)`` takes images N×3×H×W with values in [0, 1], normalises them with the ImageNet
    mean and standard deviation (inside the module), runs them through the feature stack and
    returns a list of tensors: the output of layer ``i`` (that is, of ``features[: i + 1]``)
    for each ``i`` of `layer_indices`, in that order.

    The extractor is frozen: none of its parameters requires a gradient (gradients still flow
    to the input `x`), and it is always in eval mode, also after ``.train()``.

    `features` defaults to ``torchvision.models.vgg16(weights=weights).features``; any other
    ``nn.Sequential`` may be given instead (the tests give small ones).
    ``weights="local"`` means ``local_weights()``; ``None`` a randomly initialised VGG-16.
    """

    def __init__(
        self,
        layer_indices: Sequence[int] = LAYER_INDICES,
        weights: VGG16_Weights | str | None = LOCAL,
        features: nn.Sequential | None = None,
    ) -> None:
        super().__init__()
        if isinstance(weights, str) and weights == LOCAL:
            weights = local_weights()
        self.layer_indices = tuple(int(i) for i in layer_indices)
        # Keep the layers up to the last index you need, freeze every parameter, and keep
        # the ImageNet mean and std as buffers (1×3×1×1) for the normalisation.

    def train(self, mode: bool = True) -> VGGFeatures:
        """Stay in eval mode whatever `mode` says (the extractor is never trained)."""
        # TODO: implement VGGFeatures.train
        raise NotImplementedError("VGGFeatures.train: TODO")

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The feature maps after each layer of `layer_indices`, for `x` in [0, 1]."""
        # TODO: implement VGGFeatures.forward
        raise NotImplementedError("VGGFeatures.forward: TODO")


def perceptual_loss(x: torch.Tensor, y: torch.Tensor, extractor: nn.Module) -> torch.Tensor:
    """Mean over the extractor's layers of the mean squared error between the feature maps of
    `x` and of `y` (a 0-dimensional tensor, differentiable with respect to `x`)."""
    # TODO: implement perceptual_loss
    raise NotImplementedError("perceptual_loss: TODO")
