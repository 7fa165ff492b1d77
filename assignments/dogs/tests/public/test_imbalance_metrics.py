"""Public tests of `imbalance.py`'s metrics: per-class accuracy, precision, recall and F1.

Dog = 1 is the positive class. Hand-worked label vectors, and the documented conventions:
NaN for a class with no example, 0.0 for a zero denominator (never an error).
"""

import math

import numpy as np

from grader.testing import assert_close, assert_equal, points


def _floats(got, k: int, what: str) -> np.ndarray:
    """`got` as K floats (a failure message when it is not a sequence of K numbers; None is no NaN)."""
    items = list(got) if isinstance(got, list | tuple) else None
    numbers = (int, float, np.integer, np.floating)
    if items is not None and not all(
        isinstance(v, numbers) and not isinstance(v, bool) for v in items
    ):
        raise AssertionError(f"{what} should be a list of {k} floats, got {got!r}")
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should be a list of {k} floats, got {got!r}") from None
    assert_equal(arr.shape, (k,), what=f"length of {what}")
    return arr


@points(2, part="imbalance_metrics")
def test_per_class_accuracy_worked_example(student):
    """per_class_accuracy: for each class, the fraction of its examples predicted right; NaN for a class with no example."""
    y_true = [0, 0, 1, 1, 1, 3, 3, 3, 3]
    y_pred = [0, 2, 1, 1, 0, 3, 3, 0, 3]
    got = student.imbalance.per_class_accuracy(y_true, y_pred, 4)
    arr = _floats(got, 4, "per_class_accuracy(y_true, y_pred, 4)")
    assert math.isnan(arr[2]), (
        f"per_class_accuracy gives {float(arr[2])!r} for class 2, which has no example; expected NaN"
    )
    assert_close(arr, [1 / 2, 2 / 3, math.nan, 3 / 4],
                 what=f"per_class_accuracy({y_true}, {y_pred}, 4)")  # fmt: skip
    y_true, y_pred = [1, 1, 1, 0, 0, 0, 0, 1], [1, 0, 1, 1, 0, 0, 0, 0]
    got = student.imbalance.per_class_accuracy(y_true, y_pred, 2)
    assert_close(_floats(got, 2, "per_class_accuracy(y_true, y_pred, 2)"), [3 / 4, 2 / 4],
                 what=f"per_class_accuracy({y_true}, {y_pred}, 2) (cat, dog)")  # fmt: skip


@points(2, part="imbalance_metrics")
def test_precision_recall_f1_worked_example(student):
    """precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R) for dogs (1): 2 dogs found, 1 false alarm, 2 dogs missed."""
    y_true = [1, 1, 1, 0, 0, 0, 0, 1]
    y_pred = [1, 0, 1, 1, 0, 0, 0, 0]
    m = student.imbalance
    assert_close(m.precision(y_true, y_pred), 2 / 3, what=f"precision({y_true}, {y_pred})")
    assert_close(m.recall(y_true, y_pred), 2 / 4, what=f"recall({y_true}, {y_pred})")
    assert_close(m.f1_score(y_true, y_pred), 4 / 7, what=f"f1_score({y_true}, {y_pred})")


@points(2, part="imbalance_metrics")
def test_zero_denominators_give_zero(student):
    """precision, recall and F1 are 0.0, not an error, when their denominator is zero (no dog predicted, no dog present, all wrong)."""
    m = student.imbalance
    cases = [
        ("no dog predicted", [0, 1, 0, 1], [0, 0, 0, 0]),
        ("no dog present", [0, 0, 0], [1, 0, 1]),
        ("only cats, all right", [0, 0], [0, 0]),
        ("all wrong", [1, 0, 1], [0, 1, 0]),
    ]
    for name, y_true, y_pred in cases:
        for fn in ("precision", "recall", "f1_score"):
            got = getattr(m, fn)(y_true, y_pred)
            assert_close(got, 0.0, what=f"{fn}({y_true}, {y_pred}) ({name})")
