"""Benchmark (a) of issue 10: `grader check` against `otter check` on the same 9-test numpy toy.

    python benchmarks/bench_otter.py [--runs 5] [--baseline PYTHON] [--cache DIR]

The toy is hw01 (`tests/fixtures/numpy_project`: nine small numpy functions, one public test
each, `imports: [numpy]`). otter gets the same cases as OK-format doctests
(`benchmarks/fixtures/otter_hw01/tests/q1.py` ... `q9.py`) and the same solution file. Both
tools check the reference solution, in a fresh process each time, interleaved (a busy moment
hits both). For each run: CPU seconds (user + system) of the whole process tree, wall seconds,
and the peak resident memory of the largest process of the tree, all from `wait4` (orphans
are reparented to this process and reaped too). It prints medians and the ratios to otter.

otter-grader 7.0.0 (and ipykernel, which `otter check` needs to run a file) is installed with
pip into its own virtual environment under the cache folder (default
`~/.cache/grader/bench-otter`), once. If that fails, the script says why, prints "skipped"
and exits 0.

`--baseline PYTHON`: also time an older grader, the one that interpreter imports (e.g. another
checkout's `.venv/bin/python`), on a copy of the toy without the `imports:` key it may not know.

Numbers depend on the machine; compare ratios measured in one run, never across machines.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "tests" / "fixtures" / "numpy_project"
OTTER_TESTS = ROOT / "benchmarks" / "fixtures" / "otter_hw01" / "tests"
OTTER_VERSION = "7.0.0"
_PR_SET_CHILD_SUBREAPER = 36


@dataclass
class Run:
    """One timed command: CPU seconds of its tree, wall seconds, peak RSS in MiB."""

    cpu: float
    wall: float
    rss_mib: float


class Skipped(Exception):
    """otter cannot be installed or run here."""


def _subreaper() -> None:
    """Orphaned grandchildren (a kernel, a zygote) become our children, so `wait4` counts them."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run `cmd` to the end; its tree's CPU, wall time and peak RSS (raises on a failure)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu, rss = usage.ru_utime + usage.ru_stime, usage.ru_maxrss
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:  # orphans of the tree, reparented to us
        try:
            pid, _, extra = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.02)
            continue
        cpu += extra.ru_utime + extra.ru_stime
        rss = max(rss, extra.ru_maxrss)
    if proc.returncode != 0:
        tail = out.decode(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{tail}")
    return Run(cpu, wall, rss / 1024)


def otter_venv(cache: Path) -> Path:
    """The `otter` script of a venv holding otter-grader (installed once); raises Skipped."""
    venv = cache / f"otter-{OTTER_VERSION}"
    otter = venv / "bin" / "otter"
    if (venv / ".installed").exists() and otter.exists():
        return otter
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    print(f"installing otter-grader=={OTTER_VERSION} and ipykernel into {venv} (once) ...", flush=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"otter-grader=={OTTER_VERSION}", "ipykernel"],
    ]
    for step in steps:
        try:
            proc = subprocess.run(step, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Skipped(f"`{' '.join(step[:4])} ...` failed: {exc}") from None
        if proc.returncode != 0:
            said = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip() and "is ignored" not in ln]
            raise Skipped(f"`{' '.join(step[:4])} ...` failed: {said[-1] if said else proc.returncode}")
    (venv / ".installed").touch()
    return otter


def prepare(work: Path, baseline: bool) -> tuple[Path, Path, Path | None]:
    """The otter folder (solution + tests), the grader project, and one for a baseline grader."""
    otter_dir = work / "otter"
    (otter_dir / "tests").mkdir(parents=True)
    shutil.copy(PROJECT / "reference" / "hw01" / "hw01.py", otter_dir / "hw01.py")
    for test in sorted(OTTER_TESTS.glob("q*.py")):
        shutil.copy(test, otter_dir / "tests" / test.name)
    project = work / "project"
    shutil.copytree(PROJECT, project)
    old = None
    if baseline:
        old = work / "project-baseline"
        shutil.copytree(PROJECT, old)
        spec = old / "assignments" / "hw01" / "assignment.yaml"
        lines = spec.read_text().splitlines(keepends=True)
        spec.write_text("".join(ln for ln in lines if not ln.startswith("imports:")))
    return otter_dir, project, old


def _grader(python: str) -> list[str]:
    script = Path(python).with_name("grader")
    return [str(script)] if script.exists() else [python, "-m", "grader"]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print medians and ratios (or "skipped" and why)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", metavar="PYTHON", help="also time the grader this interpreter imports")
    default_cache = Path(os.environ.get("GRADER_CACHE", Path.home() / ".cache" / "grader")) / "bench-otter"
    parser.add_argument("--cache", type=Path, default=default_cache, help="where otter's venv is kept")
    args = parser.parse_args(argv)
    print("benchmark (a): `grader check` vs `otter check` on hw01 (9 numpy tests)")
    try:
        otter = otter_venv(args.cache)
    except Skipped as exc:
        print(f"cannot install otter: {exc}\nskipped")
        return 0
    _subreaper()
    with tempfile.TemporaryDirectory(prefix="bench-otter-") as tmp:
        otter_dir, project, old = prepare(Path(tmp), args.baseline is not None)
        reference = project / "reference" / "hw01"
        env = {k: v for k, v in os.environ.items() if k not in ("GRADER_ZYGOTE_SOCKET", "VIRTUAL_ENV")}
        tools: dict[str, tuple[list[str], Path]] = {
            f"otter check ({OTTER_VERSION})": ([str(otter), "check", "hw01.py", "-t", "tests"], otter_dir),
            "grader check": ([*_grader(sys.executable), "--root", str(project), "check", "hw01", str(reference)], project),
        }
        if old is not None:
            cmd = [*_grader(args.baseline), "--root", str(old), "check", "hw01", str(old / "reference" / "hw01")]
            tools["grader check (baseline)"] = (cmd, old)
        for name, (cmd, cwd) in tools.items():  # warm the page cache; also proves each one passes
            try:
                measure(cmd, cwd, env)
            except RuntimeError as exc:
                if not name.startswith("otter"):
                    raise
                print(f"otter check does not run here: {exc}\nskipped")
                return 0
        runs: dict[str, list[Run]] = {name: [] for name in tools}
        names = list(tools)
        for i in range(args.runs):  # interleaved, the order rotated each round
            for name in names[i % len(names) :] + names[: i % len(names)]:
                cmd, cwd = tools[name]
                runs[name].append(measure(cmd, cwd, env))
    med = {
        name: Run(*(statistics.median(getattr(r, f) for r in rs) for f in ("cpu", "wall", "rss_mib")))
        for name, rs in runs.items()
    }
    width = max(len(n) for n in med) + len(" / otter") + 2
    print(f"medians of {args.runs} interleaved runs each (CPU: user+sys of the whole process tree)")
    print(f"{'':{width}}{'CPU s':>8}{'wall s':>8}{'peak RSS MiB':>14}")
    for name, m in med.items():
        print(f"{name:{width}}{m.cpu:8.2f}{m.wall:8.2f}{m.rss_mib:14.0f}")
    base = med[names[0]]
    for name in names[1:]:
        m = med[name]
        label = f"{name} / otter"
        print(f"{label:{width}}{m.cpu / base.cpu:7.2f}x{m.wall / base.wall:7.2f}x{m.rss_mib / base.rss_mib:13.2f}x")
    ratio = med["grader check"].cpu / base.cpu
    print(f"done when grader check's CPU <= 0.5x otter's: {ratio:.2f}x, {'met' if ratio <= 0.5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
