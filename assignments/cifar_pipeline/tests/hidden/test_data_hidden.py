"""Hidden tests of data.py: the histogram of the CIFAR-10 folder itself and of tensor labels,
the training pipeline step by step under a given seed, and the split's edge cases, defaults
and independence from the global random state."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.synthetic.cifar10 import load_batches
from grader.testing import assert_close, assert_equal, points

from ..public import data_support
from ..public.test_data import (
    as_counts,
    check_split,
    histogram,
    outputs_of,
    picture,
    split_labels,
    support,
)

# Each PIL enhancement rounds to whole grey levels; a pipeline that jitters the tensor instead
# of the PIL image (the same draws) differs by a few levels, a wrong order or wrong factors by far more.
JITTER_ATOL = 0.05


@points(1, part="data")
def test_class_histogram_of_the_cifar_training_set(student, data_dir):
    """class_histogram(CIFAR10(train=True)) on the data folder: the number of training images of each class."""
    _, labels = load_batches(data_dir, "train")
    dataset = support(student).cifar10(str(data_dir), True)
    with student.time_limit(30):
        got = student.data.class_histogram(dataset)
    what = "class_histogram of the CIFAR-10 training set"
    assert_equal(as_counts(got, what), histogram(labels.tolist(), 10), what=what)


@points(1, part="data")
@settings(max_examples=10)
@given(raw=st.lists(st.integers(0, 14), max_size=40), num_classes=st.integers(1, 15))
@example(raw=[11, 0, 11, 5], num_classes=12)
def test_class_histogram_with_tensor_labels_and_num_classes(student, raw, num_classes):
    """class_histogram(dataset, num_classes=k): k counts, for labels given as 0-d tensors (as a TensorDataset gives them)."""
    labels = [v % num_classes for v in raw]
    got = student.data.class_histogram(support(student).Labelled(labels, True), num_classes=num_classes)
    what = f"class_histogram(num_classes={num_classes}) of a data set with tensor labels {labels}"
    assert_equal(as_counts(got, what), histogram(labels, num_classes), what=what)


def handout_augmented(pixels: np.ndarray, seed: int, times: int, *, flip_first: bool) -> torch.Tensor:
    """The handout's training pipeline run here `times` times after torch.manual_seed(seed).

    RandomHorizontalFlip and ColorJitter(0.2, 0.2, 0.2) on the PIL image (in this order, or
    the other one with ``flip_first=False``), then ToTensor and Normalize((0.5,)*3, (0.5,)*3).
    """
    from torchvision import transforms

    augment = [transforms.RandomHorizontalFlip(), transforms.ColorJitter(0.2, 0.2, 0.2)]
    tf = transforms.Compose(
        [*(augment if flip_first else augment[::-1]), transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)]
    )
    image = data_support.pil_image(pixels)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.stack([tf(image) for _ in range(times)])


@points(2, part="data")
@settings(max_examples=5)
@given(seed=st.integers(0, 10**6))
@example(seed=3)
def test_train_transform_draws_flip_and_jitter_like_the_handout(student, seed):
    """make_transforms(train=True): RandomHorizontalFlip and ColorJitter(0.2, 0.2, 0.2) on the image, then ToTensor and Normalize (same seed, same outputs)."""
    pixels, times = picture(seed), 6
    got = outputs_of(student, True, pixels, seed, times)
    candidates = [handout_augmented(pixels, seed, times, flip_first=f) for f in (True, False)]
    for want in candidates:
        if bool(torch.allclose(got, want, rtol=0, atol=JITTER_ATOL)):
            return
    assert_close(got, candidates[0], rtol=0, atol=JITTER_ATOL,
                 what=f"{times} calls of make_transforms(train=True)(image) after torch.manual_seed({seed}), "
                 "against RandomHorizontalFlip, ColorJitter(0.2, 0.2, 0.2), ToTensor, Normalize with the same seed")


@points(1, part="data")
@settings(max_examples=15)
@given(n=st.integers(1, 12), fraction=st.floats(0.0, 1.0), seed=st.integers(0, 2**31 - 1))
@example(n=1, fraction=0.5, seed=0)
@example(n=10, fraction=0.25, seed=1)
@example(n=7, fraction=0.0, seed=2)
@example(n=7, fraction=1.0, seed=3)
@example(n=3, fraction=0.8, seed=4)
def test_split_edge_cases(student, n, fraction, seed):
    """split_train_val on tiny data sets and fractions down to 0 and up to 1: still disjoint, covering, round(n·f) validation items."""
    train, val = split_labels(student, n, fraction, seed)
    check_split(train, val, n, fraction)


@points(1, part="data")
@settings(max_examples=5)
@given(n=st.integers(10, 200), noise=st.integers(0, 10**6))
@example(n=101, noise=7)
def test_split_defaults_and_global_random_state(student, n, noise):
    """split_train_val(dataset): val_fraction 0.2 and seed 42 by default; the global random state does not change the split."""
    s = support(student)
    dataset = s.numbered(n)
    pair = student.data.split_train_val(dataset)
    default = support(student).labels_of(pair[0]), support(student).labels_of(pair[1])
    check_split(*default, n, 0.2)
    s.reseed_globals(noise)
    explicit = split_labels(student, n, 0.2, 42)
    assert_equal(explicit, default,
                 what=f"split_train_val(dataset of {n}, 0.2, 42) after reseeding the global generators, "
                 "against split_train_val(dataset) with the defaults")
