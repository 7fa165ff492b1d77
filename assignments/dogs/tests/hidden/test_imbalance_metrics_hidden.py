"""Hidden tests of `imbalance.py`'s metrics on arbitrary label vectors (hypothesis).

Precision, recall and F1 are compared with scikit-learn (positive label 1, zero_division=0);
per-class accuracy with a count written here. Inputs come as lists, numpy arrays and tensors.
"""

import math

import numpy as np
import sklearn.metrics as skm
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from assignments.dogs.labels import KINDS, as_kind
from grader.testing import assert_close, points

from ..public.test_imbalance_metrics import _floats

PART = "imbalance_metrics"


@st.composite
def label_pairs(draw, k: int = 2, max_n: int = 40):
    """(y_true, y_pred, kind): two label lists of one length with values in 0..k-1, and a type."""
    n = draw(st.integers(1, max_n))
    # mostly-cats vectors (the imbalanced case) as well as arbitrary ones
    labels = st.lists(st.integers(0, k - 1) | st.just(0), min_size=n, max_size=n)
    return draw(labels), draw(labels), draw(st.sampled_from(KINDS))


@st.composite
def multiclass_pairs(draw, max_n: int = 30, max_k: int = 6):
    """(y_true, y_pred, k, kind): labels in 0..k-1 where some classes are often absent from y_true."""
    k = draw(st.integers(1, max_k))
    present = draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=k, unique=True))
    n = draw(st.integers(1, max_n))
    y_true = draw(st.lists(st.sampled_from(present), min_size=n, max_size=n))
    y_pred = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    return y_true, y_pred, k, draw(st.sampled_from(KINDS))


def _sk(fn, y_true: list[int], y_pred: list[int]) -> float:
    return float(fn(y_true, y_pred, labels=[0, 1], pos_label=1, average="binary", zero_division=0))


def _check_binary(student, name: str, sk_fn, pair) -> None:
    y_true, y_pred, kind = pair
    got = getattr(student.imbalance, name)(as_kind(y_true, kind), as_kind(y_pred, kind))
    assert isinstance(got, (float, int, np.floating, np.integer)) and not isinstance(got, bool), (
        f"{name} should return a float, got {type(got).__name__} {got!r}"
    )
    assert_close(
        got, _sk(sk_fn, y_true, y_pred), what=f"{name}(y_true={y_true}, y_pred={y_pred}) ({kind})"
    )


def _per_class_accuracy(y_true: list[int], y_pred: list[int], k: int) -> list[float]:
    """Counted here: right / total per class, NaN when the class has no example."""
    total, right = [0] * k, [0] * k
    for t, p in zip(y_true, y_pred, strict=True):
        total[t] += 1
        right[t] += t == p
    return [right[c] / total[c] if total[c] else math.nan for c in range(k)]


@points(2, part=PART)
@given(case=multiclass_pairs())
@example(case=([0, 0, 0], [0, 1, 2], 3, "list"))  # classes 1 and 2 absent
@example(case=([1, 2, 0, 1], [1, 2, 0, 1], 3, "tensor"))  # all right
@example(case=([1, 2, 0, 1], [0, 1, 2, 0], 3, "numpy"))  # all wrong
def test_per_class_accuracy_matches_counting(student, case):
    """per_class_accuracy on arbitrary label vectors (lists, numpy arrays, tensors): K floats, right/total per class, NaN where a class has no example."""
    y_true, y_pred, k, kind = case
    got = student.imbalance.per_class_accuracy(as_kind(y_true, kind), as_kind(y_pred, kind), k)
    what = f"per_class_accuracy(y_true={y_true}, y_pred={y_pred}, num_classes={k}) ({kind})"
    assert_close(_floats(got, k, what), _per_class_accuracy(y_true, y_pred, k), what=what)


@points(2, part=PART)
@given(pair=label_pairs())
@example(pair=([0, 1, 0, 1], [0, 0, 0, 0], "list"))  # nothing predicted positive
@example(pair=([1, 1, 0, 0, 0], [1, 0, 1, 1, 0], "tensor"))
def test_precision_matches_sklearn(student, pair):
    """precision on arbitrary cat/dog label vectors (lists, numpy arrays, tensors) equals scikit-learn's (dog = 1, 0.0 on 0/0)."""
    _check_binary(student, "precision", skm.precision_score, pair)


@points(2, part=PART)
@given(pair=label_pairs())
@example(pair=([0, 0, 0], [1, 0, 1], "numpy"))  # no positive example
@example(pair=([1, 1, 0, 0, 0], [1, 0, 1, 1, 0], "list"))
def test_recall_matches_sklearn(student, pair):
    """recall on arbitrary cat/dog label vectors (lists, numpy arrays, tensors) equals scikit-learn's (dog = 1, 0.0 on 0/0)."""
    _check_binary(student, "recall", skm.recall_score, pair)


@points(2, part=PART)
@given(pair=label_pairs())
@example(pair=([1, 0, 1], [0, 1, 0], "tensor"))  # all wrong: P + R = 0
@example(pair=([0, 0], [0, 0], "list"))  # only cats
@example(pair=([1, 1, 0, 0, 0, 0], [1, 0, 1, 1, 1, 0], "numpy"))
def test_f1_matches_sklearn(student, pair):
    """f1_score on arbitrary cat/dog label vectors (lists, numpy arrays, tensors) equals scikit-learn's (dog = 1, 0.0 when P + R = 0)."""
    _check_binary(student, "f1_score", skm.f1_score, pair)


@points(1, part=PART)
def test_edge_cases_all_right_all_dogs_single_example(student):
    """All four metrics on edge cases: all right, only dogs, a single example, 1-element tensors and int32 arrays."""
    m = student.imbalance
    cases = [
        ("all right", [0, 1, 1, 0, 0], [0, 1, 1, 0, 0], 1.0, 1.0, 1.0, [1.0, 1.0]),
        ("only dogs, all found", [1, 1, 1], [1, 1, 1], 1.0, 1.0, 1.0, [math.nan, 1.0]),
        ("only dogs, one missed", [1, 1, 1, 1], [1, 0, 1, 1], 1.0, 0.75, 6 / 7, [math.nan, 0.75]),
        ("a single dog, missed", [1], [0], 0.0, 0.0, 0.0, [math.nan, 0.0]),
        ("a single cat, called a dog", [0], [1], 0.0, 0.0, 0.0, [0.0, math.nan]),
    ]
    for name, y_true, y_pred, p, r, f1, pca in cases:
        for t, q, kind in (
            (torch.tensor(y_true), torch.tensor(y_pred), "tensors"),
            (np.array(y_true, dtype=np.int32), np.array(y_pred, dtype=np.int32), "int32 arrays"),
        ):
            where = f"y_true={y_true}, y_pred={y_pred} as {kind} ({name})"
            assert_close(m.precision(t, q), p, what=f"precision({where})")
            assert_close(m.recall(t, q), r, what=f"recall({where})")
            assert_close(m.f1_score(t, q), f1, what=f"f1_score({where})")
            what = f"per_class_accuracy({where}, 2)"
            assert_close(_floats(m.per_class_accuracy(t, q, 2), 2, what), pca, what=what)
