"""Hidden tests of `dataset.ImageStandardizer` and of the training-only statistics."""

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
def fit_and_apply(draw):
    """Two batches with the same number of channels and dtype, the first with spread in every channel."""
    dtype = draw(st.sampled_from(DTYPES))
    c = draw(st.sampled_from((1, 3, 4)))
    n, h, w, _ = draw(shapes_nhwc(max_n=5, max_side=8, channels=(c,)))
    fit = draw(_batch((n, h + 1, w, c), dtype)).copy()
    # one pixel at each end of the range, so that every channel varies
    fit[0, 0, 0, :], fit[-1, -1, -1, :] = (0, 255) if dtype is np.uint8 else (-50.0, 300.0)
    n2, h2, w2, _ = draw(shapes_nhwc(max_n=4, max_side=8, channels=(c,)))
    return fit, draw(_batch((n2, h2, w2, c), dtype))


def _stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x64 = x.astype(np.float64)
    return x64.mean(axis=(0, 1, 2)), x64.std(axis=(0, 1, 2))


@points(2, part="standardization")
@given(x=batches())
@example(x=np.arange(48, dtype=np.uint8).reshape(2, 2, 3, 4) * 5)
def test_fit_matches_definition(student, x):
    """ImageStandardizer.fit: image_mean and image_std (shape C) over axis (0, 1, 2), any N, H, W, C and dtype."""
    mean, std = _stats(x)
    s = student.dataset.ImageStandardizer()
    s.fit(x)
    scale = max(1.0, float(np.abs(x.astype(np.float64)).max()))
    assert_close(
        np.asarray(s.image_mean, dtype=np.float64),
        mean,
        rtol=1e-4,
        atol=1e-5 * scale,
        what=f"image_mean of a {x.dtype} batch of shape {x.shape}",
    )
    assert_close(
        np.asarray(s.image_std, dtype=np.float64),
        std,
        rtol=1e-4,
        atol=1e-5 * scale,
        what=f"image_std of a {x.dtype} batch of shape {x.shape}",
    )


@points(2, part="standardization")
@given(pair=fit_and_apply())
@example(
    pair=(
        np.arange(36, dtype=np.float32).reshape(2, 2, 3, 3) ** 1.5,
        np.full((1, 2, 2, 3), 100, dtype=np.float32),
    )
)
def test_transform_matches_definition(student, pair):
    """ImageStandardizer.transform: (X - image_mean) / image_std with the statistics of the fitted batch."""
    fit, other = pair
    mean, std = _stats(fit)
    s = student.dataset.ImageStandardizer()
    s.fit(fit)
    for x, which in ((other, "another batch"), (fit, "the fitted batch")):
        expected = (x.astype(np.float64) - mean) / std
        got = np.asarray(s.transform(x), dtype=np.float64)
        assert_close(
            got, expected, rtol=1e-4, atol=1e-4, what=f"transform of {which} (shape {x.shape})"
        )


@points(2, part="standardization")
def test_loaders_standardize_with_training_statistics(student, data_dir):
    """ImageStandardizer in get_train_val_test_datasets: statistics of the training partition only, applied to every partition."""
    raw = {p: load_partition(data_dir, "target", p)[0] for p in ("train", "val", "test")}
    mean, std = _stats(raw["train"])
    tr, va, te, standardizer = student.dataset.get_train_val_test_datasets(
        task="target", data_dir=str(data_dir)
    )
    assert_close(
        np.asarray(standardizer.image_mean, dtype=np.float64),
        mean,
        rtol=1e-5,
        what="image_mean of the returned standardizer (the training partition's)",
    )
    assert_close(
        np.asarray(standardizer.image_std, dtype=np.float64),
        std,
        rtol=1e-5,
        what="image_std of the returned standardizer (the training partition's)",
    )
    for name, ds in (("train", tr), ("val", va), ("test", te)):
        expected = ((raw[name].astype(np.float64) - mean) / std).transpose(0, 3, 1, 2)
        got = np.asarray(student.value(ds.X), dtype=np.float64)
        assert_equal(got.shape, expected.shape, what=f"shape of the standardised {name} images")
        assert_close(
            got,
            expected,
            rtol=1e-4,
            atol=1e-4,
            what=f"standardised {name} images (training statistics)",
        )
