"""The command line: subcommands, exit codes, one-line errors, output files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import zipfile
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


# --- mistakes found before grading: one line, exit 2, at once ----------------------------------

FAST = 10.0  # seconds: far less than a grading (which starts sandboxes and runs tests)
TEMPLATE = TOY_ROOT / "student_template" / "toy"
REFERENCE = TOY_ROOT / "reference" / "toy"


def timed_grader(*args: str, cwd: Path | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    proc = grader(*args, cwd=cwd)
    return proc, time.monotonic() - start


def assert_one_line_usage_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("grader: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("bad", ["file", "missing_parent"])
@pytest.mark.parametrize("command", ["grade", "data"])
def test_bad_out_is_refused_before_any_work(tmp_path, command, bad):
    if bad == "file":
        out = tmp_path / "results.json"
        out.write_text("{}")
        needle = "is a file, not a folder"
    else:
        out = tmp_path / "no" / "such" / "out"
        needle = "parent folder"
    if command == "grade":
        args = ["grade", "toy", str(REFERENCE), "--format", "json", "--out", str(out)]
    else:
        args = ["data", "toy", "--out", str(out)]
    proc, took = timed_grader("--root", str(TOY_ROOT), *args)
    assert_one_line_usage_error(proc, "--out", needle)
    assert took < FAST


def test_out_folder_with_existing_parent_is_created(tmp_path):
    out = tmp_path / "results"
    proc = grader("--root", str(TOY_ROOT), "check", "toy", str(REFERENCE), "--part", "basics", "--format", "json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "results.json").read_text())["score"] == 1


def test_empty_folder_names_the_expected_files(tmp_path):
    proc, took = timed_grader("--root", str(TOY_ROOT), "check", "toy", str(tmp_path))
    assert_one_line_usage_error(proc, "none of toy's files", "expected toy.py", "found: nothing")
    assert took < FAST


def test_folder_one_level_up_suggests_the_folder_inside(tmp_path):
    shutil.copytree(REFERENCE, tmp_path / "my_toy")
    (tmp_path / "notes.txt").write_text("hi\n")
    proc = grader("--root", str(TOY_ROOT), "grade", "toy", str(tmp_path))
    assert_one_line_usage_error(proc, "notes.txt", "my_toy/", "did you mean the folder inside? (my_toy/)")


def test_zip_of_the_wrong_folder_is_refused_after_intake(tmp_path):
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.md", "nothing here\n")
    proc = grader("--root", str(TOY_ROOT), "check", "toy", str(archive))
    assert_one_line_usage_error(proc, "none of toy's files", "readme.md")


def test_keyword_matching_nothing_is_a_usage_error():
    proc = grader("--root", str(TOY_ROOT), "check", "toy", str(REFERENCE), "-k", "no_such_test")
    assert_one_line_usage_error(proc, "-k 'no_such_test' matched no", "4 public tests exist", "test_add_small_numbers")


def test_unknown_part_names_the_parts():
    proc, took = timed_grader("--root", str(TOY_ROOT), "grade", "toy", str(REFERENCE), "--part", "basic")
    assert_one_line_usage_error(proc, "no part 'basic'", "did you mean 'basics'", "parts: basics, arrays, torch_ops, objects, training")
    assert took < FAST


def test_part_runs_only_its_tests():
    proc = grader("--root", str(TOY_ROOT), "check", "toy", str(REFERENCE), "--part", "basics,arrays")
    assert proc.returncode == 0, proc.stderr
    assert "3 / 3" in proc.stdout  # basics (1) and arrays (2) of the public tests


def test_version():
    import grader as package

    proc = grader("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"grader {package.__version__}"


def test_help_documents_every_exit_code():
    text = " ".join(grader("--help").stdout.split())
    assert all(f"{code} " in text for code in ("0", "1", "2", "3")) and "build --check" in text


def test_unknown_assignment_suggests_the_close_name():
    proc = grader("--root", str(TOY_ROOT), "check", "toi", str(REFERENCE))
    assert_one_line_usage_error(proc, "no assignment named 'toi'", "did you mean 'toy'?")


def test_list_outside_a_project_is_one_line(tmp_path):
    proc = grader("list", cwd=tmp_path)
    assert_one_line_usage_error(proc, "no project found")


def test_grade_takes_a_positional_path():
    proc = grader("--root", str(TOY_ROOT), "grade", "toy", str(REFERENCE), "--public-only")
    assert proc.returncode == 0, proc.stderr
    assert "5 / 5" in proc.stdout


def test_two_different_submissions_are_refused(tmp_path):
    proc = grader("--root", str(TOY_ROOT), "grade", "toy", str(REFERENCE), "--submission", str(TEMPLATE))
    assert_one_line_usage_error(proc, "two submissions given")


def test_invalid_keyword_expression_is_a_usage_error():
    proc = grader("--root", str(TOY_ROOT), "check", "toy", str(REFERENCE), "-k", "add and (")
    assert_one_line_usage_error(proc, "is not a valid expression")


# --- an instructor's mistakes in the reference and the mutants: one line, file:line, exit 2 ----


def _toy_copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(TOY_ROOT, root)
    return root


@pytest.mark.parametrize(
    ("old", "new", "needles"),
    [
        (b"    # END SOLUTION\n", b"    # END SOLUTIO\n", ("toy.py:16: ", "# BEGIN SOLUTION inside the SOLUTION block opened on line 9")),
        (b"    # BEGIN SOLUTION\n    return a + b\n", b"    return a + b\n", ("toy.py:10: ", "# END SOLUTION without a matching BEGIN")),
        (b'"""Return a + b."""', b'"""Return a \xff b."""', ("toy.py:8: ", "is not UTF-8 text")),
    ],
)  # fmt: skip
@pytest.mark.parametrize("check", [False, True])
def test_a_broken_solution_marker_stops_build_with_its_file_and_line(tmp_path, old, new, needles, check):
    root = _toy_copy(tmp_path)
    reference = root / "reference" / "toy" / "toy.py"
    data = reference.read_bytes()
    assert old in data
    reference.write_bytes(data.replace(old, new, 1))
    proc = grader("--root", str(root), "build", "toy", *(["--check"] if check else []))
    assert_one_line_usage_error(proc, str(reference), *needles)


@pytest.mark.parametrize(
    ("mutant", "needles"),
    [
        ("part: nosuch\nreplace:\n  - {file: toy.py, old: 'torch.clamp(t, min=0)', new: 'torch.abs(t)'}\n",
         ("bad.yaml:1: ", "part 'nosuch' is not a part of the assignment (basics, arrays, torch_ops, objects, training)")),
        ("description: no part\nreplace:\n  - {file: toy.py, old: 'torch.clamp(t, min=0)', new: 'torch.abs(t)'}\n",
         ("bad.yaml: ", "names no part; add `part: NAME`, one of: basics")),
        ("part: torch_ops\nreplace:\n  - file: toy.py\n    old: [unclosed\n    new: x\n",
         ("bad.yaml:5: ", "not valid YAML: expected ',' or ']'")),
        ("part: torch_ops\nreplace:\n  - file: toy.py\n    old: 'not in the file'\n    new: x\n",
         ("bad.yaml:3: ", "'not in the file' occurs 0 times in toy.py; it must occur exactly once")),
        ("part: torch_ops\nreplace:\n  - file: toy.py\n    old: x\n",
         ("bad.yaml:3: ", "replace[0] needs string keys file, old, new")),
        ("part: torch_ops\nrepalce: []\n", ("bad.yaml:2: ", "unknown key(s) repalce")),
        ("part: torch_ops\nfiles:\n  toy.py/inner.py: x\n", ("bad.yaml:3: ", "cannot create toy.py/inner.py")),
    ],
)  # fmt: skip
def test_a_bad_mutant_stops_verify_with_its_file_and_line(tmp_path, mutant, needles):
    root = _toy_copy(tmp_path)
    (root / "tests" / "mutants" / "toy" / "bad.yaml").write_text(mutant)
    proc, elapsed = timed_grader("--root", str(root), "verify", "toy", "--jobs", "1")
    assert_one_line_usage_error(proc, *needles)
    assert elapsed < FAST  # found before anything is graded


@pytest.mark.parametrize("command", [[], ["build"], ["lint"], ["verify"], ["grade"]])
def test_every_help_says_what_exit_code_1_means(command):
    text = " ".join(grader(*command, "--help").stdout.split())
    assert "1 a check failed: `build --check` found template drift, `verify` found a failed check, `lint` found problems" in text
    assert "2 usage/configuration error" in text and "a broken solution marker, a bad mutant" in text
