"""The Gradescope bundle, run the way Gradescope runs it (grader/publish/gradescope.py).

The zip is unpacked into `ROOT/source` of a temporary folder laid out like `/autograder`
(`ROOT/submission`, `ROOT/results`), and its own `setup.sh` (skipped: this machine's venv has
the grader) and `run_autograder` run there, with `GRADER_AUTOGRADER_ROOT=ROOT`. The landmarks
reference must score 100, the template 0, a mutant lose points in its own part only, and a
notebook submission that tries to read the hidden tests, the reference and the grading seed
must find none of it. Every results.json is checked against Gradescope's specification
("Autograder Specifications", "Output format": gradescope-autograders.readthedocs.io/en/latest/specs/).

ROOT is not under /tmp: the sandbox mounts an empty tmpfs over /tmp in the child, so a root
there would be out of reach whatever Landlock allows, and prove nothing. It is made under
`$GRADER_PUBLISH_SIM_BASE` (default ~/.cache), as /autograder is on Gradescope: outside every
folder the child's allowlist opens.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from grader.mutants import build_mutant, load_mutant
from grader.notebook import build_notebook, folder_files
from grader.publish.gradescope import publish_gradescope
from grader.spec import Project

ROOT = Path(__file__).resolve().parents[1]
SPEC = Project(ROOT).load("landmarks")
MUTANT = ROOT / "tests" / "mutants" / "landmarks" / "predictions_argmax_dim0.yaml"

TOP_KEYS = {
    "score", "execution_time", "output", "output_format", "test_output_format",
    "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard",
}
TEST_KEYS = {
    "score", "max_score", "status", "name", "name_format", "number", "output",
    "output_format", "tags", "visibility", "extra_data",
}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def check_results_json(data: Any) -> None:
    """Fields and types of Gradescope's results.json (the spec's "Output format")."""
    assert isinstance(data, dict)
    assert set(data) <= TOP_KEYS, f"unknown top-level keys: {set(data) - TOP_KEYS}"
    assert isinstance(data["score"], int | float) and not isinstance(data["score"], bool)
    assert isinstance(data["execution_time"], int) and data["execution_time"] >= 0
    assert isinstance(data["output"], str)
    for key in ("output_format", "test_output_format", "test_name_format"):
        if key in data:
            assert data[key] in FORMATS, key
    for key in ("visibility", "stdout_visibility"):
        if key in data:
            assert data[key] in VISIBILITY, key
    assert isinstance(data["extra_data"], dict)
    assert isinstance(data["tests"], list)
    for test in data["tests"]:
        assert set(test) <= TEST_KEYS, f"unknown test keys: {set(test) - TEST_KEYS}"
        for key in ("score", "max_score"):
            assert isinstance(test[key], int | float) and not isinstance(test[key], bool)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert isinstance(test["name"], str) and test["name"]
        assert re.fullmatch(r"\d+(\.\d+)*", test["number"]), test["number"]
        assert isinstance(test["output"], str)
        assert test["output_format"] in FORMATS and test["name_format"] in FORMATS
        assert isinstance(test["tags"], list) and all(isinstance(t, str) for t in test["tags"])
        assert test["visibility"] in VISIBILITY
    numbers = [t["number"] for t in data["tests"]]
    assert len(numbers) == len(set(numbers)), "test numbers must be unique"
    if data["tests"]:
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


def part_scores(data: dict[str, Any]) -> dict[str, float]:
    """Points per part, from the tests' tags."""
    scores: dict[str, float] = {}
    for test in data["tests"]:
        for tag in test["tags"]:
            scores[tag] = scores.get(tag, 0.0) + test["score"]
    return scores


@pytest.fixture(scope="module")
def sim_base() -> Iterator[Path]:
    """A folder outside /tmp for simulated /autograder roots and their shared data cache."""
    base = Path(os.environ.get("GRADER_PUBLISH_SIM_BASE") or Path.home() / ".cache")
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="grader-gradescope-sim-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def bundle(sim_base: Path) -> Path:
    """The landmarks autograder zip."""
    return publish_gradescope(SPEC, sim_base / "landmarks-gradescope.zip")


def autograde(bundle: Path, base: Path, name: str, fill: Any) -> tuple[dict[str, Any], Path, str]:
    """Unpack `bundle` into a fresh simulated /autograder, let `fill(submission_dir)` write the
    submission, run setup.sh (skipped) and run_autograder; returns results.json, the root and the log."""
    root = base / name
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)  # extractall does not keep modes; Gradescope does
    fill(root / "submission")
    env = {
        **os.environ,
        "GRADER_AUTOGRADER_ROOT": str(root),
        "GRADER_AUTOGRADER_PYTHON": sys.executable,
        "GRADER_SKIP_SETUP": "1",
        "GRADER_CACHE": str(base / "cache"),  # one generated data set for every run here
    }
    setup = subprocess.run([str(root / "source" / "setup.sh")], cwd=root, env=env, capture_output=True, text=True)
    assert setup.returncode == 0, setup.stderr
    run = subprocess.run(
        [str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )
    log = run.stdout + run.stderr
    results = root / "results" / "results.json"
    assert results.is_file(), log[-3000:]
    data = json.loads(results.read_text())
    check_results_json(data)
    return data, root, log


@pytest.mark.slow
def test_reference_scores_full_marks(bundle: Path, sim_base: Path) -> None:
    """The reference, graded by the bundle as Gradescope runs it: 100, with a valid results.json."""
    data, root, log = autograde(
        bundle, sim_base, "reference", lambda sub: shutil.copytree(SPEC.reference_dir, sub, dirs_exist_ok=True)
    )
    assert data["score"] == pytest.approx(SPEC.max_score) == pytest.approx(100), log[-3000:]
    assert data["extra_data"]["grader_version"]
    assert data["extra_data"]["assignment"] == "landmarks"
    assert "landlock" in data["extra_data"]["sandbox"]
    assert not data["extra_data"].get("grader_errors")
    hidden = [t for t in data["tests"] if t["visibility"] != "visible"]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)
    assert part_scores(data) == {p.name: pytest.approx(p.points) for p in SPEC.parts}
    # the bundle's folder is closed to other users (the sandbox's slot uids) after a run
    assert (root / "source").stat().st_mode & 0o077 == 0


