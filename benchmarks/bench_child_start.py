"""Child start: forked from the zygote vs a fresh interpreter that imports torch (median of N).

All in the same run, on the same machine:

- zygote fork, bare: the zygote forks a child that only answers (no layers), until it is ready;
- zygote fork, sandboxed: `Sandbox.start()` with every layer this machine allows, until the
  child reports ready (this is what a restart after a crash costs);
- fresh interpreter, sandboxed: the same with GRADER_ZYGOTE=0 (the child imports torch);
- fresh interpreter, `python -c "import torch"`: the floor for any design without a zygote.

    .venv/bin/python benchmarks/bench_child_start.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.sandbox.host import launcher, zygote  # noqa: E402
from grader.sandbox.host.client import Sandbox  # noqa: E402
from grader.sandbox.host.output import OutputSink  # noqa: E402


def _sandbox_starts(submission: Path, runs: int) -> list[float]:
    times = []
    with Sandbox(submission, call_seconds=60) as sb:
        sb.start()  # the zygote (or the page cache) warms up once
        for _ in range(runs):
            sb.stop()
            t0 = time.perf_counter()
            sb.start()
            times.append(time.perf_counter() - t0)
    return times


def _bare_forks(z: zygote.Zygote, workdir: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        sink = OutputSink(workdir / "out.txt")
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        ready_r, ready_w = os.pipe()
        t0 = time.perf_counter()
        child = z.spawn(
            {"root": str(workdir), "threads": 1, "policy": None},
            launcher.base_env(workdir, 1),
            str(workdir),
            [req_r, resp_w, ready_w, sink.write_fd],
        )
        for fd in (req_r, resp_w, ready_w):
            os.close(fd)
        sink.close_write_end()
        while os.read(ready_r, 4096):
            pass
        times.append(time.perf_counter() - t0)
        for fd in (req_w, resp_r, ready_r):
            os.close(fd)
        child.wait(timeout=10)
        sink.stop()
    return times


def _fresh_import(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        times.append(time.perf_counter() - t0)
    return times


def main() -> int:
    """Run the benchmark and print a small table (milliseconds)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-child-") as tmp:
        sub = Path(tmp) / "submission"
        sub.mkdir()
        (sub / "mod.py").write_text("def f():\n    return 1\n")
        work = Path(tmp) / "work"
        (work / ".tmp").mkdir(parents=True)
        z = zygote.Zygote.start(launcher.zygote_env())
        rows = [("zygote fork, bare (no layers)", _bare_forks(z, work, args.runs))]
        z.close()
        os.environ.pop("GRADER_ZYGOTE", None)
        rows.append(("zygote fork, sandboxed (all layers)", _sandbox_starts(sub, args.runs)))
        zygote._close_shared()
        os.environ["GRADER_ZYGOTE"] = "0"
        rows.append(("fresh interpreter, sandboxed (all layers)", _sandbox_starts(sub, args.runs)))
        rows.append(('fresh interpreter, python -c "import torch"', _fresh_import(args.runs)))
    print(f"child start, median of {args.runs} (min–max), ms; zygote preload took {z.start_seconds:.2f} s")
    medians = {}
    for name, times in rows:
        ms = sorted(t * 1000 for t in times)
        medians[name] = statistics.median(ms)
        print(f"  {name:45s} {medians[name]:8.1f}   ({ms[0]:.1f}–{ms[-1]:.1f})")
    zyg, fresh, bare_import = (medians[rows[i][0]] for i in (1, 2, 3))
    print(f"ratios (same run): fresh sandboxed / zygote sandboxed = {fresh / zyg:.1f}x; "
          f"python -c 'import torch' / zygote sandboxed = {bare_import / zyg:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
