"""`grader check --watch` after an edit: a full re-check against a re-check of the changed parts.

In one warm process (as `--watch` runs): check a copy of the reference once; then time a full
re-check (nothing reused) and, after appending a comment to the submission file that the
fewest parts depend on, the re-check that reruns only those parts (grader/watch.py,
`Rechecker`). Prints each part's dependencies, the times and their ratio.

    .venv/bin/python benchmarks/bench_watch.py [landmarks] [--runs 3] [--file dataset.py]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "tests" / "fixtures" / "project"


def main() -> int:
    """Run the benchmark and print a small report."""
    from grader.runner.dependencies import EVERYTHING, fingerprint
    from grader.runner.session import run_session
    from grader.spec import Project
    from grader.watch import Rechecker

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="?", default="landmarks")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--file", help="the file to edit (default: the one the fewest parts depend on)")
    args = parser.parse_args()
    project = Project(TOY if args.assignment == "toy" else ROOT)
    spec = project.load(args.assignment)
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        folder = Path(tmp) / args.assignment
        shutil.copytree(spec.reference_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))

        def grade(parts: tuple[str, ...] | None, progress: object) -> object:
            return run_session(spec, folder, public_only=True, parts=parts, require_files=True, progress=progress)

        watched = [spec.spec_file.parent, spec.public_tests, spec.hidden_tests, spec.reference_dir]
        checker = Rechecker(folder, grade, fingerprint=lambda: fingerprint(watched))  # type: ignore[arg-type]
        t0 = time.perf_counter()
        first = checker.check()
        print(f"{spec.name}: first check {time.perf_counter() - t0:.2f} s, {first.result.score:g}/{first.result.max_score:g}")
        deps = checker._kept.deps if checker._kept else {}  # noqa: SLF001 - a benchmark looks inside
        for part, files in deps.items():
            shown = "everything" if files is EVERYTHING else f"{len(files)} files: {', '.join(sorted(files))}"
            print(f"  {part}: {shown}")
        py = sorted(f for f in checker._kept.graph.files if f.endswith(".py")) if checker._kept else []  # noqa: SLF001

        def users(f: str) -> int:
            return sum(1 for d in deps.values() if d is EVERYTHING or f in d)

        target = args.file or min((f for f in py if users(f)), key=lambda f: (users(f), f), default=None)
        if target is None:
            print("no file any part depends on: nothing to compare")
            return 1
        fulls, partials, rerun = [], [], []
        for i in range(args.runs):
            checker.forget()
            t0 = time.perf_counter()
            checker.check()
            fulls.append(time.perf_counter() - t0)
            with (folder / target).open("a") as fh:
                fh.write(f"\n# edit {i}\n")
            t0 = time.perf_counter()
            done = checker.check()
            partials.append(time.perf_counter() - t0)
            rerun = done.rerun
        full, part = statistics.median(fulls), statistics.median(partials)
        print(f"edit {target}: reruns {', '.join(rerun) or 'nothing'} of {len(deps)} parts")
        print(f"full re-check, median of {args.runs}: {full:.2f} s")
        print(f"re-check of the changed parts, median of {args.runs}: {part:.2f} s")
        print(f"ratio full / changed parts: {full / part:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
