"""Public tests of `train_common.predictions`: a hand-worked batch and the argmax property."""

import numpy as np
import torch
from hypothesis import example, given

from grader.strategies import logits
from grader.testing import assert_equal, points


@points(2, part="predictions")
def test_predictions_worked_example(student):
    """predictions: index of the largest logit of each row; a tie goes to the lowest index."""
    x = torch.tensor([[1.0, 3.0, 2.0], [5.0, 5.0, 0.0], [0.0, -1.0, -2.0], [-4.0, 2.0, 2.0]])
    got = student.train_common.predictions(x)
    assert_equal(np.asarray(got).tolist(), [1, 0, 0, 1], what="predictions of a 4×3 batch")


@points(1, part="predictions")
@given(x=logits(ties=False))
@example(x=np.array([[0.5, -1.0, 2.0], [3.0, 1.0, 0.0]], dtype=np.float32))
def test_predictions_pick_a_row_maximum(student, x):
    """predictions: one integer per row (N×K → N), each the index of a maximum of its row."""
    got = np.asarray(student.train_common.predictions(torch.from_numpy(x)))
    assert_equal(
        got.shape, (x.shape[0],), what=f"shape of predictions for {x.shape[0]}×{x.shape[1]} logits"
    )
    assert got.dtype.kind in "iu", f"predictions should be integers, got dtype {got.dtype}"
    assert ((got >= 0) & (got < x.shape[1])).all(), (
        f"predictions {got.tolist()} are not all class indices 0..{x.shape[1] - 1}"
    )
    assert_equal(
        x[np.arange(len(x)), got],
        x.max(axis=1),
        what="the logit at each predicted index (should be the row maximum)",
    )
