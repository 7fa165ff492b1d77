"""Notebook submissions and the template notebook (grader/notebook.py, docs/notebooks.md).

A notebook carries the assignment's files as `%%writefile` cells: `grader build` exports the
template that way when assignment.yaml says `notebook: true`, intake turns a submitted
notebook's cells back into files without running anything, and the files are graded exactly
as a folder of `.py` files would be. Tested on a copy of the toy project with the key added.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import results
from grader.intake import IntakeError, IntakeLimits, stage_submission
from grader.lint import lint_project
from grader.notebook import NO_WRITEFILE, build_notebook, extract_files, folder_files, safe_path
from grader.runner.pool import grade_in_workers
from grader.spec import Project, SpecError
from grader.template import build_assignment, check_template_imports
from grader.verify import check_same_grades, verify_assignment

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"


def _copy_toy(root: Path, notebook: str | None = "true") -> Project:
    """The toy project copied to `root`, with `notebook: <value>` added to its yaml."""
    shutil.copytree(TOY_ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    if notebook is not None:
        yaml_file = root / "assignments" / "toy" / "assignment.yaml"
        yaml_file.write_text(yaml_file.read_text() + f"notebook: {notebook}\n")
    return Project(root)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The toy with `notebook: true` and two of its mutants, its template (and notebook) built."""
    project = _copy_toy(tmp_path_factory.mktemp("nb") / "course")
    for mutant in ("add_subtracts", "normalize_not_centred", "relu_abs"):  # fewer gradings
        (project.root / "tests" / "mutants" / "toy" / f"{mutant}.yaml").unlink()
    spec = project.load("toy")
    build_assignment(spec.reference_dir, spec.template_dir)
    return project


def _cell(source: str, kind: str = "code", **extra: Any) -> dict[str, Any]:
    cell: dict[str, Any] = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell |= {"execution_count": None, "outputs": []}
    return cell | extra


def _notebook(*cells: dict[str, Any]) -> dict[str, Any]:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _write(path: Path, nb: dict[str, Any] | str) -> Path:
    path.write_text(nb if isinstance(nb, str) else json.dumps(nb))
    return path


def _stage(source: Path, tmp: Path, **caps: Any) -> tuple[Any, Path]:
    dest = tmp / "staged"
    shutil.rmtree(dest, ignore_errors=True)
    return stage_submission(source, dest, limits=IntakeLimits(**caps)), dest


def _files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _messy(reference: str) -> dict[str, Any]:
    """The reference in a notebook as students leave it: outputs, magics, experiments, mistakes."""
    half = reference.index("\ndef relu")
    outputs = [
        {"name": "stdout", "output_type": "stream", "text": ["Writing toy.py\n"]},
        {
            "output_type": "display_data",
            "data": {"image/png": "iVBORw0KGgo=", "text/plain": ["<Figure>"]},
            "metadata": {},
        },
        {"output_type": "error", "ename": "SystemExit", "evalue": "1", "traceback": ["boom"]},
    ]
    return _notebook(
        _cell("# Homework\n%%writefile toy.py\nraise SystemExit(1)\n", kind="markdown"),
        _cell("!pip install torch\n%matplotlib inline"),
        _cell("%%writefile toy.py\nthis first draft does not even parse(\n"),  # replaced below
        _cell(
            ["%%writefile toy.py\n", *reference[:half].splitlines(keepends=True)],
            outputs=outputs,
            execution_count=3,
        ),
        _cell(
            "import toy\nwhile True:  # a training run: it would never end if it were run\n    pass"
        ),
        _cell(
            "\n\n%%writefile -a toy.py\n" + reference[half:].removesuffix("\n")
        ),  # no final newline
        _cell("%%writefile ../evil.py\nimport os\nos._exit(0)\n"),
        _cell("%%writefile /tmp/absolute.py\nx = 1\n"),
        _cell("import os\nos._exit(0)"),
        _cell("%%time\nraise SystemExit(0)"),
    )


# --- the template notebook ------------------------------------------------------------------


def test_build_writes_a_valid_byte_stable_notebook_of_the_template(
    project: Project, tmp_path: Path
) -> None:
    spec = project.load("toy")
    assert spec.notebook == "toy.ipynb"
    written = spec.template_dir / "toy.ipynb"
    nb = nbformat.reads(written.read_text(), as_version=4)
    nbformat.validate(nb)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[0].startswith("%%writefile toy.py\n") and "BEGIN SOLUTION" not in code[0]
    assert spec.title in nb.cells[0].source and ".ipynb" in nb.cells[0].source
    assert extract_files(json.loads(written.read_text())).files == {
        "toy.py": (spec.template_dir / "toy.py").read_text()
    }
    again = tmp_path / "again"
    report = build_assignment(spec.reference_dir, again, spec=spec)
    assert sorted(report.written) == ["toy.ipynb", "toy.py"]
    assert (again / "toy.ipynb").read_bytes() == written.read_bytes()  # deterministic cell ids
    assert build_assignment(spec.reference_dir, spec.template_dir, check=True).ok


