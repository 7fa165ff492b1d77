"""Public tests of data.py: `class_histogram`, `make_transforms` and `split_train_val`.

The grader chooses the labels, images, sizes, fractions and seeds; the child builds the data
sets and images from them (`data_support`, shipped) and runs the submission's functions; what
comes back by value (counts, tensors, the labels of each subset's items) is compared here with
the handout's definitions, computed here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.testing import assert_close, assert_equal, points

from . import data_support

NUM_CLASSES = 10
SIDE = 32
ATOL = 1e-5


def support(sub: Any) -> Any:
    """The shipped builders, in the child."""
    return sub.ship(data_support)


# --------------------------------------------------------------------------- histogram


def as_counts(got: Any, what: str) -> list[int]:
    """`got` (a list, tuple, array or tensor of counts) as a list of ints; a clear failure otherwise."""
    if not isinstance(got, list | tuple | np.ndarray | torch.Tensor):
        raise AssertionError(f"{what} must be a list of counts indexed by class id, got {type(got).__name__}")
    arr = np.asarray(got.tolist() if isinstance(got, torch.Tensor) else got)
    if arr.ndim != 1:
        raise AssertionError(f"{what} must be a flat list of counts, got shape {arr.shape}")
    if arr.size and not np.all(np.equal(np.mod(arr.astype(np.float64), 1), 0)):
        raise AssertionError(f"{what} must hold whole numbers, got {arr.tolist()}")
    return [int(v) for v in arr.tolist()]


def histogram(labels: list[int], num_classes: int) -> list[int]:
    """The definition: how many labels equal each class id 0 … num_classes - 1."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).tolist()


@points(2, part="data")
@settings(max_examples=15)
@given(labels=st.lists(st.integers(0, NUM_CLASSES - 1), max_size=60))
@example(labels=[])
@example(labels=[9, 9, 0, 3])
def test_class_histogram_counts_every_class(student, labels):
    """class_histogram(dataset): a list of 10 counts indexed by class id, for any labels (absent classes count 0)."""
    got = student.data.class_histogram(support(student).Labelled(labels))
    what = f"class_histogram of a data set with labels {labels}"
    assert_equal(as_counts(got, what), histogram(labels, NUM_CLASSES), what=what)


# --------------------------------------------------------------------------- transforms


def picture(seed: int) -> np.ndarray:
    """A 32×32 RGB noise image (uint8), the same for the same seed."""
    return np.random.default_rng(seed).integers(0, 256, size=(SIDE, SIDE, 3), dtype=np.uint8)


def plain(pixels: np.ndarray) -> torch.Tensor:
    """The handout's evaluation pipeline, run here: ToTensor, then Normalize((0.5,)*3, (0.5,)*3)."""
    from torchvision import transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)])
    return tf(data_support.pil_image(pixels))


def outputs_of(student, train: bool, pixels: np.ndarray, seed: int, times: int) -> torch.Tensor:
    """`times` outputs of the submission's make_transforms(train) on the image, after torch.manual_seed(seed)."""
    tf = student.data.make_transforms(train)
    out = support(student).transformed(tf, pixels, seed, times)
    what = f"make_transforms(train={train})(image)"
    assert_equal(out.dtype, torch.float32, what=f"dtype of {what}")
    assert_equal(tuple(out.shape[1:]), (3, SIDE, SIDE), what=f"shape of {what} for a 32×32 RGB image")
    return out


def orientation(out: torch.Tensor, pixels: np.ndarray) -> bool:
    """Whether `out` is (a colour-jittered version of) the horizontally flipped image.

    Colour jitter changes each pixel monotonically, so an output correlates strongly with the
    image in its own orientation and hardly at all (noise images) with the mirrored one.
    """
    base = plain(pixels)
    same = torch.corrcoef(torch.stack([out.flatten(), base.flatten()]))[0, 1]
    mirrored = torch.corrcoef(torch.stack([out.flatten(), base.flip(-1).flatten()]))[0, 1]
    return bool(mirrored > same)


@points(2, part="data")
@settings(max_examples=8)
@given(seed=st.integers(0, 10**6))
@example(seed=0)
def test_eval_transform_is_to_tensor_then_normalize(student, seed):
    """make_transforms(train=False): ToTensor then Normalize((0.5,)*3, (0.5,)*3), with no randomness: float 3×32×32 in [-1, 1]."""
    pixels = picture(seed)
    out = outputs_of(student, False, pixels, seed, times=3)
    want = plain(pixels)
    for k in range(3):
        if not torch.allclose(out[k], want, atol=ATOL) and torch.allclose(out[k], want.flip(-1), atol=ATOL):
            raise AssertionError(
                f"make_transforms(train=False) mirrored the image (call {k + 1} of 3): "
                "augmentation such as RandomHorizontalFlip belongs to the training pipeline only"
            )
        assert_close(out[k], want, atol=ATOL, what=f"make_transforms(train=False)(image), call {k + 1} of 3")


