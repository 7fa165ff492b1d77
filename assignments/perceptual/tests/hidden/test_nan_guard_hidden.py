"""Hidden tests of `train.train_one_epoch`: an infinite loss at any step, a run that really
diverges, and global clipping over several batches for several bounds."""

from __future__ import annotations

import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.testing import assert_close, points

from ..public.test_nan_guard import assert_params, assert_stopped_at, batches, student_run, twin_run


@points(2, part="nan_guard")
@settings(max_examples=4)
@given(bad=st.integers(0, 4), seed=st.integers(0, 100))
@example(bad=0, seed=5)
@example(bad=2, seed=6)
def test_stops_at_an_infinite_loss(student, bad, seed):
    """train_one_epoch: a target of 1e30 in batch `bad` makes its loss +inf (not NaN): NonFiniteLossError with .step == bad, weights as after the batches before it."""
    x, y = batches(seed, bad + 2, 3)
    y[3 * bad + 1, 0] = 1e30
    twin = twin_run(seed, x, y, 3, lr=0.1)
    assert twin.bad_step == bad, "the grader's data do not give an infinite loss where planned"
    result, got = student_run(student, seed, x, y, 3, lr=0.1)
    assert_stopped_at(result, got, twin, f"a target of 1e30 in batch {bad}, loss +inf")


@points(1, part="nan_guard")
def test_stops_when_training_diverges(student):
    """train_one_epoch with a far too large learning rate: the loss grows until it overflows; NonFiniteLossError at that very step, weights as after the step before."""
    x, y = batches(1, 14, 4)
    x = 3 * x
    twin = twin_run(1, x, y, 4, lr=10.0, linear=True)
    assert twin.bad_step is not None and 2 <= twin.bad_step < 14, "the grader's run does not diverge where planned"
    result, got = student_run(student, 1, x, y, 4, lr=10.0, linear=True)
    assert_stopped_at(result, got, twin, f"a diverging run (lr 10) whose loss overflows at step {twin.bad_step}")


@points(2, part="nan_guard")
@settings(max_examples=4)
@given(max_norm=st.sampled_from([0.01, 0.3, 2.0, 1e3]), seed=st.integers(0, 100))
@example(max_norm=0.05, seed=7)
@example(max_norm=1e3, seed=8)
def test_clipping_over_several_batches(student, max_norm, seed):
    """train_one_epoch(..., max_grad_norm=m) over 3 batches: each step clips the global norm of all gradients together to m (and a large m changes nothing), as clip_grad_norm_ does."""
    x, y = batches(seed, 3, 5)
    y = 3 * y
    twin = twin_run(seed, x, y, 5, lr=0.5, max_norm=max_norm)
    result, got = student_run(student, seed, x, y, 5, lr=0.5, max_grad_norm=max_norm)
    assert not result["raised"], f"train_one_epoch raised {result['type']}: {result['message']}"
    assert_params(got, twin.params, f"after 3 steps clipped to a global gradient norm of {max_norm:g} (gradient norms before clipping: {[round(n, 3) for n in twin.grad_norms]})")
    assert_close(result["result"], sum(twin.losses) / 3, rtol=1e-5, what="train_one_epoch's return value (mean of the 3 batch losses)")
    assert torch.isfinite(torch.tensor(result["result"])), "the mean loss is not finite"
