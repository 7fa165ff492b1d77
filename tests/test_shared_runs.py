"""Reference training runs shared by verify's workers (grader/checks/shared_runs.py)."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from grader.checks import shared_runs, training
from grader.checks.training import TrainingRun


def _run(seed: float = 0.25) -> TrainingRun:
    return TrainingRun(
        val_losses=[0.7, seed, float("nan")],
        val_metrics={"auroc": [0.5, 0.8125, float("inf")], "recall": [1 / 3, 2 / 3, 0.1 + 0.2]},
        epoch_seconds=[0.01, 0.02, 0.03],
        cpu_seconds=1.2345678901234567,
        stopped_early=True,
        final_logits=np.array([[0.1, -2.5], [1e-300, 3.0], [np.nan, -np.inf]], dtype=np.float64),
        non_finite_at=3,
        non_finite_step=2,
        substituted=["train_epoch"],
        patience=5,
        max_epochs=40,
    )


def _same(a: TrainingRun, b: TrainingRun) -> bool:
    def eq(x: object, y: object) -> bool:
        if isinstance(x, float) and isinstance(y, float):
            return x == y or (math.isnan(x) and math.isnan(y))
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(eq(i, j) for i, j in zip(x, y, strict=True))
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(eq(x[k], y[k]) for k in x)
        return x == y

    for name in TrainingRun.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)):
                return False
            if x.dtype != y.dtype or not np.array_equal(x, y, equal_nan=True):
                return False
        elif not eq(x, y):
            return False
    return True


def test_a_run_read_back_is_the_run_written_to_the_last_bit() -> None:
    run = _run()
    back = shared_runs.run_from_json(shared_runs.run_to_json(run))
    assert _same(run, back)
    assert back.final_logits is not None and back.final_logits.shape == (3, 2)
    assert not _same(run, _run(seed=0.25000000000000006))  # the comparison can fail
    empty = TrainingRun()
    assert _same(empty, shared_runs.run_from_json(shared_runs.run_to_json(empty)))


def test_without_the_folder_every_call_trains(monkeypatch) -> None:
    monkeypatch.delenv(shared_runs.ENV, raising=False)
    calls: list[int] = []
    for _ in range(2):
        shared_runs.shared_or_trained(("k",), lambda: calls.append(1) or _run())
    assert len(calls) == 2


def test_workers_at_once_train_a_run_once_and_all_get_it(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(shared_runs.ENV, str(tmp_path))
    calls: list[int] = []

    def train() -> TrainingRun:
        calls.append(1)
        time.sleep(0.3)  # the others wait on the run's lock meanwhile
        return _run()

    got: list[TrainingRun] = []
    threads = [
        threading.Thread(target=lambda: got.append(shared_runs.shared_or_trained(("same",), train))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(got) == 3 and all(_same(g, _run()) for g in got)
    # Another key is another run.
    shared_runs.shared_or_trained(("other",), lambda: calls.append(1) or _run(0.5))
    assert len(calls) == 2


def test_another_process_reads_the_run_instead_of_training(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(shared_runs.ENV, str(tmp_path))
    shared_runs.shared_or_trained(("key", 1), _run)
    script = textwrap.dedent(
        """
        from grader.checks.shared_runs import shared_or_trained
        def train():
            raise SystemExit("trained again")
        run = shared_or_trained(("key", 1), train)
        print(run.val_losses[1], run.substituted)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["0.25", "['train_epoch']"]


def test_a_failed_training_stores_nothing(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(shared_runs.ENV, str(tmp_path))

    def fails() -> TrainingRun:
        raise RuntimeError("the reference crashed")

    with pytest.raises(RuntimeError):
        shared_runs.shared_or_trained(("k",), fails)
    assert not list(tmp_path.glob("*.json"))
    assert _same(shared_runs.shared_or_trained(("k",), _run), _run())


def test_private_starts_empty_shares_nothing_and_puts_both_back(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(shared_runs.ENV, str(tmp_path))
    monkeypatch.setattr(training, "REFERENCE_RUNS", {("mine",): _run()})
    with shared_runs.private():
        assert training.REFERENCE_RUNS == {}
        calls: list[int] = []
        shared_runs.shared_or_trained(("k",), lambda: calls.append(1) or _run())
        training.REFERENCE_RUNS[("made inside",)] = _run()
    assert calls == [1] and not list(tmp_path.glob("*.json"))  # nothing written to the folder
    assert list(training.REFERENCE_RUNS) == [("mine",)]
    import os

    assert os.environ[shared_runs.ENV] == str(tmp_path)
