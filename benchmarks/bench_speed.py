"""Speed of the student's self-check and of verify (issue 10, benchmarks b and c).

    python benchmarks/bench_speed.py [--repeat 3] [--verify] [--assignment landmarks]

(b) `grader check ASSIGNMENT reference/ASSIGNMENT`: cold (a new `grader` process each time:
    interpreter, imports, zygote, grading) against warm (a second check in the same process,
    as `grader check --watch` does after a save). Medians of wall and CPU seconds, and the
    warm/cold ratio, from one run.
(c) with --verify: `grader verify ASSIGNMENT` once, wall and CPU seconds (all processes).
    With --baseline DIR (a checkout of an older commit, e.g. `git worktree add DIR COMMIT`),
    that checkout's `grader verify ASSIGNMENT` runs first, in the same run with the same
    interpreter and packages, and the after/before ratio is printed. (Its grading processes run
    that checkout's code; the sandboxed children start from the installed `grader`.)

Numbers depend on the machine; compare ratios measured in one run, never across machines.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.runner.session import run_session  # noqa: E402
from grader.spec import Project  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _grader() -> list[str]:
    script = Path(sys.executable).with_name("grader")
    return [str(script)] if script.exists() else [sys.executable, "-m", "grader"]


def cold_check(name: str, submission: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one `grader check` in a new process (its children included)."""
    cpu0, t0 = _children_cpu(), time.perf_counter()
    subprocess.run([*_grader(), "check", name, str(submission)], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t0, _children_cpu() - cpu0


def warm_check(spec: object, submission: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of a check in this process, after one has run here already."""
    cpu0, kids0, t0 = _self_cpu(), _children_cpu(), time.perf_counter()
    run_session(spec, submission, public_only=True)
    return time.perf_counter() - t0, (_self_cpu() - cpu0) + (_children_cpu() - kids0)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="landmarks")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--verify", action="store_true", help="also time `grader verify` (minutes)")
    parser.add_argument("--baseline", type=Path, help="(c) also time this checkout's verify, for a ratio")
    parser.add_argument("--skip-check", action="store_true", help="only (c)")
    args = parser.parse_args(argv)
    if not args.skip_check:
        check_benchmark(args.assignment, args.repeat)
    if args.verify or args.baseline:
        timed = {}
        for label, tree in ((("before", args.baseline),) if args.baseline else ()) + (("after", ROOT),):
            timed[label] = verify_once(args.assignment, tree)
            wall, cpu = timed[label]
            print(f"(c) verify {args.assignment}, {label} ({tree}): wall {wall:.1f} s, CPU {cpu:.1f} s")
        if args.baseline:
            print(f"(c) after / before wall: {timed['after'][0] / timed['before'][0]:.2f}")
    return 0


def check_benchmark(name: str, repeat: int) -> None:
    """(b): cold and warm self-checks of the reference, interleaved; medians and their ratio."""
    spec = Project(ROOT).load(name)
    submission = spec.reference_dir
    run_session(spec, submission, public_only=True)  # warms this process (and the data cache)
    cold, warm = [], []
    for _ in range(repeat):  # interleaved, so a busy moment hits both
        cold.append(cold_check(name, submission))
        warm.append(warm_check(spec, submission))
    for label, runs in (("cold", cold), ("warm", warm)):
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"(b) check {name} reference, {label}: wall {wall:.2f} s, CPU {cpu:.2f} s (median of {len(runs)})")
    ratio = statistics.median(w for w, _ in warm) / statistics.median(w for w, _ in cold)
    print(f"(b) warm / cold wall: {ratio:.2f}")


def verify_once(name: str, tree: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of `grader verify NAME` run from checkout `tree` (its own code)."""
    import os

    env = {**os.environ, "PYTHONPATH": str(tree)}  # that checkout's `grader`, ahead of this one
    cpu0, t0 = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "verify", name], cwd=tree, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0, _children_cpu() - cpu0


if __name__ == "__main__":
    sys.exit(main())
