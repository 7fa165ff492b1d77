"""What the hardening of issue 8 costs, measured in one run, interleaved (median of N).

- intake: `stage_submission` of the landmarks reference (once per grading) against the plain
  `shutil.copytree` it replaced;
- child start with the working folder on a size-capped tmpfs against the same start with the
  "disk cap" layer switched off (the old bind mount);
- one small call (`add(1, 2)`), which now carries a CPU/wall clock and a size check;
- reading the child tree's CPU time (done a few times a second while a call runs);
- one pass through the host gate (every test takes it shared).

    .venv/bin/python benchmarks/bench_hardening.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.intake import stage_submission  # noqa: E402
from grader.runner.hostlock import HostGate  # noqa: E402
from grader.sandbox.host.client import Sandbox, Submission  # noqa: E402


def _median_ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:9.3f} ms (min {min(times) * 1000:.3f})"


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_intake(runs: int, tmp: Path) -> tuple[list[float], list[float]]:
    """(stage_submission, copytree) times for the landmarks reference, interleaved."""
    source = ROOT / "reference" / "landmarks"
    staged, copied = [], []
    for i in range(runs):
        staged.append(_timed(lambda i=i: stage_submission(source, tmp / f"staged{i}")))
        copied.append(_timed(lambda i=i: shutil.copytree(source, tmp / f"copied{i}")))
    return staged, copied


def _start_times(submission: Path, disable: str, runs: int) -> list[float]:
    old = os.environ.get("GRADER_SANDBOX_DISABLE")
    os.environ["GRADER_SANDBOX_DISABLE"] = disable
    try:
        with Sandbox(submission, call_seconds=60) as sb:
            sb.start()
            times = []
            for _ in range(runs):
                sb.stop()
                times.append(_timed(sb.start))
            return times
    finally:
        if old is None:
            os.environ.pop("GRADER_SANDBOX_DISABLE", None)
        else:
            os.environ["GRADER_SANDBOX_DISABLE"] = old


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="repetitions of each measurement (default 20)")
    args = parser.parse_args()
    runs = max(3, args.runs)
    with tempfile.TemporaryDirectory(prefix="bench-hardening-") as tmp_name:
        tmp = Path(tmp_name)
        staged, copied = bench_intake(runs, tmp)
        sub = tmp / "sub"
        sub.mkdir()
        (sub / "m.py").write_text("def add(a, b):\n    return a + b\n")
        capped, uncapped = [], []
        for _ in range(max(1, runs // 5)):  # interleaved in rounds of 5 starts each
            capped += _start_times(sub, "", 5)
            uncapped += _start_times(sub, "disk cap", 5)
        gate = HostGate(tmp / "locks")

        def one_test() -> None:
            with gate.shared():
                pass

        with Sandbox(sub, call_seconds=60) as sb:
            s = Submission(sb)
            s.m.add(1, 2)
            sb.set_deadline(None)
            calls = [_timed(lambda: s.m.add(1, 2)) for _ in range(runs * 50)]
            cpu_reads = [_timed(sb.cpu_seconds) for _ in range(runs * 50)]
        gates = [_timed(one_test) for _ in range(runs * 50)]
        gate.close()
    print(f"median of {runs} (calls, CPU reads, gate passes: {runs * 50}), all in one run")
    print(f"intake, stage_submission (landmarks)   {_median_ms(staged)}")
    print(f"intake, shutil.copytree (before)       {_median_ms(copied)}")
    print(f"child start, capped tmpfs workdir      {_median_ms(capped)}")
    print(f"child start, 'disk cap' switched off   {_median_ms(uncapped)}")
    print(f"one small call (add(1, 2))             {_median_ms(calls)}")
    print(f"reading the child tree's CPU time      {_median_ms(cpu_reads)}")
    print(f"one pass through the host gate         {_median_ms(gates)}")
    print(
        f"ratios: intake {statistics.median(staged) / statistics.median(copied):.2f}x copytree; "
        f"capped start {statistics.median(capped) / statistics.median(uncapped):.2f}x uncapped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
