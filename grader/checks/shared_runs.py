"""Reference training runs shared by the worker processes of one `grader verify` run.

Each worker keeps the reference's runs it made (`training.REFERENCE_RUNS`, one per set of
stand-ins). Without sharing, every worker trains the reference again for every set it meets:
on `landmarks` 8 runs of about 3.5 CPU-seconds where 4 are enough. With `ENV` naming a folder,
the first worker to need a run trains it while holding that run's lock, and writes it there;
the others wait for the lock and read it (JSON: floats round-trip exactly, so a run read back
grades exactly as the one trained).

Only verify shares (`grade_in_workers(share_reference_runs=True)`): its submissions are the
instructor's own. Batch grading does not, so that no student's child, on a host where the
sandbox cannot confine its writes, could plant a reference run that grades other students.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from grader.checks.training import TrainingRun

ENV = "GRADER_SHARED_REFERENCE_RUNS"  # a folder of the grading processes, never the child's


def shared_or_trained(key: tuple[Any, ...], train: Callable[[], TrainingRun]) -> TrainingRun:
    """The run for `key`: read from the shared folder when a worker has made it, else `train()`
    (stored there for the others when `ENV` names a folder)."""
    folder = os.environ.get(ENV)
    if not folder:
        return train()
    path = Path(folder) / (hashlib.sha256(repr(key).encode()).hexdigest() + ".json")
    with _locked(path.with_suffix(".lock")):
        if path.is_file():
            return run_from_json(path.read_text(encoding="utf-8"))
        run = train()
        _write_atomically(path, run_to_json(run))
        return run


@contextlib.contextmanager
def private() -> Iterator[None]:
    """Within: this process's reference runs start empty and nothing is read from or written
    to the shared folder (the rerun of `grader verify` trains its own). Both are put back after."""
    def runs() -> dict[Any, Any]:
        # Not imported here: a numpy assignment's grading process never imports torch.
        training = sys.modules.get("grader.checks.training")
        return training.REFERENCE_RUNS if training is not None else {}

    saved_env = os.environ.pop(ENV, None)
    saved_runs = dict(runs())
    runs().clear()
    try:
        yield
    finally:
        runs().clear()
        runs().update(saved_runs)
        if saved_env is not None:
            os.environ[ENV] = saved_env


def run_to_json(run: TrainingRun) -> str:
    """`run` as JSON (NaN and infinities included)."""
    data = asdict(run)
    logits = run.final_logits
    data["final_logits"] = None if logits is None else {"shape": list(logits.shape), "values": logits.ravel().tolist()}
    return json.dumps(data)


def run_from_json(text: str) -> TrainingRun:
    """The `TrainingRun` that `run_to_json` wrote."""
    from grader.checks.training import TrainingRun

    data = json.loads(text)
    known = {f.name for f in fields(TrainingRun)}
    logits = data.get("final_logits")
    if logits is not None:
        data["final_logits"] = np.asarray(logits["values"], dtype=np.float64).reshape(logits["shape"])
    return TrainingRun(**{k: v for k, v in data.items() if k in known})


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # flock: released by the kernel if the worker holding it dies.
    with open(path, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".run-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
