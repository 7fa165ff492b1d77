"""Hidden tests of `augment.RandomNoiseBlock`: uint8 images, every size and position reachable
(no off-by-one in the ranges), width and height kept apart, and uniform noise."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from assignments.perceptual import childside
from grader.testing import assert_equal, points

from ..public.test_augmentation import check_block, negative_image


@points(2, part="augmentation")
def test_uint8_images(student):
    """On uint8 images: dtype and shape kept, nothing outside one rectangle changes, and the noise is uniform over 0..255."""
    rng = np.random.default_rng(5)
    helper = student.ship(childside)
    block = student.augment.RandomNoiseBlock(0.5, generator=helper.generator(5))
    noise = []
    for k in range(30):
        img = torch.from_numpy(rng.integers(0, 256, size=(3, 20, 24), dtype=np.uint8))
        out, after = helper.call_keeping_input(block, img)
        what = f"RandomNoiseBlock(0.5)(a 3×20×24 uint8 image), call {k + 1}"
        assert isinstance(out, torch.Tensor) and out.dtype == torch.uint8, f"{what}: expected a uint8 tensor, got {getattr(out, 'dtype', type(out).__name__)}"
        assert_equal(tuple(out.shape), (3, 20, 24), what=f"shape of {what}")
        assert torch.equal(after, img), f"{what} changed its input in place"
        changed = (out != img).numpy().any(axis=0)
        if changed.any():
            top, left, h, w = (int(v) for v in _bounds(changed))
            assert h <= 10 and w <= 12, f"{what}: pixels changed over {h}×{w}, more than the 10×12 allowed"
            noise.append(out[:, top : top + h, left : left + w].reshape(-1).numpy())
    values = np.concatenate(noise).astype(np.float64)
    assert values.size > 500, f"only {values.size} noise values in 30 calls: are the blocks empty?"
    assert abs(values.mean() - 127.5) < 12 and values.min() <= 10 and values.max() >= 245, (
        f"uint8 noise from {values.min():.0f} to {values.max():.0f}, mean {values.mean():.1f}: expected uniform over 0..255"
    )


def _bounds(changed: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    return rows[0], cols[0], rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


@points(2, part="augmentation")
def test_every_size_and_position_is_reachable(student):
    """Over 300 draws on a 10×12 image (max_fraction 0.3): every height 1..3 and width 1..3 occurs, and the blocks reach the first and the last row and column."""
    img = negative_image(0, 1, 10, 12)
    block = student.augment.RandomNoiseBlock(0.3, generator=student.ship(childside).generator(11))
    heights, widths, rows, cols = set(), set(), set(), set()
    for k in range(300):
        top, left, h, w = check_block(img, block(img), 0.3, f"RandomNoiseBlock(0.3)(a 1×10×12 image), call {k + 1}")
        heights.add(h), widths.add(w)
        rows.update(range(top, top + h)), cols.update(range(left, left + w))
    assert_equal(sorted(heights), [1, 2, 3], what="block heights seen in 300 draws (max_fraction 0.3 of 10 rows)")
    assert_equal(sorted(widths), [1, 2, 3], what="block widths seen in 300 draws (max_fraction 0.3 of 12 columns)")
    assert 0 in rows and 9 in rows, f"rows covered in 300 draws: {min(rows)}..{max(rows)}; the blocks must reach rows 0 and 9"
    assert 0 in cols and 11 in cols, f"columns covered in 300 draws: {min(cols)}..{max(cols)}; the blocks must reach columns 0 and 11"


@points(1, part="augmentation")
@settings(max_examples=10)
@given(seed=st.integers(0, 10_000), h=st.integers(4, 16), w=st.integers(24, 60), tall=st.booleans())
def test_height_and_width_bounds_apart(student, seed, h, w, tall):
    """Very unequal sides (wide or tall images): the block's height is bounded by the height, its width by the width, over 12 draws."""
    if tall:
        h, w = w, h
    img = negative_image(seed, 2, h, w)
    block = student.augment.RandomNoiseBlock(0.25, generator=student.ship(childside).generator(seed))
    for k in range(12):
        check_block(img, block(img), 0.25, f"RandomNoiseBlock(0.25)(a 2×{h}×{w} image), call {k + 1}")


@points(1, part="augmentation")
def test_float_noise_is_uniform(student):
    """The noise of float images, pooled over 40 blocks: uniform on [0, 1) (mean ≈ 1/2, standard deviation ≈ 0.289)."""
    img = negative_image(1, 3, 24, 24)
    block = student.augment.RandomNoiseBlock(0.5, generator=student.ship(childside).generator(21))
    values = []
    for k in range(40):
        out = block(img)
        top, left, h, w = check_block(img, out, 0.5, f"RandomNoiseBlock(0.5)(a 3×24×24 image), call {k + 1}")
        values.append(out[:, top : top + h, left : left + w].reshape(-1).double().numpy())
    v = np.concatenate(values)
    assert abs(v.mean() - 0.5) < 0.03 and abs(v.std() - 12**-0.5) < 0.03, (
        f"noise mean {v.mean():.3f} and standard deviation {v.std():.3f} over {v.size} values; uniform on [0, 1) has 0.5 and 0.289"
    )

