"""Trusted-side image helpers of the dogs tests: JPEG bytes, decoding, and the definitions of
the training statistics and of the two image pipelines (torchvision, run in the grader)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

STATS_SIZE = 32
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def jpeg_bytes(pixels: np.ndarray, *, quality: int = 90) -> bytes:
    """An H×W×3 uint8 array as JPEG file bytes (deterministic)."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8), mode="RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def decoded(data: bytes) -> Image.Image:
    """The RGB image a JPEG file's bytes decode to (what student code reads from the file)."""
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB")


def statistics(images: Sequence[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
    """The definition of the training statistics: every image resized to 32×32 (bilinear, as
    `transforms.Resize((32, 32))`), scaled to [0, 1]; per-channel mean and population std."""
    pixels = np.concatenate([
        np.asarray(im.resize((STATS_SIZE, STATS_SIZE), Image.BILINEAR), dtype=np.float64).reshape(-1, 3) / 255.0
        for im in images
    ])  # fmt: skip
    return pixels.mean(axis=0), pixels.std(axis=0)


def breed_pipeline(mean: Sequence[float], std: Sequence[float], *, resize: bool = True):  # noqa: ANN201 - a Compose
    """The breeds' pipeline as the handout defines it: Resize((32, 32)), ToTensor, Normalize."""
    from torchvision import transforms

    steps = [transforms.Resize((STATS_SIZE, STATS_SIZE))] if resize else []
    return transforms.Compose([*steps, transforms.ToTensor(), transforms.Normalize(list(mean), list(std))])


def dogcat_pipeline():  # noqa: ANN201 - a Compose
    """The dog/cat pipeline: Resize((256, 256)), CenterCrop(224), ToTensor, ImageNet Normalize."""
    from torchvision import transforms

    return transforms.Compose([
        transforms.Resize((256, 256)),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(list(IMAGENET_MEAN), list(IMAGENET_STD)),
    ])  # fmt: skip
