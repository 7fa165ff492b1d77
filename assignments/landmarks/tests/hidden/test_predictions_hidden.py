"""Hidden tests of `train_common.predictions`: argmax over the classes with ties."""

import numpy as np
import torch
from hypothesis import example, given

from grader.strategies import logits
from grader.testing import assert_equal, points


@points(2, part="predictions")
@given(x=logits(ties=True))
@example(x=np.array([[1, 1, 0], [0, 2, 2], [3, 0, 3], [-1, -1, -1]], dtype=np.float32))
def test_predictions_argmax_lowest_index_on_ties(student, x):
    """predictions: argmax over dim 1 on arbitrary logits, ties resolved to the lowest index."""
    got = student.train_common.predictions(torch.from_numpy(x))
    assert_equal(
        np.asarray(got).astype(np.int64), np.argmax(x, axis=1), what=f"predictions of\n{x}\n"
    )
