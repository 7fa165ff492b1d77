"""benchmarks/bench_otter.py: its fixtures agree, and it skips cleanly when otter cannot be had."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_otter", ROOT / "benchmarks" / "bench_otter.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_otter"] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("bench_otter", None)


def test_otter_gets_one_test_file_per_grader_test(bench):
    otter = sorted(p.stem for p in bench.OTTER_TESTS.glob("q*.py"))
    grader = (bench.PROJECT / "assignments" / "hw01" / "tests" / "public" / "test_hw01.py").read_text()
    assert otter == [f"q{i}" for i in range(1, 10)]
    assert all(f"def test_{q}_" in grader for q in otter)


def test_prepare_copies_both_sides_and_a_baseline_without_imports(bench, tmp_path):
    otter_dir, project, old = bench.prepare(tmp_path, baseline=True)
    assert (otter_dir / "hw01.py").is_file() and len(list((otter_dir / "tests").glob("q*.py"))) == 9
    assert "imports:" in (project / "assignments" / "hw01" / "assignment.yaml").read_text()
    assert old is not None and "imports:" not in (old / "assignments" / "hw01" / "assignment.yaml").read_text()


def test_a_failed_install_prints_skipped_and_exits_0(bench, tmp_path, monkeypatch, capsys):
    def refuse(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found for otter-grader==7.0.0\n")

    monkeypatch.setattr(bench.subprocess, "run", refuse)
    assert bench.main(["--cache", str(tmp_path / "cache"), "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "cannot install otter" in out and "No matching distribution" in out
    assert out.strip().endswith("skipped")


def test_the_script_runs_as_a_file():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_otter.py"), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "otter" in proc.stdout
