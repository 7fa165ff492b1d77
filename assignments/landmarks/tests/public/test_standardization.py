"""Public tests of `dataset.ImageStandardizer`: hand-worked batches and the defining property.

`fit` and `transform` are tested apart: the transform tests set `image_mean` and `image_std`
themselves, so a slip in `fit` costs the fit tests only (and the other way round).
"""

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.testing import assert_close, assert_equal, points

# Two 1×2 images with three channels: channel 0 holds 0, 2, 4, 6; channel 1 holds 10 four
# times; channel 2 holds 1, 1, 3, 3.
WORKED = np.array(
    [
        [[[0, 10, 1], [2, 10, 1]]],
        [[[4, 10, 3], [6, 10, 3]]],
    ],
    dtype=np.uint8,
)


@points(1, part="standardization")
def test_fit_mean_worked_example(student):
    """ImageStandardizer.fit: image_mean is the per-channel mean over axis (0, 1, 2) of a hand-worked batch."""
    s = student.dataset.ImageStandardizer()
    s.fit(WORKED)
    assert_close(s.image_mean, np.array([3.0, 10.0, 2.0]), rtol=1e-6, what="image_mean")


@points(1, part="standardization")
def test_fit_std_worked_example(student):
    """ImageStandardizer.fit: image_std is the per-channel population std (ddof=0) over axis (0, 1, 2)."""
    s = student.dataset.ImageStandardizer()
    s.fit(WORKED)
    # channel 0: mean 3, population std sqrt((9 + 1 + 1 + 9) / 4) = sqrt(5), not sqrt(20 / 3)
    assert_close(
        s.image_std, np.array([np.sqrt(5.0), 0.0, 1.0]), rtol=1e-6, atol=1e-9, what="image_std"
    )


@points(1, part="standardization")
def test_transform_worked_example(student):
    """ImageStandardizer.transform: (X - image_mean) / image_std with the statistics it holds (set by the test)."""
    s = student.dataset.ImageStandardizer()
    s.image_mean = np.array([3.0, 8.0, 2.0])
    s.image_std = np.array([2.0, 4.0, 0.5])
    # channel 0: (0, 2, 4, 6) → (-1.5, -0.5, 0.5, 1.5); channel 1: (10 - 8) / 4 = 0.5;
    # channel 2: (1, 1, 3, 3) → (-2, -2, 2, 2)
    expected = np.array(
        [
            [[[-1.5, 0.5, -2.0], [-0.5, 0.5, -2.0]]],
            [[[0.5, 0.5, 2.0], [1.5, 0.5, 2.0]]],
        ]
    )
    got = np.asarray(s.transform(WORKED), dtype=np.float64)
    assert_close(
        got,
        expected,
        rtol=1e-6,
        atol=1e-9,
        what="transform(X) with image_mean [3, 8, 2] and image_std [2, 4, 0.5]",
    )


def _with_spread(x: np.ndarray) -> np.ndarray:
    """`x` with one pixel black and another white, so that every channel varies."""
    x = x.copy()
    x[0, 0, 0, :], x[-1, -1, -1, :] = 0, 255
    return x


# N×H×W×3 uint8 batches with H ≥ 2, every channel spread out.
BATCHES = (
    st.tuples(st.integers(1, 6), st.integers(2, 12), st.integers(1, 12))
    .flatmap(lambda s: hnp.arrays(np.uint8, (*s, 3), elements=st.integers(0, 255)))
    .map(_with_spread)
)


@points(1, part="standardization")
@given(images=BATCHES)
@example(images=(np.arange(36, dtype=np.uint8).reshape(2, 2, 3, 3) * 7))
def test_transform_gives_zero_mean_unit_std(student, images):
    """ImageStandardizer.transform with the batch's own mean and population std (set by the test): each channel gets mean 0 and std 1."""
    x64 = images.astype(np.float64)
    s = student.dataset.ImageStandardizer()
    s.image_mean = x64.mean(axis=(0, 1, 2))
    s.image_std = x64.std(axis=(0, 1, 2))
    out = np.asarray(s.transform(images), dtype=np.float64)
    assert_equal(out.shape, images.shape, what="shape of transform(X)")
    assert_close(
        out.mean(axis=(0, 1, 2)), np.zeros(3), atol=1e-5, what="per-channel mean of transform(X)"
    )
    assert_close(
        out.std(axis=(0, 1, 2)), np.ones(3), rtol=1e-5, what="per-channel std of transform(X)"
    )
