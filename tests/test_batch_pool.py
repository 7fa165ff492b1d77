"""The job pool under `grader batch`: a dead or overrunning worker costs one submission only."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from grader.results import GradeResult
from grader.runner.pool import GradingFailed, grade_in_workers
from grader.spec import Project

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"


def _pool_workers() -> list[int]:
    """Pids of this process's grading workers."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"grader.runner.pool" in cmd:
            found.append(int(entry.name))
    return found


def test_a_worker_killed_mid_grading_costs_only_its_submission() -> None:
    spec = Project(TOY_ROOT).load("toy")
    subs = [("first", spec.reference_dir), ("second", spec.reference_dir)]

    def kill_soon(index: int) -> None:
        if index == 0:
            def later() -> None:
                time.sleep(1.0)
                for pid in _pool_workers():
                    os.kill(pid, signal.SIGKILL)

            threading.Thread(target=later, daemon=True).start()

    first, second = grade_in_workers(spec, subs, jobs=1, last_apart=False, on_begin=kill_soon)
    assert isinstance(first, GradingFailed) and "grading process failed (exit -9)" in str(first)
    assert isinstance(second, GradeResult) and second.score == second.max_score  # a fresh worker


def test_a_submission_over_the_deadline_is_killed_and_reported(tmp_path: Path) -> None:
    spec = Project(TOY_ROOT).load("toy")
    t0 = time.monotonic()
    slow = [(f"slow{i}", spec.reference_dir) for i in range(3)]
    results = grade_in_workers(spec, slow, jobs=1, timeout=0.5)  # each in a fresh process, one after another
    assert all(isinstance(r, GradingFailed) and "timed out: no result after 0.5 s" in str(r) for r in results)
    assert time.monotonic() - t0 < 30
    assert _pool_workers() == []
