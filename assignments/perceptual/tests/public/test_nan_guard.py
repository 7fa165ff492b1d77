"""Public tests of `train.train_one_epoch`: it stops at the first non-finite loss, clips the
global gradient norm, and returns the mean loss.

The model, loader, optimizer (plain SGD) and criterion (MSE) are the grader's, built in the
child (`probe_nets.Regressor`, a CPU loader, `student.harness`); the same run is computed here
on a twin, and your parameters after the epoch (or after the raise) come back by value and are
compared with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from grader.checks.modules import state_of
from grader.testing import assert_close, assert_equal, points

from . import probe_nets


@dataclass
class TwinRun:
    """What the handout's epoch does, computed here."""

    params: dict[str, torch.Tensor]
    losses: list[float]
    bad_step: int | None  # the 0-based batch whose loss was not finite (None: all finite)
    grad_norms: list[float]  # the global gradient norm of each step before clipping


def twin_run(seed: int, x: torch.Tensor, y: torch.Tensor, batch: int, lr: float, max_norm: float | None = None, linear: bool = False) -> TwinRun:
    """The epoch on the twin: zero_grad, loss, stop at a non-finite loss, backward, clip, step."""
    model = probe_nets.Regressor(seed, linear=linear)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses, norms = [], []
    for step, i in enumerate(range(0, len(x), batch)):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x[i : i + batch]), y[i : i + batch])
        if not torch.isfinite(loss):
            return TwinRun(state(model), losses, step, norms)
        loss.backward()
        norms.append(float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()]))))
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        losses.append(float(loss.detach()))
    return TwinRun(state(model), losses, None, norms)


def state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A trusted model's tensors, detached copies."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def student_run(student: Any, seed: int, x: torch.Tensor, y: torch.Tensor, batch: int, lr: float, linear: bool = False, **kwargs: Any) -> tuple[dict, dict]:
    """train_one_epoch on the grader's pieces in the child: (what it returned or raised, the model's tensors after)."""
    probes = student.ship(probe_nets)
    model = probes.Regressor(seed, linear=linear)
    loader = probes.loader(x, y, batch)
    optimizer = student.harness.make_optimizer(model, "sgd", lr=lr)
    criterion = student.harness.make_criterion("mse")
    train = student.train
    result = probes.catch(train.train_one_epoch, model, loader, optimizer, criterion, expected=train.NonFiniteLossError, **kwargs)
    if result["raised"] and result["type"] == "NotImplementedError":
        raise AssertionError(f"TODO not done yet: train_one_epoch (it raised NotImplementedError: {result['message']})")
    return result, state_of(model, what="the model after train_one_epoch")


def assert_params(got: dict, want: dict, what: str) -> None:
    """Every tensor of the model as computed here."""
    assert_equal(sorted(got), sorted(want), what=f"tensor names of the model {what}")
    for k in want:
        assert_close(got[k], want[k], rtol=1e-4, atol=1e-6, what=f"{k} {what}")


def assert_stopped_at(result: dict, got: dict, twin: TwinRun, what: str) -> None:
    """Raised NonFiniteLossError with .step at the twin's bad step; weights as after the last good step."""
    step = twin.bad_step
    assert step is not None, "the grader's run does not diverge: choose other data"
    assert result["raised"], f"train_one_epoch returned {result.get('result')!r} although the loss of batch {step} ({what}) is not finite; expected NonFiniteLossError"
    assert result["is_expected"], f"train_one_epoch raised {result['type']} ({result['message']}), expected train.NonFiniteLossError"
    assert result["step"] is not None, f"NonFiniteLossError.step is {result['step_repr']}, expected the int {step}"
    assert_equal(result["step"], step, what=f"NonFiniteLossError.step (0-based index of the first batch whose loss is not finite: {what})")
    assert_params(got, twin.params, f"after the raise (as after the {step} good steps before it; the bad batch must not update it)")


def batches(seed: int, n_batches: int, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random regression data: N×3 inputs and N×2 targets."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n_batches * batch, 3, generator=g), torch.randn(n_batches * batch, 2, generator=g)


@points(2, part="nan_guard")
def test_stops_at_the_first_nan_loss(student):
    """train_one_epoch: a NaN in batch 3's inputs makes its loss NaN: NonFiniteLossError with .step == 3, and the weights stay as after batches 0–2."""
    x, y = batches(0, 6, 4)
    x[13, 1] = math.nan  # batch 3 (rows 12–15)
    twin = twin_run(0, x, y, 4, lr=0.1)
    result, got = student_run(student, 0, x, y, 4, lr=0.1)
    assert_stopped_at(result, got, twin, "a NaN input in batch 3")


@points(2, part="nan_guard")
def test_clipping_bounds_the_global_gradient_norm(student):
    """train_one_epoch(..., max_grad_norm=0.1): one SGD step (lr 1) moves all parameters together by a vector of norm at most 0.1, exactly as clip_grad_norm_ does."""
    x, y = batches(1, 1, 8)
    y = 5 * y  # gradients far above the bound
    twin = twin_run(1, x, y, 8, lr=1.0, max_norm=0.1)
    assert twin.grad_norms[0] > 1.0, "the grader's gradients are too small to be clipped"
    result, got = student_run(student, 1, x, y, 8, lr=1.0, max_grad_norm=0.1)
    assert not result["raised"], f"train_one_epoch raised {result['type']}: {result['message']}"
    start = state(probe_nets.Regressor(1))
    moved = float(torch.linalg.vector_norm(torch.stack([(got[k] - start[k]).norm() for k in start])))
    assert moved <= 0.1 * (1 + 1e-4), f"one step of lr 1 moved the parameters by a vector of norm {moved:.4g}: the global gradient norm was not clipped to 0.1"
    assert_params(got, twin.params, "after one clipped step (clip_grad_norm_ over all parameters together)")


@points(1, part="nan_guard")
def test_returns_the_mean_loss_and_trains_on_every_batch(student):
    """train_one_epoch without clipping: one SGD step per batch, and it returns the mean of the batch losses."""
    x, y = batches(2, 5, 4)
    twin = twin_run(2, x, y, 4, lr=0.1)
    result, got = student_run(student, 2, x, y, 4, lr=0.1)
    assert not result["raised"], f"train_one_epoch raised {result['type']}: {result['message']}"
    assert isinstance(result["result"], float | int), f"train_one_epoch returned {result['result']!r}, expected a number"
    assert_close(result["result"], sum(twin.losses) / len(twin.losses), rtol=1e-5, what="train_one_epoch's return value (mean of the 5 batch losses)")
    assert_params(got, twin.params, "after an epoch of 5 batches")
