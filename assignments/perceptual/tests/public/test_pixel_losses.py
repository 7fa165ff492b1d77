"""Public tests of `losses.translate`, `losses.mae` and `losses.mse`.

Every expected value is computed here from the definition: a translated image, pixel by pixel
(`shifted`), and the mean absolute / squared difference in float64. The photographs are
scikit-learn's sample images (`assignments.perceptual.data.sample_photo`).
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from assignments.perceptual.data import sample_photo
from grader.testing import assert_close, assert_equal, points

SHIFT = st.integers(-14, 14)


def shifted(img: np.ndarray, dx: int, dy: int, h_axis: int, w_axis: int) -> np.ndarray:
    """The definition of a translation, element by element: ``out[y, x] = img[y - dy, x - dx]``
    where that pixel exists, else 0 (`h_axis`, `w_axis`: the axes of rows and columns)."""
    moved = np.moveaxis(img, (h_axis, w_axis), (0, 1))
    out = np.zeros_like(moved)
    height, width = moved.shape[:2]
    for y in range(height):
        for x in range(width):
            if 0 <= y - dy < height and 0 <= x - dx < width:
                out[y, x] = moved[y - dy, x - dx]
    return np.moveaxis(out, (0, 1), (h_axis, w_axis))


@st.composite
def hwc_images(draw, *, max_side: int = 12) -> np.ndarray:
    """An H×W×C uint8 image (C = 1 or 3) with every pixel value drawn."""
    h, w, c = draw(st.integers(1, max_side)), draw(st.integers(1, max_side)), draw(st.sampled_from((1, 3)))
    seed = draw(st.integers(0, 2**31))
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, c), dtype=np.uint8)


def photo_crop(name: str = "china.jpg", top: int = 140, left: int = 180, side: int = 48) -> np.ndarray:
    """A side × side × 3 uint8 crop of one of scikit-learn's sample photographs."""
    return sample_photo(name)[top : top + side, left : left + side].copy()


def as_float(x, what: str) -> float:
    """A returned distance as a Python float, with a plain message for anything else."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
    try:
        return float(np.asarray(x, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        raise AssertionError(f"{what} must return one number, got {x!r}") from None


def check_translate(student, img, dx: int, dy: int, h_axis: int, w_axis: int, what: str) -> None:
    """translate(img, dx, dy) has img's shape and dtype and equals the definition."""
    got = student.losses.translate(img, dx, dy)
    ref = img.numpy() if isinstance(img, torch.Tensor) else img
    want = shifted(ref, dx, dy, h_axis, w_axis)
    if isinstance(img, torch.Tensor):
        assert isinstance(got, torch.Tensor), f"{what} must return a tensor for a tensor, got {type(got).__name__}"
        assert got.dtype == img.dtype, f"{what}: dtype {got.dtype}, expected {img.dtype}"
        got = got.numpy()
    else:
        got = np.asarray(got)
        assert got.dtype == img.dtype, f"{what}: dtype {got.dtype}, expected {img.dtype}"
    assert_equal(got.shape, want.shape, what=f"shape of {what}")
    assert_equal(got, want, what=what)


@points(1, part="pixel_losses")
@settings(max_examples=20)
@given(img=hwc_images(), dx=SHIFT, dy=SHIFT)
def test_translate_hwc_array(student, img, dx, dy):
    """translate(img, dx, dy) on an H×W×C uint8 array: moved dx right and dy down, zeros where nothing moves in, same shape and dtype."""
    check_translate(student, img, dx, dy, 0, 1, f"translate(img, {dx}, {dy}) of a {img.shape} uint8 array")


@points(1, part="pixel_losses")
@settings(max_examples=15)
@given(img=hwc_images(), dx=SHIFT, dy=SHIFT)
def test_translate_chw_tensor(student, img, dx, dy):
    """translate(t, dx, dy) on a C×H×W float tensor: rows and columns are its last two dimensions."""
    t = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float() / 255
    check_translate(student, t, dx, dy, 1, 2, f"translate(t, {dx}, {dy}) of a {tuple(t.shape)} float tensor")


@points(1, part="pixel_losses")
def test_distances_between_a_photo_and_its_translation(student):
    """mae and mse of a photograph (uint8) and its one-pixel translation, in float64: no uint8 wrap-around."""
    a = photo_crop()
    for dx, dy in ((1, 0), (0, -1)):
        b = shifted(a, dx, dy, 0, 1)
        diff = a.astype(np.float64) - b.astype(np.float64)
        assert_close(as_float(student.losses.mae(a, b), "mae"), np.abs(diff).mean(), rtol=1e-9,
                     what=f"mae(photo, photo moved by ({dx}, {dy}))")
        assert_close(as_float(student.losses.mse(a, b), "mse"), (diff**2).mean(), rtol=1e-9,
                     what=f"mse(photo, photo moved by ({dx}, {dy}))")


@points(1, part="pixel_losses")
@settings(max_examples=15)
@given(a=hwc_images(), seed=st.integers(0, 2**31))
def test_distances_are_symmetric_and_zero_only_for_equal_images(student, a, seed):
    """mae and mse: d(a, b) = d(b, a) > 0 for different images, d(a, a) = 0 (uint8 arrays)."""
    b = a.copy()
    rng = np.random.default_rng(seed)
    y, x, c = (int(rng.integers(0, n)) for n in a.shape)
    b[y, x, c] = (int(b[y, x, c]) + int(rng.integers(1, 256))) % 256  # one element differs
    for name in ("mae", "mse"):
        fn = getattr(student.losses, name)
        same = as_float(fn(a, a.copy()), name)
        ab, ba = as_float(fn(a, b), name), as_float(fn(b, a), name)
        assert same == 0.0, f"{name}(a, a) is {same}, expected 0"
        assert ab > 0, f"{name}(a, b) is {ab} for images that differ in one element, expected > 0"
        assert_close(ab, ba, rtol=1e-12, what=f"{name}(a, b) against {name}(b, a)")