@points(1, part="data")
@settings(max_examples=6)
@given(seed=st.integers(0, 10**6))
@example(seed=1)
def test_train_transform_gives_normalised_tensors(student, seed):
    """make_transforms(train=True): a float 3×32×32 tensor normalised to [-1, 1] (Normalize last), whatever the augmentation drew."""
    pixels = picture(seed)
    pixels[0, :4], pixels[-1, -4:] = 0, 255  # a few black and white pixels (see below)
    out = outputs_of(student, True, pixels, seed, times=8)
    low, high = float(out.min()), float(out.max())
    assert low >= -1 - ATOL and high <= 1 + ATOL, (
        f"make_transforms(train=True)(image) has values in [{low:.3f}, {high:.3f}], expected within [-1, 1] "
        "(is Normalize((0.5,)*3, (0.5,)*3) the last step?)"
    )
    # ±20 % of brightness, contrast and saturation keep black pixels below 0.35 and white ones
    # above 0.65 (after Normalize: below -0.3 and above 0.3), whatever the draws.
    assert low < -0.3 and high > 0.3, (
        f"make_transforms(train=True)(image) of an image with black and white pixels has values only in [{low:.3f}, {high:.3f}]; "
        "after Normalize((0.5,)*3, (0.5,)*3) they span most of [-1, 1] (does a step come after Normalize?)"
    )


@points(1, part="data")
def test_train_transform_flips_and_jitters(student):
    """make_transforms(train=True) augments: about half the outputs are mirrored, and the colours change from call to call."""
    pixels, calls = picture(2), 24
    out = outputs_of(student, True, pixels, 2, times=calls)
    flipped = [orientation(o, pixels) for o in out]
    assert 3 <= sum(flipped) <= calls - 3, (
        f"{sum(flipped)} of {calls} outputs of make_transforms(train=True) were mirrored; "
        "RandomHorizontalFlip() mirrors half of them"
    )
    base = plain(pixels)
    unchanged = sum(
        bool(torch.allclose(o, base.flip(-1) if f else base, atol=1e-2)) for o, f in zip(out, flipped, strict=True)
    )
    assert unchanged <= 2, (
        f"{unchanged} of {calls} outputs of make_transforms(train=True) had the image's own colours; "
        "ColorJitter(0.2, 0.2, 0.2) changes brightness, contrast and saturation on (almost) every call"
    )


# --------------------------------------------------------------------------- split


def split_labels(student, n: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """The item labels (= indices) of the two subsets split_train_val returns for a data set of n numbered items."""
    pair = student.data.split_train_val(support(student).numbered(n), fraction, seed)
    assert_equal(len(pair), 2, what="the number of subsets split_train_val returns")
    return labels_of(student, pair[0]), labels_of(student, pair[1])


def labels_of(student, subset: Any) -> list[int]:
    """The labels of a subset's items, read in the child through len() and indexing."""
    return support(student).labels_of(subset)


def check_split(train: list[int], val: list[int], n: int, fraction: float) -> None:
    """Disjoint, covering, no repeats, the handout's sizes (round(n·f), either way on an exact .5)."""
    what = f"split_train_val of {n} items with val_fraction={fraction}"
    assert len(set(val)) == len(val) and len(set(train)) == len(train), f"{what}: an item appears twice in one subset"
    both = sorted(set(train) & set(val))
    assert not both, f"{what}: items {both[:10]} are in both subsets"
    assert_equal(sorted(train + val), list(range(n)), what=f"{what}: the items of both subsets together")
    exact = n * fraction
    sizes = {round(exact)} | ({int(np.floor(exact)), int(np.ceil(exact))} if exact % 1 == 0.5 else set())
    assert len(val) in sizes, (
        f"{what}: the validation subset has {len(val)} items, expected round({n}·{fraction}) = {round(exact)}"
    )


@points(2, part="data")
@settings(max_examples=20)
@given(n=st.integers(1, 300), fraction=st.floats(0.05, 0.95), seed=st.integers(0, 2**31 - 1))
@example(n=9, fraction=0.2, seed=42)
@example(n=100, fraction=0.2, seed=0)
def test_split_is_disjoint_covering_and_sized(student, n, fraction, seed):
    """split_train_val(dataset, f, seed): disjoint subsets that cover the data set, of sizes n − round(n·f) and round(n·f)."""
    train, val = split_labels(student, n, fraction, seed)
    check_split(train, val, n, fraction)


@points(1, part="data")
@settings(max_examples=6)
@given(n=st.integers(30, 200), seed=st.integers(0, 2**31 - 3))
@example(n=50, seed=42)
def test_split_is_random_and_seeded(student, n, seed):
    """split_train_val: the same seed gives the same split; different seeds give different splits."""
    first = split_labels(student, n, 0.2, seed)
    again = split_labels(student, n, 0.2, seed)
    assert_equal(again, first, what=f"split_train_val(dataset of {n}, 0.2, seed={seed}) called twice")
    others = [sorted(split_labels(student, n, 0.2, s)[1]) for s in (seed + 1, seed + 2)]
    assert any(o != sorted(first[1]) for o in others), (
        f"split_train_val(dataset of {n}, 0.2, seed) gave the same validation items for seeds {seed}, {seed + 1} "
        f"and {seed + 2}: the split must be a random permutation drawn from the seed"
    )
