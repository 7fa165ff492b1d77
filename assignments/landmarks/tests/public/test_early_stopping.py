"""Public tests of `train_common.early_stopping`: hand-worked updates."""

from grader.testing import assert_close, assert_equal, points


def _stats(*val_losses: float) -> list[list[float]]:
    """One stats entry per epoch: [val_acc, val_loss, val_auroc, train_acc, train_loss, train_auroc]."""
    return [[0.5, loss, 0.5, 0.5, 1.0, 0.5] for loss in val_losses]


@points(2, part="early_stopping")
def test_improvement_resets_count_and_minimum(student):
    """early_stopping: a validation loss below the minimum resets the count to 0 and becomes the minimum."""
    count, best = student.train_common.early_stopping(_stats(0.9, 0.7, 0.4), 3, 0.7)
    assert_equal(count, 0, what="count after the loss fell from 0.7 to 0.4")
    assert_close(best, 0.4, what="global_min_loss after the loss fell from 0.7 to 0.4")


@points(2, part="early_stopping")
def test_no_improvement_counts_up(student):
    """early_stopping: a loss above, or equal to, the minimum adds one to the count and keeps the minimum."""
    count, best = student.train_common.early_stopping(_stats(0.5, 0.6), 1, 0.5)
    assert_equal(count, 2, what="count after a loss of 0.6 with minimum 0.5 and count 1")
    assert_close(best, 0.5, what="global_min_loss after a loss of 0.6 with minimum 0.5")
    count, best = student.train_common.early_stopping(_stats(0.5, 0.5), 0, 0.5)
    assert_equal(
        count, 1, what="count after a loss equal to the minimum 0.5 (strict <: no improvement)"
    )
    assert_close(best, 0.5, what="global_min_loss after a loss equal to the minimum")
