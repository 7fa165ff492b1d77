"""Hidden tests of `losses.translate`, `mae` and `mse`: the inverse shift, batches, shifts past
the border, the input left alone, and both distances against their definitions on any shape
and dtype."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from assignments.perceptual import childside
from grader.testing import assert_close, assert_equal, points

from ..public.test_pixel_losses import (
    SHIFT,
    as_float,
    check_translate,
    hwc_images,
    photo_crop,
    shifted,
)


@points(1, part="pixel_losses")
@settings(max_examples=15)
@given(img=hwc_images(max_side=10), dx=st.integers(-6, 6), dy=st.integers(-6, 6))
def test_inverse_shift_restores_the_interior(student, img, dx, dy):
    """translate(translate(img, dx, dy), -dx, -dy) gives img back wherever no pixel left the image, zeros elsewhere; img is not changed."""
    there, after = student.ship(childside).call_keeping_input(student.losses.translate, img, dx, dy)
    back = np.asarray(student.losses.translate(np.asarray(there), -dx, -dy))
    assert_equal(np.asarray(after), img, what="the input image after translate (it must not change)")
    h, w = img.shape[:2]
    ys, xs = np.arange(h) + dy, np.arange(w) + dx  # where each pixel went on the way there
    keep = ((ys >= 0) & (ys < h))[:, None] & ((xs >= 0) & (xs < w))[None, :]
    want = np.where(keep[..., None], img, 0).astype(img.dtype)
    assert_equal(back, want, what=f"translate(translate(img, {dx}, {dy}), {-dx}, {-dy}) of a {img.shape} image")


@points(1, part="pixel_losses")
@settings(max_examples=10)
@given(img=hwc_images(max_side=8), dx=SHIFT, dy=SHIFT, n=st.integers(1, 3))
def test_translate_batch_of_tensors(student, img, dx, dy, n):
    """translate on an N×C×H×W tensor moves every image of the batch alike (rows and columns: the last two dimensions)."""
    chw = np.ascontiguousarray(img.transpose(2, 0, 1))
    batch = torch.from_numpy(np.stack([chw + k for k in range(n)]).astype(np.int64))
    check_translate(student, batch, dx, dy, 2, 3, f"translate(x, {dx}, {dy}) of a {tuple(batch.shape)} int64 tensor")


@points(1, part="pixel_losses")
def test_shifts_past_the_border_leave_zeros(student):
    """translate by the whole width or height (or more), either way: all zeros, same shape."""
    img = photo_crop(side=12)
    for dx, dy in ((12, 0), (0, -12), (40, 3), (-2, 50)):
        check_translate(student, img, dx, dy, 0, 1, f"translate(photo, {dx}, {dy}) of a 12×12×3 photo")


@st.composite
def array_pairs(draw):
    """Two arrays of one shape (1–3 axes) and dtype (uint8, int16, float32 or float64)."""
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=3)))
    dtype = draw(st.sampled_from(("uint8", "int16", "float32", "float64")))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    if dtype == "uint8":
        make = lambda: rng.integers(0, 256, size=shape).astype(np.uint8)  # noqa: E731
    elif dtype == "int16":
        make = lambda: rng.integers(-300, 300, size=shape).astype(np.int16)  # noqa: E731
    else:
        make = lambda: (rng.standard_normal(shape) * 50).astype(dtype)  # noqa: E731
    return make(), make()


@points(1, part="pixel_losses")
@settings(max_examples=20)
@given(pair=array_pairs())
def test_distances_match_the_definition_for_any_dtype(student, pair):
    """mae and mse equal the mean absolute / squared difference in float64, for uint8, int16 and float arrays of any shape."""
    a, b = pair
    diff = a.astype(np.float64) - b.astype(np.float64)
    what = f"for two {a.dtype} arrays of shape {a.shape}"
    assert_close(as_float(student.losses.mae(a, b), "mae"), np.abs(diff).mean(), rtol=1e-6, what=f"mae {what}")
    assert_close(as_float(student.losses.mse(a, b), "mse"), (diff**2).mean(), rtol=1e-6, what=f"mse {what}")


@points(1, part="pixel_losses")
def test_distances_of_tensors(student):
    """mae and mse of uint8 and float tensors (C×H×W photos): the same definition, as a number."""
    a = photo_crop("flower.jpg", top=200, left=300, side=24)
    b = shifted(a, -1, 1, 0, 1)
    diff = a.astype(np.float64) - b.astype(np.float64)
    ta, tb = (torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))) for x in (a, b))
    for x, y, scale, kind in ((ta, tb, 1.0, "uint8"), (ta.float() / 255, tb.float() / 255, 255.0, "float")):
        assert_close(as_float(student.losses.mae(x, y), "mae") * scale, np.abs(diff).mean(), rtol=1e-5,
                     what=f"mae of two {kind} photo tensors (× {scale:g})")
        assert_close(as_float(student.losses.mse(x, y), "mse") * scale**2, (diff**2).mean(), rtol=1e-5,
                     what=f"mse of two {kind} photo tensors (× {scale:g}²)")


@points(1, part="pixel_losses")
def test_one_pixel_moves_in_four_directions(student):
    """A photo against itself moved one pixel left, right, up and down: mse as defined, and larger than for the photo against itself."""
    a = photo_crop(top=60, left=420, side=40)
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        b = np.asarray(student.losses.translate(a, dx, dy))
        assert_equal(b, shifted(a, dx, dy, 0, 1), what=f"translate(photo, {dx}, {dy})")
        want = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean()
        assert_close(as_float(student.losses.mse(a, b), "mse"), want, rtol=1e-9, what=f"mse(photo, photo moved by ({dx}, {dy}))")