def test_build_check_reports_a_drifted_or_missing_notebook(tmp_path: Path) -> None:
    project = _copy_toy(tmp_path / "course")
    spec = project.load("toy")
    build_assignment(spec.reference_dir, spec.template_dir)
    notebook = spec.template_dir / "toy.ipynb"
    notebook.write_text(notebook.read_text().replace("return", "return 42 or"))
    assert build_assignment(spec.reference_dir, spec.template_dir, check=True).changed == [
        "toy.ipynb"
    ]
    cli = subprocess.run(
        [sys.executable, "-m", "grader", "--root", str(project.root), "build", "toy", "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 1 and "toy.ipynb (differs or is missing)" in cli.stdout, (
        cli.stdout + cli.stderr
    )
    notebook.unlink()
    assert build_assignment(spec.reference_dir, spec.template_dir, check=True).changed == [
        "toy.ipynb"
    ]
    fixed = build_assignment(spec.reference_dir, spec.template_dir)
    assert fixed.changed == ["toy.ipynb"] and notebook.is_file()
    without = dataclasses.replace(spec, notebook=None)
    assert build_assignment(
        spec.reference_dir, spec.template_dir, check=True, spec=without
    ).removed == ["toy.ipynb"]


def test_lint_and_template_imports_accept_the_notebook_in_the_template(project: Project) -> None:
    spec = project.load("toy")
    assert (spec.template_dir / "toy.ipynb").is_file()
    report = lint_project(project=project, name="toy")
    assert report.ok, report.problems
    assert check_template_imports(spec.template_dir, ["toy"]) == []


def test_a_notebook_path_that_is_a_reference_file_is_refused(tmp_path: Path) -> None:
    project = _copy_toy(tmp_path / "course", notebook="toy.ipynb")
    spec = project.load("toy")
    (spec.reference_dir / "toy.ipynb").write_text("{}")
    with pytest.raises(
        SpecError, match=r"notebook: toy\.ipynb is a file of reference/toy/ already"
    ):
        build_assignment(spec.reference_dir, spec.template_dir)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", "toy.ipynb"),
        ("false", None),
        ("", None),
        ("handout/hw-1.ipynb", "handout/hw-1.ipynb"),
    ],
)
def test_the_notebook_key(tmp_path: Path, value: str, expected: str | None) -> None:
    assert _copy_toy(tmp_path / "c", notebook=value).load("toy").notebook == expected


@pytest.mark.parametrize(
    "value", ["3", "../x.ipynb", "/abs.ipynb", "toy.py", ".hidden.ipynb", "[a]", "'a b.ipynb'"]
)
def test_a_bad_notebook_key_is_one_line_with_its_place(tmp_path: Path, value: str) -> None:
    with pytest.raises(SpecError) as info:
        _copy_toy(tmp_path / "c", notebook=value).load("toy")
    message = str(info.value)
    assert (
        "assignment.yaml:" in message
        and "notebook: expected true, false or a relative path" in message
    )
    assert "\n" not in message


# --- grading: notebook form = folder form ----------------------------------------------------


def test_verify_grades_the_reference_and_a_mutant_as_notebooks_like_their_folders(
    project: Project,
) -> None:
    report = verify_assignment(project.load("toy"), jobs=2)
    rows = {r.submission: r for r in report.rows}
    assert report.ok, [(r.submission, r.detail) for r in report.rows if not r.ok]
    notebook, folder = rows["reference (notebook)"], rows["reference"]
    assert notebook.kind == "notebook" and notebook.score == folder.score == folder.max_score
    [mutant] = [r for r in report.rows if r.kind == "notebook-mutant"]
    twin = rows[mutant.submission.removesuffix(" (notebook)")]
    assert mutant.score == twin.score < twin.max_score
    assert len(report.rows) == 2 + 2 + 2 + 1  # reference, template, 2 mutants, 2 notebooks, rerun


def _result(points: dict[str, float], **metadata: Any) -> results.GradeResult:
    """A graded toy result: each test is worth 1 point and passed when it earned it."""
    tests = [
        results.TestResult(f"t.py::{n}", n, "p", 1.0, points=v, outcome="passed" if v else "failed")
        for n, v in points.items()
    ]
    part = results.PartResult("p", float(len(points)), points=sum(points.values()))
    total = sum(points.values())
    return results.GradeResult(
        "toy", "t", "1", "s", total, float(len(points)), [part], tests, metadata=metadata
    )