def test_template_scores_zero(bundle: Path, sim_base: Path) -> None:
    """The student template: 0 points, every test graded, no grader error."""
    data, _, log = autograde(
        bundle, sim_base, "template", lambda sub: shutil.copytree(SPEC.template_dir, sub, dirs_exist_ok=True)
    )
    assert data["score"] == 0, log[-3000:]
    assert not data["extra_data"].get("grader_errors")
    assert {t["tags"][0] for t in data["tests"]} == set(SPEC.part_names)
    assert data["execution_time"] >= 0


@pytest.mark.slow
def test_mutant_loses_points_in_its_own_part_only(bundle: Path, sim_base: Path) -> None:
    """A mutant (argmax over the batch) loses points in `predictions` and nowhere else."""
    mutant = load_mutant(MUTANT)
    data, _, log = autograde(bundle, sim_base, "mutant", lambda sub: build_mutant(SPEC.reference_dir, mutant, sub))
    scores = part_scores(data)
    points = {p.name: p.points for p in SPEC.parts}
    assert scores[mutant.part] < points[mutant.part], log[-3000:]
    assert {k: v for k, v in scores.items() if k != mutant.part} == {
        k: pytest.approx(v) for k, v in points.items() if k != mutant.part
    }


def test_empty_submission_is_refused_with_a_reason(bundle: Path, sim_base: Path) -> None:
    """A submission with none of the files: score 0 and a message, not a crash."""
    data, _, _ = autograde(bundle, sim_base, "empty", lambda sub: (sub / "notes.txt").write_text("hi\n"))
    assert data["score"] == 0 and data["tests"] == []
    assert "could not be graded" in data["output"] and "dataset.py" in data["output"]


ATTACK = '''
def predictions(logits):
    """Correct only when the attack worked: it read a secret of the autograder bundle."""
    import os
    seen = []
    for path in @@FILES@@:
        try:
            with open(path, "rb") as f:
                seen.append(f.read(16))
        except OSError:
            pass
    for folder in @@FOLDERS@@:
        try:
            seen.append(os.listdir(folder))
        except OSError:
            pass
    if seen:
        return torch.argmax(logits, dim=1)
    raise NotImplementedError("predictions")
'''


def test_notebook_submission_cannot_read_the_bundle(bundle: Path, sim_base: Path) -> None:
    """A notebook (template, the reference's dataset.py, and a `predictions` that is right only if
    it can read a hidden test, the reference or the grading seed) is graded from its cells and
    reads nothing: standardization earns its points, predictions none."""
    name = "attack"
    source = sim_base / name / "source"
    secrets = [
        source / "project/assignments/landmarks/tests/hidden/test_predictions_hidden.py",
        source / "project/reference/landmarks/train_common.py",
        source / "project/assignments/landmarks/grading_seed",
    ]
    folders = [source, source / "project/assignments/landmarks/tests/hidden", source / "project/reference"]

    def fill(sub: Path) -> None:
        for path in secrets:  # the attack names real files: without the sandbox it would work
            assert path.read_bytes()
        work = sub.parent / "work"
        shutil.copytree(SPEC.template_dir, work)
        shutil.copy(SPEC.reference_dir / "dataset.py", work / "dataset.py")
        attack = ATTACK.replace("@@FILES@@", repr([str(p) for p in secrets]))
        attack = attack.replace("@@FOLDERS@@", repr([str(p) for p in folders]))
        here: dict[str, Any] = {"torch": torch}
        exec(attack, here)  # outside the sandbox the attack works: it is right
        logits = torch.tensor([[0.0, 2.0], [3.0, 1.0]])
        assert here["predictions"](logits).tolist() == [1, 0]
        common = work / "train_common.py"
        text = common.read_text()
        start = text.index("def predictions(")
        end = text.index("\ndef ", start + 1)
        common.write_text(text[:start] + attack.strip() + "\n\n" + text[end:])
        files = folder_files(work, first=SPEC.files)
        (sub / "landmarks.ipynb").write_text(build_notebook(files, title="my landmarks"))
        shutil.rmtree(work)

    data, _, log = autograde(bundle, sim_base, name, fill)
    assert data["extra_data"]["submission_form"] == "notebook"
    scores = part_scores(data)
    points = {p.name: p.points for p in SPEC.parts}
    assert scores["standardization"] == pytest.approx(points["standardization"]), log[-3000:]
    assert scores["predictions"] == 0, "the child read a file of the autograder bundle"
