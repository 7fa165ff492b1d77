"""Hidden tests of `train_common.early_stopping`: random loss sequences against the rule."""

import math

from hypothesis import example, given
from hypothesis import strategies as st

from grader.testing import assert_close, assert_equal, points

# Few distinct values, so that a loss equal to the running minimum happens often.
LOSSES = st.sampled_from([0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0])


def _entry(loss: float) -> list[float]:
    return [0.5, loss, 0.5, 0.5, 1.0, 0.5]


@points(4, part="early_stopping")
@given(losses=st.lists(LOSSES | st.floats(0.0, 5.0, allow_nan=False), min_size=1, max_size=25))
@example(losses=[1.0, 0.5, 0.5, 0.75, 0.25, 0.25, 2.0])
def test_count_and_minimum_follow_the_rule(student, losses):
    """early_stopping: over a sequence of epochs, count and minimum match the rule (reset on a strictly lower loss)."""
    early_stopping = student.train_common.early_stopping
    count, best = 0, math.inf
    stats: list[list[float]] = []
    for epoch, loss in enumerate(losses):
        stats.append(_entry(loss))
        got_count, got_best = early_stopping(stats, count, best)
        if loss < best:
            count, best = 0, loss
        else:
            count += 1
        where = f"after epoch {epoch} (validation losses so far: {[e[1] for e in stats]})"
        assert_equal(got_count, count, what=f"count {where}")
        assert_close(got_best, best, rtol=0, atol=0, what=f"global_min_loss {where}")


@points(2, part="early_stopping")
@given(best=LOSSES, count=st.integers(0, 10), before=st.lists(LOSSES, max_size=5))
@example(best=0.5, count=2, before=[1.0, 0.75])
def test_equal_loss_is_not_an_improvement(student, best, count, before):
    """early_stopping: a loss equal to global_min_loss is not an improvement (strict <), the count goes up."""
    stats = [_entry(x) for x in before] + [_entry(best)]
    got_count, got_best = student.train_common.early_stopping(stats, count, best)
    assert_equal(
        got_count,
        count + 1,
        what=f"count after a loss equal to the minimum {best} (count was {count})",
    )
    assert_close(
        got_best,
        best,
        rtol=0,
        atol=0,
        what=f"global_min_loss after a loss equal to the minimum {best}",
    )