def test_a_notebook_graded_differently_from_its_folder_fails_verify() -> None:
    folder = _result({"a": 1.0, "b": 0.0})
    assert check_same_grades(folder, _result({"a": 1.0, "b": 0.0}))[0]
    ok, detail = check_same_grades(folder, _result({"a": 0.0, "b": 1.0}))  # same score, other tests
    assert not ok and "tests graded differently: a, b" in detail
    ok, detail = check_same_grades(folder, _result({"a": 0.0, "b": 0.0}))
    assert not ok and "score 0 against 1" in detail and "p 0 against 1" in detail
    refused = _result({"a": 0.0, "b": 0.0}, intake={"refused": "no cells"})
    assert check_same_grades(folder, refused) == (False, "the notebook was refused: no cells")


def test_a_messy_notebook_grades_full_and_a_notebook_without_files_is_refused(
    project: Project, tmp_path: Path
) -> None:
    spec = project.load("toy")
    messy = _write(tmp_path / "messy.ipynb", _messy((spec.reference_dir / "toy.py").read_text()))
    empty = _write(tmp_path / "empty.ipynb", _notebook(_cell("import toy\ntoy.add(1, 2)")))
    graded = grade_in_workers(spec, [("messy", messy), ("empty", empty)], jobs=2)
    full, refused = graded
    assert not isinstance(full, Exception) and not isinstance(refused, Exception)
    assert full.score == spec.max_score and all(t.passed for t in full.tests) and not full.errors
    skipped = {s["path"]: s["reason"] for s in full.metadata["intake"]["skipped"]}
    assert skipped == {
        "cell 3 `%%writefile toy.py`": "replaced by cell 4, as running the notebook would",
        "cell 7 `%%writefile ../evil.py`": "not a safe relative path (absolute, `..` or odd characters), not extracted",
        "cell 8 `%%writefile /tmp/absolute.py`": "not a safe relative path (absolute, `..` or odd characters), not extracted",
    }
    assert refused.score == 0 and refused.metadata["intake"]["refused"] == NO_WRITEFILE
    assert all(t.message and NO_WRITEFILE in t.message for t in refused.tests)


# --- intake: the cells become files, nothing runs ----------------------------------------------


def test_intake_writes_the_cells_as_files_and_nothing_else(tmp_path: Path) -> None:
    reference = (TOY_ROOT / "reference" / "toy" / "toy.py").read_text()
    source = _write(tmp_path / "hw.ipynb", _messy(reference))
    report, dest = _stage(source, tmp_path)
    assert _files(dest) == {"toy.py": reference}  # the notebook itself is not staged
    assert (
        report.kind == "notebook" and report.files == 1 and report.bytes == len(reference.encode())
    )
    assert report.skipped_total == 3
    assert not (tmp_path / "evil.py").exists() and not Path("/tmp/absolute.py").exists()


def test_nested_paths_appends_and_clashes(tmp_path: Path) -> None:
    nb = _notebook(
        _cell("%%writefile ./model/__init__.py\n"),
        _cell("%%writefile model/net.py\nA = 1"),
        _cell("%%writefile --append model/net.py\nB = 2\n"),
        _cell("%%writefile -a new.py\nC = 3\n"),  # -a on a new file creates it, as in Colab
        _cell("%%writefile model\nclash = True\n"),
        _cell("%%writefile 'quoted.py'\nD = 4\n"),
        _cell("%%writefile\nno name\n"),
        _cell("%%writefile a.py b.py\ntwo names\n"),
    )
    report, dest = _stage(_write(tmp_path / "hw.ipynb", nb), tmp_path)
    assert _files(dest) == {
        "model/__init__.py": "",
        "model/net.py": "A = 1\nB = 2\n",
        "new.py": "C = 3\n",
        "quoted.py": "D = 4\n",
    }
    assert report.files == 4 and report.folders == 1
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons["cell 5 `%%writefile model`"] == "clashes with model/__init__.py, not extracted"
    assert reasons["cell 7 `%%writefile`"].startswith("expected one file name")
    assert reasons["cell 8 `%%writefile a.py b.py`"].startswith("expected one file name")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "the notebook is not valid JSON"),
        (json.dumps({"cells": "x", "nbformat": 4}), "not a Jupyter notebook"),
        (
            json.dumps(_notebook(_cell("x = 1"), _cell("%%writefile a.py", kind="markdown"))),
            "the notebook has no `%%writefile` cells: ",
        ),
        (
            json.dumps(_notebook(_cell("%%writefile ../x.py\nx = 1\n"))),
            "cell 1 `%%writefile ../x.py`: not a safe relative path",
        ),
        (
            json.dumps(_notebook(_cell("%%writefile /etc/cron.d/x\nx\n"))),
            "cell 1 `%%writefile /etc/cron.d/x`: not a safe",
        ),
        (
            json.dumps(_notebook(_cell("%%writefile ~/x.py\n"), _cell("%%writefile $HOME/x.py\n"))),
            "cell 1 `%%writefile ~/x.py`: not a safe",
        ),
        (json.dumps(_notebook(_cell("%%writefile C:\\x.py\n"))), "not a safe relative path"),
        (json.dumps(_notebook(_cell("%%writefile 'x.py\n"))), "unbalanced quotes"),
    ],
)
def test_a_notebook_that_cannot_be_graded_is_refused_in_one_line(
    tmp_path: Path, content: str, message: str
) -> None:
    with pytest.raises(IntakeError) as info:
        _stage(_write(tmp_path / "hw.ipynb", content), tmp_path)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "staged").exists() and not (tmp_path / "x.py").exists()


