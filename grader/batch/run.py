"""`grader batch`: grade a class's submissions in parallel into one resumable gradebook.

The driver finds the submissions (grader/batch/exports.py), hashes each one's files, skips
those the gradebook already holds for the same files and grader version, and hands the rest
to the warm workers of grader/runner/pool.py (or to Ray, grader/batch/ray_backend.py). As each
submission finishes its result is written to the gradebook in one transaction, by the driver
only. One that cannot be read, hangs past its limit or kills its worker gets a row with the
reason; the batch goes on.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grader
from grader.batch.exports import Submission, discover, submission_hash
from grader.batch.gradebook import Gradebook, result_status
from grader.results import GradeResult


@dataclass
class BatchSummary:
    """What one `grader batch` run did."""

    layout: str
    total: int
    skipped: int = 0
    graded: int = 0
    failed: int = 0  # refused, unreadable, timed out, crashed, grader errors
    ids_graded: list[str] = field(default_factory=list)


class BatchProgress:
    """Done / failed / remaining and an ETA: a rich bar on a terminal, plain lines in a log."""

    def __init__(self, *, stream: Any = None, console: Any = None) -> None:
        import sys
        import time

        self.stream = sys.stderr if stream is None else stream
        self.console = console
        self.total = 0
        self.done = 0
        self.failed = 0
        self.t0 = time.monotonic()
        self.bar: Any = None

    def start(self, total: int) -> None:
        """`total` submissions are about to be graded."""
        import time

        self.total = total
        self.t0 = time.monotonic()
        if self.stream.isatty() and total:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("batch"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed, {task.fields[left]} left"), TextColumn("ETA"),
                TimeRemainingColumn(), console=self.console or Console(file=self.stream), transient=True,
            )  # fmt: skip
            self.task = self.bar.add_task("batch", total=total, failed=0, left=total)
            self.bar.start()

    def update(self, sub_id: str, status: str, score: float, max_score: float) -> None:
        """One submission finished."""
        import time

        from grader.progress import _clock

        self.done += 1
        self.failed += status != "graded"
        left = self.total - self.done
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, failed=self.failed, left=left)
            return
        elapsed = time.monotonic() - self.t0
        eta = _clock(elapsed / self.done * left)
        print(f"batch: [{self.done}/{self.total}] {sub_id} {status} {score:g}/{max_score:g} "
              f"({self.failed} failed, {left} left, {_clock(elapsed)} elapsed, about {eta} left)",
              file=self.stream, flush=True)  # fmt: skip

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.stop()


def gpu_env(gpus: int | None) -> Callable[[int], Mapping[str, str]] | None:
    """Each worker's device: worker w sees GPU `w % gpus`; `0` hides every GPU (CPU only).

    Several workers share a device when there are more jobs than GPUs; None leaves the
    environment as it is.
    """
    if gpus is None:
        return None
    if gpus <= 0:
        return lambda _w: {"CUDA_VISIBLE_DEVICES": ""}
    return lambda w: {"CUDA_VISIBLE_DEVICES": str(w % gpus)}


def run_batch(
    spec: Any,
    source: Path,
    gradebook: Path,
    *,
    jobs: int,
    regrade: bool = False,
    retry_failed: bool = False,
    seed: int = 0,
    gpus: int | None = None,
    timeout: float | None = None,
    ray: str | None = None,
    progress: BatchProgress | None = None,
    on_layout: Callable[[str, int, int], None] | None = None,
) -> BatchSummary:
    """Grade every submission of `source` into `gradebook`; see the module docstring.

    `on_layout(layout, found, to_grade)` hears what was found before grading starts.
    """
    with tempfile.TemporaryDirectory(prefix="grader-batch-") as tmp:
        layout, subs = discover(source, Path(tmp))  # before the gradebook exists: a bad path leaves nothing
        book = Gradebook(gradebook)
        try:
            return _grade_all(spec, book, layout, subs, jobs=jobs, regrade=regrade,
                              retry_failed=retry_failed, seed=seed, gpus=gpus, timeout=timeout, ray=ray,
                              progress=progress, on_layout=on_layout)  # fmt: skip
        finally:
            book.close()


def _grade_all(
    spec: Any, book: Gradebook, layout: str, subs: list[Submission], *, jobs: int, regrade: bool,
    retry_failed: bool, seed: int, gpus: int | None, timeout: float | None, ray: str | None,
    progress: BatchProgress | None, on_layout: Callable[[str, int, int], None] | None,
) -> BatchSummary:  # fmt: skip
    """`run_batch` once the submissions are found and the gradebook is open."""
    version = grader.__version__
    book.set_meta(
        assignment=spec.name, assignment_version=str(spec.version), parts=json.dumps([p.name for p in spec.parts]),
        full_points=json.dumps({p.name: float(p.points) for p in spec.parts}), layout=layout,
    )  # fmt: skip
    summary = BatchSummary(layout=layout, total=len(subs))
    max_score = float(sum(p.points for p in spec.parts))
    failed_ids = {r.id for r in book.rows() if r.status in ("failed", "unreadable")} if retry_failed else set()
    todo: list[tuple[Submission, str]] = []
    for sub in subs:
        digest = submission_hash(sub.path)
        if not regrade and sub.id not in failed_ids and book.done(sub.id, digest, version, str(spec.version)):
            summary.skipped += 1
            continue
        todo.append((sub, digest))
    if on_layout:
        on_layout(layout, len(subs), len(todo))
    if progress is not None:
        progress.start(len(todo))
    common = dict(assignment=spec.name, max_score=max_score, grader_version=version,
                  assignment_version=str(spec.version), seed=seed)  # fmt: skip
    lock = threading.Lock()

    def finished(sub: Submission, digest: str, res: GradeResult | Exception) -> None:
        if isinstance(res, GradeResult):
            book.write_result(sub.id, sub.source, digest, res, seed)
            status, score = result_status(res)[0], res.score
        else:
            book.write_problem(sub.id, sub.source, digest, "failed", str(res)[:4000], **common)  # type: ignore[arg-type]
            status, score = "failed", 0.0
        with lock:
            summary.graded += status == "graded"
            summary.failed += status != "graded"
            summary.ids_graded.append(sub.id)
        if progress is not None:
            progress.update(sub.id, status, score, max_score)

    gradable = []
    for sub, digest in todo:
        if sub.problem is not None or sub.path is None:
            book.write_problem(sub.id, sub.source, digest, "unreadable", sub.problem or "unreadable", **common)  # type: ignore[arg-type]
            with lock:
                summary.failed += 1
                summary.ids_graded.append(sub.id)
            if progress is not None:
                progress.update(sub.id, "unreadable", 0.0, max_score)
        else:
            gradable.append((sub, digest))
    labelled = [(sub.id, sub.path) for sub, _d in gradable]

    def on_result(index: int, res: GradeResult | Exception) -> None:
        sub, digest = gradable[index]
        finished(sub, digest, res)

    if ray is not None:
        from grader.batch.ray_backend import grade_with_ray

        # K GPUs shared among `jobs` concurrent tasks: each asks for K / jobs of a device.
        share = min(1.0, gpus / max(1, jobs)) if gpus else None
        grade_with_ray(spec, labelled, address=ray, seed=seed, gpus=share, timeout=timeout, on_result=on_result)  # type: ignore[arg-type]
    elif labelled:
        from grader.runner.pool import grade_in_workers

        grade_in_workers(
            spec, labelled, jobs=jobs, last_apart=False, on_result=on_result,  # type: ignore[arg-type]
            timeout=timeout, seed=seed, worker_env=gpu_env(gpus),
        )  # fmt: skip
    return summary


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
