"""Public tests of `dataset.compute_train_statistics` on small ImageFolder trees.

The grader draws the images, encodes them as JPEG files and writes them into a folder in the
child; the expected statistics are computed here from the same files' pixels, with the
handout's definition (resize to 32×32, scale to [0, 1], per-channel mean and std of the
training images only).
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from assignments.dogs import childside
from assignments.dogs.images import decoded, jpeg_bytes, statistics
from grader.testing import assert_close, points

TOLERANCE = 2e-3  # resizing a tensor instead of a PIL image differs by less than this


def picture(seed: int, height: int, width: int) -> np.ndarray:
    """An H×W×3 image with its own colour per channel, a gradient and noise."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(30, 225, size=3)
    ramp = np.linspace(-1, 1, width)[None, :, None] * rng.uniform(-40, 40, size=3)
    noise = rng.normal(0, 25, size=(height, width, 3))
    return np.clip(base + ramp + noise, 0, 255).astype(np.uint8)


@st.composite
def trees(draw, *, min_side: int = 8, max_side: int = 72) -> dict[str, list[np.ndarray]]:
    """An ImageFolder tree's images: 1–3 classes, 1–3 images each, sides of any size."""
    seed = draw(st.integers(0, 2**31))
    side = st.integers(min_side, max_side)
    tree = {}
    for c in range(draw(st.integers(1, 3))):
        sizes = draw(st.lists(st.tuples(side, side), min_size=1, max_size=3))
        tree[f"class_{c}"] = [picture(seed + 97 * c + i, h, w) for i, (h, w) in enumerate(sizes)]
    return tree


def files_of(split: str, tree: dict[str, list[np.ndarray]]) -> dict[str, bytes]:
    """`split/<class>/<i>.jpg` → JPEG bytes."""
    return {f"{split}/{cls}/{i:03d}.jpg": jpeg_bytes(img) for cls, imgs in tree.items() for i, img in enumerate(imgs)}


def check_statistics(student, files: dict[str, bytes]) -> None:
    """compute_train_statistics on a folder with `files` equals the definition on its train/ images."""
    root = student.ship(childside).write_tree(files)
    want_mean, want_std = statistics([decoded(data) for rel, data in sorted(files.items()) if rel.startswith("train/")])
    got = student.dataset.compute_train_statistics(root)
    try:
        mean, std = got
        mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"compute_train_statistics must return (mean, std), two lists of 3 floats; got {got!r}") from None
    assert mean.shape == (3,) and std.shape == (3,), f"expected two lists of 3 floats, got shapes {mean.shape} and {std.shape}"
    assert_close(mean, want_mean, atol=TOLERANCE, what="per-channel mean of the training images (in [0, 1], at 32×32)")
    assert_close(std, want_std, atol=TOLERANCE, what="per-channel standard deviation of the training images (in [0, 1], at 32×32)")


@points(3, part="statistics")
@settings(max_examples=8, deadline=None)
@given(tree=trees())
def test_statistics_match_the_definition(student, tree):
    """compute_train_statistics: per-channel mean and std of the training images, scaled to [0, 1] and resized to 32×32."""
    check_statistics(student, files_of("train", tree))


@points(2, part="statistics")
@settings(max_examples=5, deadline=None)
@given(train=trees(), val=trees())
def test_validation_images_do_not_count(student, train, val):
    """compute_train_statistics: only train/ counts; the images in val/ change nothing."""
    val = {cls: [255 - img for img in imgs] for cls, imgs in val.items()}  # far from the train colours
    check_statistics(student, files_of("train", train) | files_of("val", val))