def test_the_files_of_a_notebook_count_against_the_caps(tmp_path: Path) -> None:
    many = _notebook(*(_cell(f"%%writefile m{i}.py\nx = {i}\n") for i in range(30)))
    with pytest.raises(IntakeError, match="more than 10 files"):
        _stage(_write(tmp_path / "many.ipynb", many), tmp_path, max_files=10)
    deep = _notebook(_cell("%%writefile a/b/c/d.py\nx = 1\n"))
    with pytest.raises(IntakeError, match="nested more than 2 levels deep"):
        _stage(_write(tmp_path / "deep.ipynb", deep), tmp_path, max_depth=2)
    surrogate = _notebook(
        _cell("%%writefile bad.py\nx = '\ud800'\n"), _cell("%%writefile good.py\ny = 1\n")
    )
    report, dest = _stage(_write(tmp_path / "s.ipynb", surrogate), tmp_path)
    assert _files(dest) == {"good.py": "y = 1\n"} and report.skipped[0].path == "bad.py"


# --- build → extract round trip ----------------------------------------------------------------

_segment = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,8}", fullmatch=True)
_paths = st.lists(_segment, min_size=1, max_size=3).map("/".join)


def _no_clash(files: dict[str, str]) -> bool:
    return not any(a != b and b.startswith(a + "/") for a in files for b in files)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=st.dictionaries(_paths, st.text(), min_size=1, max_size=5).filter(_no_clash),
    title=st.text(),
)
def test_build_then_extract_gives_the_files_back(files: dict[str, str], title: str) -> None:
    text = build_notebook(files, title=title or "t")
    assert build_notebook(files, title=title or "t") == text
    extracted = extract_files(json.loads(text))
    # What Colab writes: the cell's text, a final line break added when it has none.
    assert extracted.files == {
        p: t if t == "" or t.endswith("\n") else t + "\n" for p, t in files.items()
    }
    assert extracted.skipped == [] and list(extracted.files) == list(files)


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    files=st.dictionaries(_paths, st.text().map(lambda t: t + "\n"), min_size=1, max_size=4).filter(
        _no_clash
    ),
    noise=st.lists(
        st.text().filter(lambda t: not t.lstrip().startswith("%%writefile")), max_size=4
    ),
)
def test_staging_a_built_notebook_writes_exactly_its_files(
    tmp_path: Path, files: dict[str, str], noise: list[str]
) -> None:
    nb = json.loads(build_notebook(files, title="t"))
    nb["cells"] += [_cell(n) for n in noise]  # other code cells are never files
    _report, dest = _stage(_write(tmp_path / "hw.ipynb", nb), tmp_path)
    assert {
        p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()
    } == {p: t.encode() for p, t in files.items()}


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("data.py", "data.py"),
        ("./model/net.py", "model/net.py"),
        ("../x.py", None),
        ("a/../b.py", None),
        ("/abs.py", None),
        ("a\\b.py", None),
        ("a//b.py", None),
        (".hidden.py", None),
        ("-rf", None),
        ("~/x", None),
        ("a b.py", None),
        ("/".join(["d"] * 17), None),
    ],
)
def test_safe_path(raw: str, safe: str | None) -> None:
    assert safe_path(raw) == safe


def test_folder_files_orders_the_assignment_files_first(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("a\n")
    (tmp_path / "z.py").write_text("z\n")
    (tmp_path / "notes.md").write_text("not python")
    (tmp_path / "bin.py").write_bytes(b"\xff\xfe")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "c.py").write_text("")
    assert list(folder_files(tmp_path, ["z.py", "missing.py"])) == ["z.py", "pkg/a.py"]
