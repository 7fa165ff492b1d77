"""`grader publish`: the student zip, the GitHub Classroom repository, --all, and the bundles' shape.

The student zip and the classroom repository must hold nothing secret: no hidden test, no
reference solution text, no mutant, no grading seed, no data set (checked by name and by
content, for every assignment). The classroom workflow is parsed as YAML and its grading step
run here, in the generated repository, as GitHub Actions would run it. The simulated
Gradescope run is in tests/test_publish_gradescope.py.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from grader.cli import main as cli_main
from grader.publish import publish_classroom, publish_gradescope, publish_student
from grader.publish.autograder import choose_submission
from grader.publish.bundle import read_tree
from grader.publish.classroom import WORKFLOW_PATH, encode_result, runner_result
from grader.runner.data import GRADING_SEED_FILE
from grader.spec import Project

ROOT = Path(__file__).resolve().parents[1]
PROJECT = Project(ROOT)
NAMES = PROJECT.assignment_names()
_DATA_SUFFIXES = (".png", ".jpg", ".jpeg", ".npy", ".npz", ".pt", ".pth", ".safetensors", ".pkl", ".csv", ".bin")


def _solution_lines(spec: Any) -> set[str]:
    """Lines of the reference (the solutions), long enough to be telling, that neither its
    template nor any public file of the repository (public tests, the assignment's helper
    modules, the grader) holds anyway."""
    public = [
        data.decode("utf-8", "replace")
        for folder, skip in ((Path(spec.root), (spec.hidden_tests,)), (ROOT / "grader", ()), (spec.template_dir, ()))
        for data in read_tree(folder, skip=skip).values()
    ]
    lines: set[str] = set()
    for rel, data in read_tree(spec.reference_dir).items():
        if rel.endswith(".py"):
            for line in data.decode().splitlines():
                text = line.strip()
                if len(text) >= 30 and not text.startswith("#") and not any(text in p for p in public):
                    lines.add(text)
    return lines


def _zip_files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}


def assert_nothing_secret(spec: Any, files: dict[str, bytes]) -> None:
    """No hidden test, reference, mutant, grading seed or data set in `files` (names and contents)."""
    names = list(files)
    for bad in ("tests/hidden", "reference/", "mutants/", GRADING_SEED_FILE, "standins.py"):
        found = [n for n in names if bad in "/" + n]
        assert not found, f"{bad} in {found[:3]}"
    assert not [n for n in names if n.lower().endswith(_DATA_SUFFIXES)]
    contents = set(files.values())
    for rel, data in read_tree(spec.hidden_tests).items():
        assert data not in contents, f"hidden test {rel} is in the bundle"
    texts = [data.decode("utf-8", "replace") for data in files.values()]
    solutions = _solution_lines(spec)
    assert solutions, "the reference has solution lines to look for"
    leaked = [line for line in solutions if any(line in text for text in texts)]
    assert not leaked, f"reference solution text in the bundle: {leaked[:3]}"
    seed_file = Path(spec.root) / GRADING_SEED_FILE
    if seed_file.is_file():
        seed = next(ln.strip() for ln in seed_file.read_text().splitlines() if ln.strip() and not ln.startswith("#"))
        assert len(seed) >= 6 and not any(seed in text for text in texts), "the grading seed is in the bundle"


@pytest.mark.parametrize("name", NAMES)
def test_student_zip_holds_nothing_secret(name: str, tmp_path: Path) -> None:
    """The student zip: template (and notebook), README, check.py, public tests, grader; nothing hidden."""
    spec = PROJECT.load(name)
    zipped = publish_student(spec, tmp_path / f"{name}-student.zip")
    files = _zip_files(zipped)
    top = f"{name}-starter/"
    assert all(n.startswith(top) for n in files)
    rel = {n[len(top):]: data for n, data in files.items()}
    assert_nothing_secret(spec, rel)
    for path, data in read_tree(spec.template_dir).items():  # the template, exactly as built
        assert rel[f"{name}/{path}"] == data
    if spec.notebook:
        assert f"{name}/{spec.notebook}" in rel
    for path, data in read_tree(spec.public_tests).items():
        assert rel[f"grading/project/assignments/{name}/tests/public/{path}"] == data
    assert {"README.md", "check.py", "grading/requirements.txt", "grading/grader_src/pyproject.toml"} <= set(rel)
    assert "grading/grader_src/grader/cli.py" in rel
    assert publish_student(spec, tmp_path / "again.zip").read_bytes() == zipped.read_bytes()


def test_gradescope_zip_layout(tmp_path: Path) -> None:
    """setup.sh and run_autograder at the zip's root, executable; secrets only under project/."""
    spec = PROJECT.load("landmarks")
    zipped = publish_gradescope(spec, tmp_path / "gs.zip")
    with zipfile.ZipFile(zipped) as zf:
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert {"requirements.txt", "manifest.json", "grader_src/pyproject.toml", "grader_src/grader/publish/autograder.py"} <= set(modes)
    hidden = [n for n in modes if "/tests/hidden/" in n]
    assert hidden and all(n.startswith("project/assignments/landmarks/tests/hidden/") for n in hidden)
    assert "project/assignments/landmarks/grading_seed" in modes
    assert "project/reference/landmarks/train_common.py" in modes
    assert not [n for n in modes if "mutants/" in n or n.startswith("project/student_template")]
    files = _zip_files(zipped)
    for script in ("setup.sh", "run_autograder"):
        assert files[script].startswith(b"#!/usr/bin/env bash\n")
        check = subprocess.run(["bash", "-n"], input=files[script], capture_output=True)
        assert check.returncode == 0, check.stderr
    assert b"grader.publish.autograder" in files["run_autograder"] and b"landmarks" in files["run_autograder"]
    requirements = files["requirements.txt"].decode()
    assert "torch==" in requirements and "pytest==" in requirements
    assert publish_gradescope(spec, tmp_path / "again.zip").read_bytes() == zipped.read_bytes()


