"""`grader batch` against one `grader grade` per submission: the marginal cost per submission.

All in the same run, on the same machine, with N copies of the assignment's reference:

- singles: `grader grade ASSIGNMENT SUB --format json` once per submission, one after another
  (each pays the interpreter, `import torch`, pytest and a zygote);
- batch, 1 job: `run_batch` over 1 submission and over N; the marginal cost per submission is
  (T(N) - T(1)) / (N - 1), the start-up paid once;
- batch, `--jobs` jobs: the throughput (submissions per minute) on all cores.

The grading work itself (the tests running) is the median in-session duration of the batch's
gradings (`GradeResult.duration` in a warm worker); overhead = wall per submission - that work.
The goal is a batch overhead at least 5x lower than a single's.

    .venv/bin/python benchmarks/bench_batch.py [--n 6] [--jobs 2] [--root tests/fixtures/project --assignment toy]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch.gradebook import Gradebook  # noqa: E402
from grader.batch.run import run_batch  # noqa: E402
from grader.spec import Project  # noqa: E402


def _class(reference: Path, out: Path, n: int) -> Path:
    out.mkdir(parents=True)
    for i in range(n):
        shutil.copytree(reference, out / f"student{i:03d}")
    return out


def _batch(spec: object, folder: Path, book: Path, jobs: int) -> float:
    t0 = time.perf_counter()
    run_batch(spec, folder, book, jobs=jobs)
    return time.perf_counter() - t0


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=6, help="submissions (default 6)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="jobs for the throughput run")
    parser.add_argument("--root", type=Path, default=ROOT / "tests" / "fixtures" / "project")
    parser.add_argument("--assignment", default="toy")
    args = parser.parse_args()
    spec = Project(args.root.resolve()).load(args.assignment)
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        work = Path(tmp)
        folder = _class(Path(spec.reference_dir), work / "class", args.n)
        one = _class(Path(spec.reference_dir), work / "one", 1)

        singles = []
        (work / "single").mkdir()
        for sub in sorted(folder.iterdir()):
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "grader", "--root", str(args.root), "grade", args.assignment, str(sub),
                 "--format", "json", "--out", str(work / "single" / sub.name)],
                check=True, capture_output=True,
            )  # fmt: skip
            singles.append(time.perf_counter() - t0)

        t1 = _batch(spec, one, work / "b1.sqlite", 1)
        tn = _batch(spec, folder, work / "bn.sqlite", 1)
        with Gradebook(work / "bn.sqlite") as book:
            durations = [book.result(r.id).duration for r in book.rows()]  # type: ignore[union-attr]
        tj = _batch(spec, folder, work / "bj.sqlite", args.jobs)

    work_s = statistics.median(durations)
    single = statistics.mean(singles)
    marginal = (tn - t1) / (args.n - 1) if args.n > 1 else tn
    over_single = single - work_s
    # Below 0.1 s the batch's overhead is lost in the noise of the grading work: the ratio is then a bound.
    noise = 0.1
    over_batch = max(marginal - work_s, noise)
    bound = "at least " if marginal - work_s < noise else ""
    print(f"assignment {args.assignment}, {args.n} submissions (copies of the reference), {os.cpu_count()} cores")
    print(f"grading work in a warm worker (median in-session duration): {work_s:.2f} s")
    print(f"one `grader grade` per submission: {single:.2f} s each (overhead {over_single:.2f} s)")
    print(f"batch, 1 job: T(1) = {t1:.2f} s, T({args.n}) = {tn:.2f} s, marginal {marginal:.2f} s per submission "
          f"(overhead {marginal - work_s:.2f} s)")  # fmt: skip
    print(f"overhead ratio single / batch: {bound}{over_single / over_batch:.1f}x (goal >= 5x); "
          f"wall ratio {single / marginal:.2f}x")  # fmt: skip
    print(f"batch, {args.jobs} jobs: {tj:.2f} s for {args.n}: {60 * args.n / tj:.1f} submissions/minute "
          f"(singles one after another: {60 / single:.1f}/minute)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
