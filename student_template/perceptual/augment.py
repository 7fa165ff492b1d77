"""An augmentation: one random rectangle of the image replaced by noise (TODO).

Use it like any torchvision transform, after ``ToTensor()``::

    transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(), RandomNoiseBlock(0.3)])
"""

from __future__ import annotations

import torch


class RandomNoiseBlock:
    """Replace one random axis-aligned rectangle of an image with uniform noise.

    ``block(img)`` takes a tensor whose last two dimensions are H×W (C×H×W, or H×W) and returns
    a new tensor of the same shape and dtype; `img` itself is not changed. The rectangle has a
    height drawn uniformly from 1..max(1, int(max_fraction·H)) and a width from
    1..max(1, int(max_fraction·W)), and is placed uniformly among the positions where it fits
    in the image (any row and column can be covered). Inside it, every element (of every
    channel) is fresh uniform noise: in [0, 1) for a floating-point image, 0..255 for uint8.
    Outside it, nothing changes.

    Every random number comes from `generator` (a ``torch.Generator``) when one is given, so
    two blocks with generators seeded alike make the same rectangles and the same noise; with
    None, from torch's global generator.
    """

    def __init__(self, max_fraction: float = 0.3, generator: torch.Generator | None = None) -> None:
        if not 0 < max_fraction <= 1:
            raise ValueError(f"max_fraction must be in (0, 1], got {max_fraction}")
        self.max_fraction = max_fraction
        self.generator = generator

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        """`img` with one random rectangle replaced by noise."""
        # TODO: implement RandomNoiseBlock.__call__
        raise NotImplementedError("RandomNoiseBlock.__call__: TODO")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_fraction={self.max_fraction})"
