"""Timed training checks, driven from the trusted process.

The model, the optimizer and the training epoch run inside a sandboxed child; after every
epoch the trusted process sends the validation *inputs*, gets logits back by value, and computes
the validation loss and metrics itself, so held-out labels never enter the child. Early
stopping is the submission's own rule, fed the statistics the trusted process computed.

Time is measured over the whole run, every call of it (training epochs, predictions, the
stopping rule) and whatever the child's tree does in between (a background thread too): the
CPU seconds of the child's tree, read from the kernel by this process, and the wall time of
every call (the child synchronises CUDA before it answers). On the CPU the budget compares CPU
seconds, which a busy host does not inflate; on a GPU, wall seconds. Submission and reference
are measured the same way on the same device in the same run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


class NonFiniteLoss(AssertionError):
    """The validation loss became NaN or infinite."""


@dataclass
class TrainingRun:
    """What one training run produced."""

    val_losses: list[float] = field(default_factory=list)  # on the partition the stopping rule sees
    val_metric: list[float] = field(default_factory=list)  # on the held-out partition
    epoch_seconds: list[float] = field(default_factory=list)  # wall time of each epoch's calls
    cpu_seconds: float = 0.0  # CPU time of the child's whole tree over the run
    on_cuda: bool = False
    stopped_early: bool = False
    final_logits: np.ndarray | None = None
    non_finite_at: int | None = None  # epoch (1-based) where the loss became NaN/inf
    substituted: list[str] = field(default_factory=list)  # pieces replaced by stand-ins
    patience: int | None = None

    @property
    def wall_seconds(self) -> float:
        """Wall time of every call of the run."""
        return float(sum(self.epoch_seconds))

    @property
    def train_seconds(self) -> float:
        """The time the budget compares: CPU seconds of the run (wall seconds on a GPU)."""
        return self.wall_seconds if self.on_cuda else self.cpu_seconds

    @property
    def seconds_per_epoch(self) -> float:
        """`train_seconds` per epoch run."""
        return self.train_seconds / max(self.epochs, 1)

    @property
    def epochs(self) -> int:
        """Number of epochs run."""
        return len(self.epoch_seconds)

    @property
    def best_metric(self) -> float:
        """The validation metric at the epoch of the lowest validation loss."""
        if not self.val_losses:
            return float("nan")
        best = int(np.nanargmin(np.asarray(self.val_losses, dtype=float)))
        return self.val_metric[best]


def binary_auroc(labels: np.ndarray, logits: np.ndarray) -> float:
    """AUROC of the positive class (column 1 of N×2 logits) computed with scikit-learn."""
    from sklearn.metrics import roc_auc_score

    scores = torch.softmax(torch.as_tensor(logits, dtype=torch.float64), dim=1)[:, 1].numpy()
    if len(np.unique(labels)) < 2 or not np.isfinite(scores).all():
        return float("nan")
    return float(roc_auc_score(labels, scores))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of logits against integer labels, in float64."""
    t = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    return float(torch.nn.functional.cross_entropy(t, torch.as_tensor(labels, dtype=torch.long)))


def run_epochs(
    sub: Any,
    *,
    model: Any,
    train_epoch: Any,
    early_stopping: Any,
    criterion: Any,
    optimizer: Any,
    patience: int,
    train_loader: Any,
    x_val: torch.Tensor,
    y_val: np.ndarray,
    max_epochs: int,
    metric: Any = binary_auroc,
    epoch_seconds_limit: float = 60.0,
    stop_data: tuple[torch.Tensor, np.ndarray] | None = None,
) -> TrainingRun:
    """Train epoch by epoch with early stopping; validation metrics computed here (trusted).

    `sub` is the `student` or `reference` fixture; `model`, `criterion`, `optimizer` and
    `train_loader` are handles in its child; `train_epoch(loader, model, criterion, optimizer)`
    and `early_stopping(stats, count, min_loss) -> (count, min_loss)` are callables (handles).

    `x_val`, `y_val` is the held-out partition that decides the metric. The statistics handed
    to the child's stopping rule come from `stop_data` (inputs, labels), a partition whose
    labels the child may know anyway (the public validation set): fed numbers computed from
    held-out labels, a submission could read those labels back one epoch at a time. Without
    `stop_data` the held-out partition serves both.
    """
    run = TrainingRun(patience=patience, on_cuda=torch.cuda.is_available())
    h = sub.harness
    count, min_loss = 0, float("inf")
    stats: list[list[float]] = []
    x_stop, y_stop = stop_data if stop_data is not None else (x_val, y_val)
    cpu_start = sub.sandbox.cpu_seconds()
    try:
        for epoch in range(1, max_epochs + 1):
            t0 = time.perf_counter()
            with sub.time_limit(epoch_seconds_limit):
                train_epoch(train_loader, model, criterion, optimizer)
                h.synchronize()
                logits = np.asarray(h.predict(model, x_val), dtype=np.float64)
                stop_logits = logits if stop_data is None else np.asarray(h.predict(model, x_stop), dtype=np.float64)
            wall = time.perf_counter() - t0
            finite = bool(np.isfinite(logits).all() and np.isfinite(stop_logits).all())
            loss = cross_entropy(stop_logits, y_stop) if finite else float("nan")
            run.val_losses.append(loss)
            run.val_metric.append(metric(y_val, logits) if finite else float("nan"))
            run.final_logits = logits
            if not math.isfinite(loss):
                run.epoch_seconds.append(wall)
                run.non_finite_at = epoch
                return run
            accuracy = float((stop_logits.argmax(axis=1) == y_stop).mean())
            # The course's layout of one epoch's statistics: [val_acc, val_loss, val_auroc].
            stats.append([accuracy, loss, metric(y_stop, stop_logits) if stop_data is not None else run.val_metric[-1]])
            t1 = time.perf_counter()
            count, min_loss = early_stopping(stats, count, min_loss)
            run.epoch_seconds.append(wall + time.perf_counter() - t1)
            if int(count) >= int(patience):
                run.stopped_early = True
                break
    finally:
        run.cpu_seconds = max(0.0, sub.sandbox.cpu_seconds() - cpu_start)
    return run


def budget_verdict(student_s: float, reference_s: float, *, ratio: float, cap_s: float) -> tuple[bool, str]:
    """Whether `student_s` is within `ratio` × the reference's time and under the cap."""
    allowed = min(ratio * reference_s, cap_s) if reference_s > 0 else cap_s
    verdict = student_s <= allowed
    text = (
        f"your training took {student_s:.2f} s, the reference {reference_s:.2f} s on the same "
        f"device; allowed: {allowed:.2f} s (≤ {ratio:g}× the reference, at most {cap_s:g} s)"
    )
    return verdict, text
