"""A new user's first ten minutes, with the real `grader` command on the toy project.

list → `make demo`'s steps (lint, build, grade the reference and the template) → check the
template → fill in one function → check again → the usual mistakes (an empty folder, a bad
--out), each with its exit code and the first line of what it prints.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"
TEMPLATE = TOY_ROOT / "student_template" / "toy"
REFERENCE = TOY_ROOT / "reference" / "toy"


def grader(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `grader` script (or `python -m grader` without one) on the toy project."""
    script = Path(sys.executable).with_name("grader")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "grader"]
    return subprocess.run(
        [*command, "--root", str(TOY_ROOT), *args], capture_output=True, text=True, timeout=300
    )


def first_line(text: str) -> str:
    """The first non-blank line of `text`, stripped."""
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")


def fill_in(source: str, reference: str, name: str) -> str:
    """`source` with function `name`'s body taken from `reference` (markers removed)."""
    pattern = re.compile(rf"^def {name}\(.*?(?=^\S|\Z)", re.S | re.M)
    body = pattern.search(reference)
    assert body is not None
    solved = "\n".join(ln for ln in body.group(0).splitlines() if "SOLUTION" not in ln) + "\n\n\n"
    return pattern.sub(lambda _: solved, source, count=1)


def test_day_one(tmp_path):
    listed = grader("list", "--names")
    assert listed.returncode == 0 and first_line(listed.stdout) == "toy"

    # What `make demo` does: lint and build the template, grade the reference and the template.
    linted = grader("lint", "toy")
    assert linted.returncode == 0 and first_line(linted.stdout).startswith("lint: toy ok")
    built = grader("build", "--all", "--check")
    assert built.returncode == 0, built.stdout + built.stderr
    full = grader("grade", "toy", str(REFERENCE), "--format", "json", "--out", str(tmp_path / "ref"))
    assert full.returncode == 0, full.stderr
    assert '"score": 14.0' in (tmp_path / "ref" / "results.json").read_text()
    zero = grader("grade", "toy", "--submission", str(TEMPLATE))
    assert zero.returncode == 0 and "0 / 14" in zero.stdout

    template = grader("check", "toy", str(TEMPLATE))
    assert template.returncode == 0, template.stderr
    assert "0 / 5" in template.stdout and "TODO not done yet" in template.stdout

    half = tmp_path / "half"
    shutil.copytree(TEMPLATE, half)
    toy = half / "toy.py"
    toy.write_text(fill_in(toy.read_text(), (REFERENCE / "toy.py").read_text(), "add"))
    halfway = grader("check", "toy", str(half))
    assert halfway.returncode == 0, halfway.stderr
    assert "1 / 5" in halfway.stdout  # add is worth 1 of the 5 public points

    empty = tmp_path / "empty"
    empty.mkdir()
    refused = grader("check", "toy", str(empty))
    assert refused.returncode == 2
    assert first_line(refused.stderr) == (
        f"grader: error: submission {empty} has none of toy's files (expected toy.py); found: nothing"
    )

    taken = tmp_path / "results.json"
    taken.write_text("{}")
    bad_out = grader("check", "toy", str(half), "--format", "json", "--out", str(taken))
    assert bad_out.returncode == 2
    assert first_line(bad_out.stderr) == f"grader: error: --out {taken} is a file, not a folder"
