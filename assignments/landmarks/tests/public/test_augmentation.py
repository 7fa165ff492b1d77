"""Public tests of `augment_data.Rotate` and `augment_data.Grayscale`: shapes, identities, a worked example."""

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.testing import assert_equal, points


def images(min_side: int = 3, max_side: int = 24) -> st.SearchStrategy[np.ndarray]:
    """H×W×3 uint8 images (H and W may differ)."""
    shape = st.tuples(st.integers(min_side, max_side), st.integers(min_side, max_side), st.just(3))
    return shape.flatmap(lambda s: hnp.arrays(np.uint8, s, elements=st.integers(0, 255)))


@points(1, part="augmentation")
@given(img=images(), deg=st.integers(1, 45))
@example(img=np.arange(105, dtype=np.uint8).reshape(5, 7, 3), deg=10)
def test_rotate_keeps_shape_and_dtype(student, img, deg):
    """Rotate(deg), deg ≥ 1: the rotated image has the input's shape H×W×C and dtype uint8 (deg = 0 has its own test)."""
    out = np.asarray(student.augment_data.Rotate(deg)(img))
    assert_equal(out.shape, img.shape, what=f"shape of Rotate({deg})(img)")
    assert_equal(str(out.dtype), "uint8", what=f"dtype of Rotate({deg})(img)")


@points(1, part="augmentation")
@given(img=images())
@example(img=np.arange(105, dtype=np.uint8).reshape(5, 7, 3))
def test_rotate_by_zero_degrees_is_identity(student, img):
    """Rotate(0): the only angle is 0, so the image comes back unchanged."""
    out = np.asarray(student.augment_data.Rotate(0)(img))
    assert_equal(out, img, what="Rotate(0)(img)")


@points(1, part="augmentation")
def test_grayscale_worked_example(student):
    """Grayscale: three equal channels holding the channel mean rounded to the nearest integer."""
    img = np.array([[[10, 20, 31], [0, 1, 1]], [[255, 255, 254], [7, 8, 9]]], dtype=np.uint8)
    # means: 20.33 → 20, 0.67 → 1, 254.67 → 255, 8 → 8
    expected = np.repeat(np.array([[20, 1], [255, 8]], dtype=np.uint8)[:, :, None], 3, axis=2)
    assert_equal(
        np.asarray(student.augment_data.Grayscale()(img)), expected, what="Grayscale()(img)"
    )


@points(1, part="augmentation")
@given(img=images(min_side=1))
@example(img=np.arange(105, dtype=np.uint8).reshape(5, 7, 3))
def test_grayscale_equal_channels_uint8_idempotent(student, img):
    """Grayscale: H×W×3 uint8 output with three equal channels; applying it twice changes nothing."""
    gray = student.augment_data.Grayscale()
    out = np.asarray(gray(img))
    assert_equal(out.shape, img.shape, what="shape of Grayscale()(img)")
    assert_equal(str(out.dtype), "uint8", what="dtype of Grayscale()(img)")
    assert_equal(
        out[:, :, 1], out[:, :, 0], what="channel 1 of Grayscale()(img) (should equal channel 0)"
    )
    assert_equal(
        out[:, :, 2], out[:, :, 0], what="channel 2 of Grayscale()(img) (should equal channel 0)"
    )
    assert_equal(np.asarray(gray(out)), out, what="Grayscale applied to an already gray image")
