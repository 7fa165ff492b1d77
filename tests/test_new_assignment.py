"""`grader new NAME`: the scaffold is accepted at once by lint, build, check and verify.

This is the walkthrough of docs/new-assignment.md, step by step, in an empty project folder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.scaffold import ScaffoldError, check_name, scaffold_files


def grader(root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the installed `grader` script (or `python -m grader`) with `--root root`."""
    script = Path(sys.executable).with_name("grader")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "grader"]
    return subprocess.run([*command, "--root", str(root), *args], capture_output=True, text=True, timeout=timeout)


def test_new_build_check_verify_in_an_empty_project(tmp_path: Path) -> None:
    root = tmp_path / "course"
    (root / "assignments").mkdir(parents=True)
    made = grader(root, "new", "demo_assignment")
    assert made.returncode == 0, made.stderr
    assert "grader build demo_assignment" in made.stdout
    for rel in scaffold_files("demo_assignment"):
        assert (root / rel).is_file(), rel

    linted = grader(root, "lint", "demo_assignment")
    assert linted.returncode == 0, linted.stdout + linted.stderr
    built = grader(root, "build", "demo_assignment")
    assert built.returncode == 0, built.stderr
    template = root / "student_template" / "demo_assignment" / "basics.py"
    assert "BEGIN SOLUTION" not in template.read_text() and "NotImplementedError" in template.read_text()
    assert grader(root, "build", "--all", "--check").returncode == 0  # what make test checks

    checked = grader(root, "check", "demo_assignment", str(template.parent))
    assert checked.returncode == 0 and "TODO not done yet" in checked.stdout, checked.stdout

    verified = grader(root, "verify", "demo_assignment", "--jobs", "2")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verify: all checks passed" in verified.stdout

    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if Path(ruff).exists():
        lint = subprocess.run([ruff, "check", "--no-cache", str(root)], capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout  # the scaffold is clean code to copy from


def test_new_refuses_a_bad_name_and_an_existing_assignment(tmp_path: Path) -> None:
    (tmp_path / "assignments").mkdir()
    bad = grader(tmp_path, "new", "Demo-1")
    assert bad.returncode == 2 and "cannot name an assignment" in bad.stderr
    assert not any((tmp_path / "assignments").iterdir())
    assert grader(tmp_path, "new", "again").returncode == 0
    before = (tmp_path / "assignments" / "again" / "assignment.yaml").read_text()
    twice = grader(tmp_path, "new", "again")
    assert twice.returncode == 2 and "exists already" in twice.stderr
    assert (tmp_path / "assignments" / "again" / "assignment.yaml").read_text() == before


@pytest.mark.parametrize("name", ["", "1abc", "class", "a-b", "Abc", "a b"])
def test_names_that_cannot_be_packages_are_refused(name: str) -> None:
    with pytest.raises(ScaffoldError):
        check_name(name)
