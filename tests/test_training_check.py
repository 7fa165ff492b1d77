"""`grader.checks.training.run_epochs`: what the child's stopping rule is fed, and what is timed."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch

from grader.checks.training import cross_entropy, run_epochs


class _FakeHarness:
    def __init__(self, owner: _FakeSub) -> None:
        self.owner = owner

    def synchronize(self) -> None:
        self.owner.cpu += 0.01

    def predict(self, model: Any, x: torch.Tensor) -> np.ndarray:
        self.owner.cpu += 0.5  # work done in the prediction call counts too
        # Logits that depend on the inputs only, so each partition has its own.
        return np.stack([x[:, 0].numpy(), -x[:, 0].numpy()], axis=1).astype(np.float64)


class _FakeSandbox:
    def __init__(self, owner: _FakeSub) -> None:
        self.owner = owner

    def cpu_seconds(self) -> float:
        return self.owner.cpu


class _FakeSub:
    """Stands in for the `student` fixture: a child whose CPU clock the test controls."""

    def __init__(self) -> None:
        self.cpu = 100.0
        self.harness = _FakeHarness(self)
        self.sandbox = _FakeSandbox(self)

    def time_limit(self, seconds: float) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def test_the_stopping_rule_never_sees_statistics_of_held_out_labels():
    g = torch.Generator().manual_seed(0)
    x_stop, y_stop = torch.randn(20, 3, generator=g), np.arange(20) % 2
    x_held, y_held = torch.randn(30, 3, generator=g), (np.arange(30) // 3) % 2
    seen: list[list[list[float]]] = []
    sub = _FakeSub()

    def train_epoch(*args: Any) -> None:
        sub.cpu += 0.1

    def early_stopping(stats: list[list[float]], count: int, min_loss: float) -> tuple[int, float]:
        seen.append([list(s) for s in stats])
        return count + 1, min_loss

    run = run_epochs(
        sub, model=None, train_epoch=train_epoch, early_stopping=early_stopping, criterion=None,
        optimizer=None, patience=3, train_loader=None, x_val=x_held, y_val=y_held, max_epochs=10,
        stop_data=(x_stop, y_stop),
    )  # fmt: skip
    assert run.stopped_early and run.epochs == 3
    stop_logits = np.stack([x_stop[:, 0].numpy(), -x_stop[:, 0].numpy()], axis=1).astype(np.float64)
    held_logits = np.stack([x_held[:, 0].numpy(), -x_held[:, 0].numpy()], axis=1).astype(np.float64)
    expected_loss = cross_entropy(stop_logits, y_stop)
    for stats in seen:
        assert stats[-1][1] == expected_loss
        assert stats[-1][0] == float((stop_logits.argmax(axis=1) == y_stop).mean())
    assert run.val_losses == [expected_loss] * 3
    assert run.final_logits is not None and np.array_equal(run.final_logits, held_logits)
    # The threshold metric is the held-out partition's, computed here.
    assert run.best_metric == run.val_metric[0] and run.val_metric[0] != seen[0][0][2]
    # Every call of the run is timed: two predictions, a sync and an epoch each time.
    assert abs(run.cpu_seconds - 3 * (0.1 + 0.01 + 2 * 0.5)) < 1e-9
    assert run.train_seconds == run.cpu_seconds and abs(run.seconds_per_epoch - 1.11) < 1e-9


def test_blaming_a_piece_keeps_what_the_failure_is():
    """A wall-clock time-out stays one (the grading runs it again alone); an exit stays an exit."""
    from grader.checks.training import blamed
    from grader.sandbox.host.client import StudentExit, StudentTimeout

    timeout = StudentTimeout("your code did not return within 20 s in `predict`")
    timeout.wall = True
    out = blamed(timeout, "train_epoch")
    assert type(out) is StudentTimeout and out.wall is True
    assert str(out) == "train_epoch: your code did not return within 20 s in `predict`"
    tb = 'Traceback (most recent call last):\n  File "train.py", line 3, in train_epoch\nSystemExit: 1\n'
    exited = blamed(StudentExit("x(…)", "SystemExit", "your code called sys.exit(1)", tb), "train_epoch")
    assert type(exited) is StudentExit and exited.what == "train_epoch"
    assert exited.exc_message == "your code called sys.exit(1) (raised in `train_epoch`, train.py line 3)"


def test_training_data_from_uint8_images_is_normalised_with_the_training_statistics() -> None:
    from grader.checks.training import TrainingData, channel_statistics

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, size=(n, 4, 5, 3), dtype=np.uint8) for n in (6, 3, 2)]
    labels = [np.arange(len(x), dtype=np.int64) for x in images]
    data = TrainingData.from_images(*zip(images, labels, strict=True))
    assert data.x_train.shape == (6, 3, 4, 5) and data.x_train.dtype == torch.float32
    assert torch.allclose(data.x_train.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(data.x_train.std(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-5)
    mean, std = channel_statistics(images[0])
    want = (images[1][0, 0, 0] / 255.0 - mean) / std
    assert np.allclose(data.x_stop[0, :, 0, 0].numpy(), want, atol=1e-6)
    assert data.y_heldout.tolist() == [0, 1] and data.y_train.tolist() == list(range(6))
    fixed = TrainingData.from_images(*zip(images, labels, strict=True), mean=[0.5] * 3, std=[0.25] * 3)
    assert np.allclose(fixed.x_heldout[1, :, 3, 4].numpy(), (images[2][1, 3, 4] / 255.0 - 0.5) / 0.25, atol=1e-6)
