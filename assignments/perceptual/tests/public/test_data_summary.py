"""Public tests of `data_summary.summarize` on Flowers102 folders the grader writes.

The grader chooses the labels and the image sizes, encodes the files here
(`assignments.perceptual.data`: the real layout, ``.mat`` files by scipy) and writes them in a
fresh folder in the child; the expected summary is computed here from what was chosen.
"""

from __future__ import annotations

import functools
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from assignments.perceptual import childside
from assignments.perceptual.data import (
    SPLIT_KEYS,
    expected_summary,
    flowers_files,
    header_only_jpeg,
    jpeg_bytes,
)
from grader.testing import assert_equal, points

# The sizes of real Flowers102 photos: one side 500, the other 500..750 (a few common ones)
PHOTO_SIZES = [(500, 500), (500, 541), (541, 500), (500, 667), (667, 500), (500, 750), (750, 500), (625, 500), (500, 689), (731, 500), (500, 512), (509, 500)]


@functools.cache
def small_jpeg(width: int, height: int) -> bytes:
    """A width × height JPEG of noise (seeded by its size)."""
    rng = np.random.default_rng([width, height])
    return jpeg_bytes(rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8))


@functools.cache
def cut_jpeg(width: int, height: int) -> bytes:
    """A width × height JPEG whose pixel data is cut off after its header."""
    return header_only_jpeg(width, height)


def random_splits(ids: list[int], rng: np.random.Generator) -> dict[str, list[int]]:
    """Every image id in one of the three splits."""
    which = rng.integers(0, 3, size=len(ids))
    return {k: [i for i, s in zip(ids, which, strict=True) if s == j] for j, k in enumerate(SPLIT_KEYS)}


def summary_of(student, root: str, what: str) -> dict:
    """summarize(root) as {"n_images", "n_classes", "resolutions"} with plain-data values."""
    got = student.data_summary.summarize(root)
    if not isinstance(got, dict) or not {"n_images", "n_classes", "resolutions"} <= set(got):
        raise AssertionError(f"summarize must return a dict with n_images, n_classes and resolutions; got {got!r}")
    res = got["resolutions"]
    if not isinstance(res, dict):
        raise AssertionError(f"resolutions must be a Counter of (width, height) → count; got {type(res).__name__}")
    try:
        resolutions = Counter({(int(k[0]), int(k[1])): int(v) for k, v in res.items() if int(v) != 0})
    except (TypeError, ValueError, IndexError):
        raise AssertionError(f"resolutions must map (width, height) tuples to counts; got {res!r}") from None
    return {"n_images": got["n_images"], "n_classes": got["n_classes"], "resolutions": resolutions}


def check_summary(student, files: dict[str, bytes], labels, sizes, copies: dict[str, str] | None = None) -> None:
    """summarize on a folder with `files` (and `copies`) equals the summary of `labels` and `sizes`."""
    root = student.ship(childside).write_tree(files, copies)
    got = summary_of(student, root, "summarize")
    want = expected_summary(labels, sizes)
    what = f"a folder of {len(sizes)} images of {want['n_classes']} classes"
    assert_equal(got["n_images"], want["n_images"], what=f"n_images of {what}")
    assert_equal(got["n_classes"], want["n_classes"], what=f"n_classes of {what}")
    assert_equal(dict(got["resolutions"]), dict(want["resolutions"]), what=f"resolutions (width, height) → count of {what}")


@st.composite
def folders(draw, *, max_images: int = 10, max_side: int = 40):
    """(labels, sizes, splits): 1..max_images images, labels from 1..102, sizes (w, h) from a
    small pool so that some repeat, each image in one split."""
    n = draw(st.integers(1, max_images))
    side = st.integers(1, max_side)
    pool = draw(st.lists(st.tuples(side, side), min_size=1, max_size=4))
    sizes = [draw(st.sampled_from(pool)) for _ in range(n)]
    labels = [draw(st.integers(1, 102)) for _ in range(n)]
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    return labels, sizes, random_splits(list(range(1, n + 1)), rng)


@points(2, part="data_summary")
@settings(max_examples=8)
@given(folder=folders())
def test_counts_and_resolutions(student, folder):
    """summarize: the number of images, of distinct classes, and a Counter of (width, height), on folders of any size."""
    labels, sizes, splits = folder
    files = flowers_files([small_jpeg(w, h) for w, h in sizes], labels, splits)
    check_summary(student, files, labels, sizes)


@points(2, part="data_summary")
def test_reads_headers_only_on_1000_files(student):
    """summarize on 1,000 photos of 500×(500–750) whose pixel data is cut off after the header: right counts (reading headers never decodes the pixels)."""
    rng = np.random.default_rng(1000)
    n = 1000
    sizes = [PHOTO_SIZES[int(k)] for k in rng.integers(0, len(PHOTO_SIZES), size=n)]
    labels = [int(v) for v in rng.integers(1, 103, size=n)]
    files = flowers_files([cut_jpeg(w, h) for w, h in sizes], labels, random_splits(list(range(1, n + 1)), rng))
    check_summary(student, files, labels, sizes)
