"""The command line: subcommands, exit codes, one-line errors, output files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"


def grader(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


@pytest.mark.parametrize("command", ["", "list", "build", "check", "grade", "verify", "data", "doctor"])
def test_help_explains_every_command(command):
    proc = grader(*([command] if command else []), "--help")
    assert proc.returncode == 0
    assert "usage: grader" in proc.stdout and len(proc.stdout.splitlines()) > 4


def test_list_names_and_table():
    proc = grader("--root", str(TOY_ROOT), "list", "--names")
    assert proc.returncode == 0 and proc.stdout.split() == ["toy"]
    table = grader("--root", str(TOY_ROOT), "list")
    assert "basics (2)" in table.stdout and "14" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grade", "nosuch", "--submission", "."], "no assignment named 'nosuch'"),
        (["grade", "toy", "--submission", "/does/not/exist"], "does not exist"),
        (["grade", "toy", "--submission", ".", "--format", "pdf"], "pdf"),
        (["grade", "toy", "--submission", ".", "--format", "json"], "--out"),
        (["build"], "name an assignment or pass --all"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, message):
    proc = grader("--root", str(TOY_ROOT), *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_bad_assignment_yaml_names_file_key_and_line(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(TOY_ROOT, root)
    spec = root / "assignments" / "toy" / "assignment.yaml"
    spec.write_text(spec.read_text().replace("points: 4\n    description: normalize", "points: four\n    description: normalize"))
    proc = grader("--root", str(root), "list")
    assert proc.returncode == 2
    assert "assignment.yaml:" in proc.stderr and "parts[1].points" in proc.stderr and "four" in proc.stderr


def test_no_project_found_is_a_usage_error(tmp_path):
    proc = grader("list", cwd=tmp_path)
    assert proc.returncode == 2 and "no project found" in proc.stderr


def test_grade_writes_every_format_and_exits_0_whatever_the_score(tmp_path):
    out = tmp_path / "out"
    proc = grader(
        "--root", str(TOY_ROOT), "grade", "toy",
        "--submission", str(TOY_ROOT / "student_template" / "toy"),
        "--format", "terminal,json,gradescope,junit,markdown", "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "0 / 14" in proc.stdout and "TODO not done yet" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == ["gradescope.json", "junit.xml", "results.json", "scorecard.md"]
    assert json.loads((out / "results.json").read_text())["score"] == 0
    assert json.loads((out / "gradescope.json").read_text())["score"] == 0


def test_check_runs_public_tests_only():
    proc = grader("--root", str(TOY_ROOT), "check", "toy", str(TOY_ROOT / "reference" / "toy"))
    assert proc.returncode == 0, proc.stderr
    assert "5 / 5" in proc.stdout  # the public tests are worth 5 of the 14 points


def test_build_check_exits_1_on_drift(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(TOY_ROOT, root)
    assert grader("--root", str(root), "build", "--all", "--check").returncode == 0
    (root / "student_template" / "toy" / "toy.py").write_text("# edited by hand\n")
    proc = grader("--root", str(root), "build", "toy", "--check")
    assert proc.returncode == 1 and "toy.py" in proc.stdout
    assert grader("--root", str(root), "build", "toy").returncode == 0
    assert grader("--root", str(root), "build", "toy", "--check").returncode == 0


def test_build_refuses_public_tests_that_use_the_reference(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(TOY_ROOT, root)
    (root / "assignments" / "toy" / "tests" / "public" / "test_leak.py").write_text(
        "def test_x(student, reference):\n    pass\n"
    )
    proc = grader("--root", str(root), "build", "toy")
    assert proc.returncode == 2 and "reference" in proc.stderr


def test_grader_failure_exits_3(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(TOY_ROOT, root)
    (root / "assignments" / "toy" / "tests" / "hidden" / "test_broken.py").write_text("this is not python\n")
    proc = grader("--root", str(root), "grade", "toy", "--submission", str(root / "reference" / "toy"))
    assert proc.returncode == 3
    assert "test_broken.py" in proc.stdout


def test_doctor_reports_every_layer_and_what_the_child_sees():
    from grader.sandbox.layers import ORDER

    proc = grader("doctor", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    names = [x["name"] for x in report["layers"]]
    assert set(names) == set(ORDER)
    assert all(x["detail"] for x in report["layers"])
    active = {x["name"] for x in report["layers"] if x["active"]}
    seen = report["child_sees"]
    if active & {"landlock", "mount namespace", "slot uid"}:
        assert seen["secret file outside the sandbox"].startswith("refused")
    if "seccomp" in active or "network namespace" in active:
        assert seen["an IPv4 socket"].startswith("refused")
    table = grader("doctor")
    assert table.returncode == 0
    assert all(name in table.stdout for name in ("landlock", "seccomp", "zygote")), table.stdout
