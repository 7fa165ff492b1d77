"""The training check: the target task trained with the submission's own pieces.

The model, criterion, optimizer, patience, train_epoch and early_stopping are the
submission's. A piece whose own part already lost points is replaced by a stand-in, so that
one bug is not paid for twice. Validation labels stay in this (trusted) process: the child
returns logits, AUROC and losses are computed here. The reference is trained the same way in
the same run, on the same device, for the time budget.
"""

from __future__ import annotations

import math

import pytest
import torch
from landmarks_data import standardized_tensors
from standins import EARLY_STOPPING, TRAIN_EPOCH

from grader.checks.training import TrainingRun, budget_verdict, run_epochs
from grader.testing import points


def _config(spec):
    cfg = spec.training.cuda if torch.cuda.is_available() and spec.training.cuda else spec.training.cpu
    return int(cfg.get("max_epochs", 40)), int(cfg.get("batch_size", 32)), float(cfg.get("epoch_seconds", 20))


def _train(sub, data, spec, *, use_standin) -> TrainingRun:
    max_epochs, batch_size, epoch_seconds = _config(spec)
    h = sub.harness
    model = h.to_device(sub.model.target.Target())
    criterion = sub.train_cnn.make_criterion()
    optimizer = sub.train_cnn.make_optimizer(model)
    patience = sub.train_cnn.PATIENCE
    if not isinstance(patience, int) or isinstance(patience, bool) or patience < 1:
        raise AssertionError(f"train_cnn.PATIENCE must be a positive int, got {patience!r}")
    substituted = []
    if use_standin("train_epoch"):
        train_epoch = h.define(TRAIN_EPOCH, "train_epoch")
        substituted.append("train_epoch")
    else:
        train_epoch = sub.train_common.train_epoch
    if use_standin("early_stopping"):
        early_stopping = h.define(EARLY_STOPPING, "early_stopping")
        substituted.append("early_stopping")
    else:
        early_stopping = sub.train_common.early_stopping
    loader = h.loader_from_tensors(data.x_train, data.y_train, batch_size, True, 0)
    run = run_epochs(
        sub,
        model=model,
        train_epoch=train_epoch,
        early_stopping=early_stopping,
        criterion=criterion,
        optimizer=optimizer,
        patience=patience,
        train_loader=loader,
        x_val=data.x_heldout,
        y_val=data.y_heldout,
        stop_data=(data.x_stop, data.y_stop),
        max_epochs=max_epochs,
        epoch_seconds_limit=epoch_seconds,
    )
    run.substituted = substituted
    return run


class _Runs:
    student: TrainingRun | None = None
    reference: TrainingRun | None = None
    error: BaseException | None = None


@pytest.fixture(scope="module")
def runs(student, reference, data_dir, heldout_dir, spec, part_scores):
    """Train the submission and the reference once; the tests below read the results."""
    result = _Runs()
    data = standardized_tensors(data_dir, heldout_dir)  # validation: the held-out set
    # Fresh children, with the same starting state for both, whatever earlier tests left behind
    # (objects, threads) or drew from the generators.
    for sub in (student, reference):
        sub.sandbox.stop()
        sub.sandbox.seed(spec.data.seed)
    try:
        result.student = _train(student, data, spec, use_standin=part_scores.lost)
    except BaseException as exc:  # reported by every test of this part
        result.error = exc
    # Nothing the submission left running (a background thread) may slow the reference's run.
    student.sandbox.stop()
    result.reference = _train(reference, data, spec, use_standin=lambda part: False)
    return result


def _student_run(runs) -> TrainingRun:
    if runs.error is not None:
        raise runs.error
    return runs.student


def _note(run: TrainingRun) -> str:
    if not run.substituted:
        return ""
    return f" (your {', '.join(run.substituted)} lost points in its own part, so a stand-in was used)"


@points(6, part="training")
def test_target_reaches_val_auroc_threshold(runs, spec, timings):
    """The trained Target reaches the validation AUROC threshold."""
    run = _student_run(runs)
    threshold = spec.training.thresholds["val_auroc"]
    timings["student_train_s"] = round(run.wall_seconds, 3)
    timings["reference_train_s"] = round(runs.reference.wall_seconds, 3)
    got = run.best_metric
    assert not math.isnan(got) and got >= threshold, (
        f"validation AUROC {got:.3f} after {run.epochs} epochs is below the threshold "
        f"{threshold:g} (the reference reached {runs.reference.best_metric:.3f}){_note(run)}"
    )


@points(2, part="training")
def test_loss_stays_finite(runs):
    """The validation loss stays finite during training."""
    run = _student_run(runs)
    assert run.non_finite_at is None, (
        f"the validation loss became {run.val_losses[-1]} after epoch {run.non_finite_at}{_note(run)}"
    )


@points(2, part="training")
def test_early_stopping_halts(runs, spec):
    """Training stops once the validation loss has not improved for PATIENCE epochs."""
    run = _student_run(runs)
    max_epochs = _config(spec)[0]
    assert run.stopped_early, (
        f"training ran all {max_epochs} epochs without early stopping (PATIENCE = {run.patience}){_note(run)}"
    )
    losses = run.val_losses
    best = min(range(len(losses)), key=losses.__getitem__)
    assert len(losses) - 1 - best == run.patience, (
        f"stopped {len(losses) - 1 - best} epochs after the best validation loss; PATIENCE is {run.patience}"
    )


@points(2, part="training")
def test_training_within_time_budget(runs, spec, timings):
    """Training time is within the budget: a ratio of the reference's time, and a cap."""
    run = _student_run(runs)
    ref = runs.reference
    # Compare time per epoch: a different number of epochs is early stopping's business. The
    # time is the child's CPU time over every call of the run (wall time on a GPU), so work
    # moved to a background thread or into the prediction call still counts.
    clock = "wall" if run.on_cuda else "cpu"
    timings[f"student_epoch_{clock}_s"] = round(run.seconds_per_epoch, 4)
    timings[f"reference_epoch_{clock}_s"] = round(ref.seconds_per_epoch, 4)
    ok, text = budget_verdict(
        run.seconds_per_epoch, ref.seconds_per_epoch, ratio=spec.training.budget_ratio, cap_s=spec.training.cap_seconds
    )
    assert ok, f"per epoch ({'wall' if run.on_cuda else 'CPU'} time of every call): {text}"
