"""Cold `grader check` of the toy assignment: median wall seconds, and the share of `import torch`.

Each run is a fresh process (`python -m grader check toy ...`), so the numbers include the
interpreter start, imports, the sandboxed child's start and the public tests. The cost of
`import torch` alone is measured the same way (a fresh `python -c "import torch"`).

    .venv/bin/python benchmarks/bench_check.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "tests" / "fixtures" / "project"


def _time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - t0


def main() -> int:
    """Run the benchmark and print a small table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    check = [
        sys.executable, "-m", "grader", "--root", str(TOY), "check", "toy",
        str(TOY / "reference" / "toy"),
    ]  # fmt: skip
    torch_import = [sys.executable, "-c", "import torch"]
    bare = [sys.executable, "-c", "pass"]
    _time(check)  # warm the page cache once; every measured run is still a fresh process
    checks = [_time(check) for _ in range(args.runs)]
    imports = [_time(torch_import) for _ in range(args.runs)]
    bares = [_time(bare) for _ in range(args.runs)]
    med_check, med_import, med_bare = (statistics.median(x) for x in (checks, imports, bares))
    print(f"cold `grader check toy` (public tests), median of {args.runs}: {med_check:.2f} s")
    print(f"  fresh `import torch`, median of {args.runs}: {med_import:.2f} s "
          f"(x2 in a check: the grading process and the child each import it)")
    print(f"  bare interpreter start: {med_bare:.3f} s")
    print(f"  import torch share of a check (2 imports): {2 * med_import / med_check:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
