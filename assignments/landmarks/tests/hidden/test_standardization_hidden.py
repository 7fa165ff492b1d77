"""Hidden tests of `dataset.ImageStandardizer` (fit and transform apart) and of the training-only statistics."""

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from assignments.landmarks.data import load_partition
from grader.strategies import shapes_nhwc
from grader.testing import assert_close, assert_equal, points

DTYPES = (np.uint8, np.float32, np.float64)


def _batch(shape: tuple[int, ...], dtype: type) -> st.SearchStrategy[np.ndarray]:
    if dtype is np.uint8:
        return hnp.arrays(np.uint8, shape, elements=st.integers(0, 255))
    width = 32 if dtype is np.float32 else 64
    return hnp.arrays(dtype, shape, elements=st.floats(-50.0, 300.0, width=width))


@st.composite
def batches(draw, channels=(1, 2, 3, 4), max_n=6, max_side=10):
    """An N×H×W×C batch of any of DTYPES."""
    shape = draw(shapes_nhwc(max_n=max_n, max_side=max_side, channels=channels))
    return draw(_batch(shape, draw(st.sampled_from(DTYPES))))


@st.composite
def stats_and_batch(draw):
    """A per-channel mean and a positive std (shape C, set by the test) and an N×H×W×C batch."""
    c = draw(st.sampled_from((1, 2, 3, 4)))
    shape = draw(shapes_nhwc(max_n=5, max_side=8, channels=(c,)))
    x = draw(_batch(shape, draw(st.sampled_from(DTYPES))))
    mean = draw(hnp.arrays(np.float64, (c,), elements=st.floats(-50.0, 300.0)))
    std = draw(hnp.arrays(np.float64, (c,), elements=st.floats(0.01, 200.0)))
    return mean, std, x


def _stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x64 = x.astype(np.float64)
    return x64.mean(axis=(0, 1, 2)), x64.std(axis=(0, 1, 2))


def _scale(x: np.ndarray) -> float:
    return max(1.0, float(np.abs(x.astype(np.float64)).max()))


# Each test below is about one thing, so that one slip is paid in the tests about it only:
# the mean and the std of `fit` apart, `transform` with statistics the test sets, and the
# loaders' use of the training partition judged against the submission's own `fit` and
# `transform` (their correctness is the other tests' business).


@points(2, part="standardization")
@given(x=batches())
@example(x=np.arange(48, dtype=np.uint8).reshape(2, 2, 3, 4) * 5)
def test_fit_mean_matches_definition(student, x):
    """ImageStandardizer.fit: image_mean (shape C) is the mean over axis (0, 1, 2), any N, H, W, C and dtype."""
    mean, _ = _stats(x)
    s = student.dataset.ImageStandardizer()
    s.fit(x)
    assert_close(
        np.asarray(s.image_mean, dtype=np.float64),
        mean,
        rtol=1e-4,
        atol=1e-5 * _scale(x),
        what=f"image_mean of a {x.dtype} batch of shape {x.shape}",
    )


@points(1, part="standardization")
@given(x=batches())
@example(x=np.arange(48, dtype=np.uint8).reshape(2, 2, 3, 4) * 5)
def test_fit_std_matches_definition(student, x):
    """ImageStandardizer.fit: image_std (shape C) is the population std (ddof=0) over axis (0, 1, 2), any N, H, W, C and dtype."""
    _, std = _stats(x)
    s = student.dataset.ImageStandardizer()
    s.fit(x)
    assert_close(
        np.asarray(s.image_std, dtype=np.float64),
        std,
        rtol=1e-4,
        atol=1e-5 * _scale(x),
        what=f"image_std of a {x.dtype} batch of shape {x.shape}",
    )


@points(1, part="standardization")
@given(case=stats_and_batch())
@example(
    case=(
        np.array([10.0, 100.0, 200.0]),
        np.array([2.0, 50.0, 0.5]),
        np.arange(36, dtype=np.float32).reshape(2, 2, 3, 3) ** 1.5,
    )
)
def test_transform_matches_definition(student, case):
    """ImageStandardizer.transform: (X - image_mean) / image_std with the statistics it holds (set by the test, not the batch's)."""
    mean, std, x = case
    s = student.dataset.ImageStandardizer()
    s.image_mean = mean
    s.image_std = std
    expected = (x.astype(np.float64) - mean) / std
    got = np.asarray(s.transform(x), dtype=np.float64)
    assert_close(
        got,
        expected,
        rtol=1e-4,
        atol=1e-4,
        what=f"transform of a {x.dtype} batch of shape {x.shape} with image_mean {mean} and image_std {std}",
    )


@points(2, part="standardization")
def test_loaders_standardize_with_training_statistics(student, data_dir):
    """get_train_val_test_datasets: an ImageStandardizer fitted on the training partition only, applied to every partition (judged with your own fit and transform)."""
    raw = {p: load_partition(data_dir, "target", p)[0] for p in ("train", "val", "test")}
    tr, va, te, standardizer = student.dataset.get_train_val_test_datasets(
        task="target", data_dir=str(data_dir)
    )
    # what the submission's own ImageStandardizer makes of the training partition
    own = student.dataset.ImageStandardizer()
    own.fit(raw["train"])
    for attr in ("image_mean", "image_std"):
        assert_close(
            np.asarray(getattr(standardizer, attr), dtype=np.float64),
            np.asarray(getattr(own, attr), dtype=np.float64),
            rtol=1e-5,
            atol=1e-8,
            what=f"{attr} of the returned standardizer (expected: your own ImageStandardizer fitted on the training partition)",
        )
    for name, ds in (("train", tr), ("val", va), ("test", te)):
        expected = np.asarray(own.transform(raw[name]), dtype=np.float64).transpose(0, 3, 1, 2)
        got = np.asarray(student.value(ds.X), dtype=np.float64)
        assert_equal(got.shape, expected.shape, what=f"shape of the standardised {name} images")
        assert_close(
            got,
            expected,
            rtol=1e-4,
            atol=1e-4,
            what=f"standardised {name} images (expected: your transform with the training partition's statistics)",
        )