def _touch(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_choose_submission(tmp_path: Path) -> None:
    """Files, a folder around them, one zip, one notebook; never a folder of the assignment's own."""
    files = ("dataset.py", "model/target.py")
    plain = tmp_path / "plain"
    _touch(plain / "dataset.py")
    _touch(plain / "landmarks.ipynb", "{}")
    assert choose_submission(plain, files) == plain  # .py files win over a notebook
    wrapped = tmp_path / "wrapped"
    _touch(wrapped / "my_work" / "dataset.py")
    _touch(wrapped / ".DS_Store")
    assert choose_submission(wrapped, files) == wrapped / "my_work"
    own = tmp_path / "own"
    _touch(own / "model" / "target.py")
    assert choose_submission(own, files) == own
    notebook = tmp_path / "notebook"
    _touch(notebook / "landmarks.ipynb", "{}")
    _touch(notebook / "notes.md")
    assert choose_submission(notebook, files) == notebook / "landmarks.ipynb"
    zipped = tmp_path / "zipped"
    _touch(zipped / "submission.zip")
    assert choose_submission(zipped, files) == zipped / "submission.zip"
    link = tmp_path / "link"
    link.mkdir()
    os.symlink(plain, link / "elsewhere")
    assert choose_submission(link, files) == link  # a link is never looked into


@given(parts=st.lists(st.tuples(st.integers(0, 20), st.integers(1, 20)), min_size=1, max_size=6), errors=st.booleans())
def test_runner_result_sums_to_the_score(parts: list[tuple[int, int]], errors: bool) -> None:
    """The reporter's runner result: a test per part whose scores sum to the card's score."""
    parts = [(min(p, m), m) for p, m in parts]
    results = {
        "score": float(sum(p for p, _ in parts)),
        "max_score": float(sum(m for _, m in parts)),
        "errors": ["boom"] if errors else [],
        "parts": [{"name": f"p{i}", "points": float(p), "max_points": float(m)} for i, (p, m) in enumerate(parts)],
    }
    result = runner_result(results)
    assert sum(t["score"] for t in result["tests"]) == results["score"]
    assert result["max_score"] == results["max_score"]
    full = all(p == m for p, m in parts)
    assert result["status"] == ("error" if errors else "pass" if full else "fail")
    assert [t["status"] == "pass" for t in result["tests"]] == [p == m for p, m in parts]
    assert json.loads(base64.b64decode(encode_result(result))) == result


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    spec = PROJECT.load("landmarks")
    repo = publish_classroom(spec, tmp_path_factory.mktemp("classroom") / "repo")
    return spec, repo


def test_classroom_workflow_structure(classroom: tuple[Any, Path]) -> None:
    """The workflow: on push, job run-autograding-tests, install, grade, summary, JUnit, reporter."""
    spec, repo = classroom
    workflow = yaml.safe_load((repo / WORKFLOW_PATH).read_text())
    assert "push" in workflow["on"]
    assert workflow["permissions"]["checks"] == "write"
    job = workflow["jobs"]["run-autograding-tests"]  # the reporter looks the check run up by this name
    assert job["runs-on"] == "ubuntu-latest"
    steps = job["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    install = next(s for s in steps if "grader_src" in s.get("run", ""))
    assert "requirements.txt" in install["run"]
    grading = next(s for s in steps if s.get("id") == "grader")
    assert f"check {spec.name} {spec.name}" in grading["run"] and "junit" in grading["run"]
    assert "$GITHUB_STEP_SUMMARY" in grading["run"] and "$GITHUB_OUTPUT" in grading["run"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"].startswith("grader-results")
    reporter = next(s for s in steps if "autograding-grading-reporter" in s.get("uses", ""))
    assert reporter["with"]["runners"] == "grader"
    assert reporter["env"]["GRADER_RESULTS"] == "${{ steps.grader.outputs.result }}"
    assert steps.index(grading) < steps.index(reporter)
    assert_nothing_secret(spec, read_tree(repo))


def _run_grading_step(repo: Path, tmp_path: Path) -> tuple[dict[str, Any], str]:
    """Run the workflow's grading step here, as Actions would (bash -e, python on PATH)."""
    workflow = yaml.safe_load((repo / WORKFLOW_PATH).read_text())
    step = next(s for s in workflow["jobs"]["run-autograding-tests"]["steps"] if s.get("id") == "grader")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "python").chmod(0o755)
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    run = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    line = next(ln for ln in output.read_text().splitlines() if ln.startswith("result="))
    assert (repo / "grader-results" / "junit.xml").is_file()
    return json.loads(base64.b64decode(line.removeprefix("result="))), summary.read_text()


def test_classroom_grading_step_runs_here(classroom: tuple[Any, Path], tmp_path: Path) -> None:
    """The template gets 0 of the public points; the reference all of them, status pass."""
    spec, repo = classroom
    result, summary = _run_grading_step(repo, tmp_path / "template")
    public = result["max_score"]
    assert 0 < public <= spec.max_score
    assert result["status"] == "fail" and sum(t["score"] for t in result["tests"]) == 0
    assert summary.startswith("## Landmarks") and "0 / " in summary
    work = repo / spec.name
    saved = work.with_name("saved")
    work.rename(saved)
    try:
        shutil.copytree(spec.reference_dir, work)
        result, summary = _run_grading_step(repo, tmp_path / "reference")
    finally:
        shutil.rmtree(work)
        saved.rename(work)
    assert result["status"] == "pass", summary
    assert sum(t["score"] for t in result["tests"]) == result["max_score"] == public


def test_student_check_py_runs(tmp_path: Path) -> None:
    """The student zip's one-command self-check works from the unpacked folder, hidden files absent."""
    spec = PROJECT.load("landmarks")
    with zipfile.ZipFile(publish_student(spec, tmp_path / "s.zip")) as zf:
        zf.extractall(tmp_path / "unpacked")
    kit = tmp_path / "unpacked" / "landmarks-starter"
    run = subprocess.run(
        [sys.executable, "check.py", "--part", "predictions", "--format", "terminal,json", "--out", str(tmp_path / "out")],
        cwd=kit, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    card = json.loads((tmp_path / "out" / "results.json").read_text())
    assert card["metadata"]["public_only"] is True
    assert card["score"] == 0 and {p["name"] for p in card["parts"] if p["tests"]} == {"predictions"}


def test_cli_publish_all_and_help(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--all writes every artefact of every assignment with an index; --help names each target."""
    out = tmp_path / "site"
    assert cli_main(["--root", str(ROOT), "publish", "--all", str(out)]) == 0
    index = (out / "index.md").read_text()
    for name in NAMES:
        assert f"| {name} |" in index
        assert (out / name / f"{name}-gradescope.zip").is_file()
        assert (out / name / f"{name}-student.zip").is_file()
        assert (out / name / f"{name}-classroom" / WORKFLOW_PATH).is_file()
    with pytest.raises(SystemExit):
        cli_main(["publish", "--help"])
    text = capsys.readouterr().out
    for target in ("--gradescope", "--github-classroom", "--student", "--all"):
        assert target in text
    assert cli_main(["--root", str(ROOT), "publish", "landmarks"]) == 2  # no target
    assert cli_main(["--root", str(ROOT), "publish", "landmarks", "--student", str(tmp_path / "x.tar")]) == 2
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    assert cli_main(["--root", str(ROOT), "publish", "landmarks", "--github-classroom", str(tmp_path / "full")]) == 2


def test_bundled_grader_source_builds_a_wheel(tmp_path: Path) -> None:
    """grader_src (what setup.sh and the workflow pip-install) builds, with its data files and script."""
    pytest.importorskip("setuptools")
    spec = PROJECT.load("landmarks")
    with zipfile.ZipFile(publish_gradescope(spec, tmp_path / "gs.zip")) as zf:
        zf.extractall(tmp_path / "source")
    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index",
         "-w", str(tmp_path / "wheel"), str(tmp_path / "source" / "grader_src")],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    (wheel,) = (tmp_path / "wheel").glob("grader-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert {"grader/pytest_grading.ini", "grader/py.typed", "grader/publish/autograder.py"} <= names
    assert "grader = grader.cli:main" in entry_points
