"""Public tests of `augment.RandomNoiseBlock`, over random seeds and image shapes.

The input images are chosen so that noise can never equal them (float images with negative
values: noise is in [0, 1)), so the pixels the block changed are exactly those that differ;
they must form one rectangle, within the size bound, and nothing else may change.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from assignments.perceptual import childside
from grader.testing import assert_equal, points


def negative_image(seed: int, c: int, h: int, w: int) -> torch.Tensor:
    """A C×H×W float32 image with values in [-2, -1): never equal to noise in [0, 1)."""
    return -1.0 - torch.rand(c, h, w, generator=torch.Generator().manual_seed(seed))


def side_bound(fraction: float, side: int) -> int:
    """The largest side a block may have: max(1, floor(fraction · side)) (with a tolerance for
    fractions like 0.3 that are not exact in binary)."""
    return max(1, int(np.floor(fraction * side + 1e-9)))


def block_of(changed: np.ndarray, what: str) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the changed H×W mask, which must be one filled rectangle."""
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    assert rows.size > 0, f"{what}: no pixel changed; one rectangle must be replaced by noise"
    top, left = int(rows[0]), int(cols[0])
    h, w = int(rows[-1]) - top + 1, int(cols[-1]) - left + 1
    inside = changed[top : top + h, left : left + w]
    assert inside.all(), (
        f"{what}: the changed pixels are not one filled rectangle: {int(inside.sum())} of the "
        f"{h}×{w} pixels of their bounding box changed"
    )
    return top, left, h, w


def check_block(img: torch.Tensor, out, fraction: float, what: str) -> tuple[int, int, int, int]:
    """`out` is `img` with one rectangle (the same in every channel) of noise in [0, 1) within
    the size bound; returns the rectangle."""
    assert isinstance(out, torch.Tensor), f"{what} must return a tensor, got {type(out).__name__}"
    assert_equal(tuple(out.shape), tuple(img.shape), what=f"shape of {what}")
    assert out.dtype == img.dtype, f"{what}: dtype {out.dtype}, expected {img.dtype}"
    differs = (out != img).numpy()
    changed = differs.any(axis=0)
    top, left, h, w = block_of(changed, what)
    assert differs[:, changed].all(), f"{what}: inside the rectangle some channels kept their values; every channel must be noise"
    H, W = img.shape[-2:]
    assert h <= side_bound(fraction, H) and w <= side_bound(fraction, W), (
        f"{what}: a {h}×{w} block in a {H}×{W} image with max_fraction={fraction}; "
        f"at most {side_bound(fraction, H)}×{side_bound(fraction, W)}"
    )
    noise = out[:, top : top + h, left : left + w]
    assert float(noise.min()) >= 0.0 and float(noise.max()) < 1.0, (
        f"{what}: noise values from {float(noise.min()):.3f} to {float(noise.max()):.3f}; uniform noise of a float image is in [0, 1)"
    )
    return top, left, h, w


@points(2, part="augmentation")
@settings(max_examples=15)
@given(
    seed=st.integers(0, 10_000),
    c=st.sampled_from((1, 3)),
    h=st.integers(4, 40),
    w=st.integers(4, 40),
    fraction=st.sampled_from((0.1, 0.25, 0.3, 0.5, 1.0)),
)
def test_one_rectangle_of_noise_and_nothing_else(student, seed, c, h, w, fraction):
    """RandomNoiseBlock(max_fraction, generator)(img): same shape and dtype, one rectangle (≤ max_fraction of each side) of noise in [0, 1), every other pixel unchanged, the input untouched."""
    img = negative_image(seed, c, h, w)
    helper = student.ship(childside)
    block = student.augment.RandomNoiseBlock(fraction, generator=helper.generator(seed))
    out, after = helper.call_keeping_input(block, img)
    what = f"RandomNoiseBlock({fraction})(a {c}×{h}×{w} image)"
    check_block(img, out, fraction, what)
    assert torch.equal(after, img), f"{what} changed its input in place; return a new tensor"


@points(2, part="augmentation")
@settings(max_examples=8)
@given(seed=st.integers(0, 10_000), h=st.integers(8, 32), w=st.integers(8, 32))
def test_reproducible_with_a_seeded_generator(student, seed, h, w):
    """Two blocks with generators seeded alike make the same three outputs (whatever else draws random numbers); another seed makes others."""
    img = negative_image(seed, 3, h, w)
    helper = student.ship(childside)
    a = student.augment.RandomNoiseBlock(0.5, generator=helper.generator(seed))
    b = student.augment.RandomNoiseBlock(0.5, generator=helper.generator(seed))
    other = student.augment.RandomNoiseBlock(0.5, generator=helper.generator(seed + 1))
    outs_a, outs_b, outs_other = [], [], []
    for _ in range(3):
        outs_a.append(a(img))
        helper.draw_global(5)
        outs_b.append(b(img))
        outs_other.append(other(img))
    for k, (x, y) in enumerate(zip(outs_a, outs_b, strict=True)):
        assert torch.equal(x, y), f"call {k + 1}: two RandomNoiseBlock(0.5) with generators seeded {seed} gave different outputs"
    assert not all(torch.equal(x, y) for x, y in zip(outs_a, outs_other, strict=True)), (
        f"generators seeded {seed} and {seed + 1} gave the same three outputs: is the generator used?"
    )
