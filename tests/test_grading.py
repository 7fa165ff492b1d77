"""End-to-end grading of the toy assignment: points, parts, messages, fairness, config errors."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from grader.mutants import build_mutant, load_mutant
from grader.runner.plugin import ConfigError
from grader.runner.session import grade_in_subprocess
from grader.spec import Project

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"


@pytest.fixture(scope="module")
def toy():
    return Project(TOY_ROOT).load("toy")


@pytest.fixture(scope="module")
def reference_runs(toy):
    return [grade_in_subprocess(toy.spec_file, toy.reference_dir) for _ in range(2)]


@pytest.fixture(scope="module")
def wrong_normalize(toy, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sub") / "normalize_not_centred"
    build_mutant(toy.reference_dir, load_mutant(toy.mutants_dir / "normalize_not_centred.yaml"), folder)
    return grade_in_subprocess(toy.spec_file, folder)


def test_reference_scores_full_marks_part_by_part(reference_runs, toy):
    result = reference_runs[0]
    assert result.errors == []
    assert result.score == result.max_score == toy.max_score == 14
    assert {p.name: p.points for p in result.parts} == {p.name: p.points for p in toy.parts}
    assert all(t.passed for t in result.tests)
    assert {t.visibility for t in result.tests} == {"public", "hidden"}


def test_two_runs_are_identical_apart_from_timings(reference_runs):
    first, second = reference_runs
    assert first.to_json(timings=False) == second.to_json(timings=False)
    assert first.to_json() != second.to_json()  # the timings really are in there


def test_a_bug_costs_points_in_its_part_only(wrong_normalize):
    lost = {p.name for p in wrong_normalize.parts if p.points < p.max_points}
    assert lost == {"arrays"}
    assert wrong_normalize.part("arrays").points == 0
    assert wrong_normalize.score == 10


def test_failure_shows_expected_got_and_smallest_example(wrong_normalize):
    failed = wrong_normalize.test("test_normalize_matches_reference")
    assert failed.outcome == "failed" and failed.points == 0
    assert "normalize(x): expected" in failed.message and "got" in failed.message
    assert failed.falsifying_example and "x=" in failed.falsifying_example
    assert "student=" not in failed.falsifying_example and "reference=" not in failed.falsifying_example
    assert failed.description == "normalize agrees with the reference on arrays of any shape."


def test_student_traceback_is_the_students_own(toy, tmp_path):
    folder = tmp_path / "sub"
    shutil.copytree(toy.reference_dir, folder)
    src = (folder / "toy.py").read_text()
    (folder / "toy.py").write_text(
        src.replace("        self.total += x\n", "        self.total += helper(x)\n")
        + "\n\ndef helper(x):\n    return x / 0\n"
    )
    result = grade_in_subprocess(toy.spec_file, folder, public_only=True)
    t = result.test("test_accumulator_adds")
    assert "ZeroDivisionError" in t.message
    assert 'File "toy.py"' in t.traceback and "in helper" in t.traceback
    assert "grader/" not in t.traceback and "site-packages" not in t.traceback
    assert result.part("objects").points == 0
    # Public tests only: each part is worth what its public tests are worth.
    assert result.max_score == sum(t.max_points for t in result.tests) == 5
    assert result.score == 4


def _project_copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(TOY_ROOT, root)
    return root


def _add_test(root: Path, where: str, body: str) -> Path:
    path = root / "assignments" / "toy" / "tests" / where / "test_extra.py"
    path.write_text("from grader.testing import points\n\n" + textwrap.dedent(body))
    return path


@pytest.mark.parametrize(
    ("where", "body", "message"),
    [
        ("hidden", '@points(1, part="nonsense")\ndef test_x(student):\n    pass\n', "part 'nonsense'"),
        ("hidden", "def test_x(student):\n    pass\n", "no @points"),
        ("public", '@points(1, part="basics")\ndef test_x(student, reference):\n    pass\n', "public test may not use the reference"),
    ],
)
def test_configuration_errors_are_reported_not_graded(tmp_path, where, body, message):
    root = _project_copy(tmp_path)
    _add_test(root, where, body)
    spec = Project(root).load("toy")
    with pytest.raises(ConfigError, match=message):
        grade_in_subprocess(spec.spec_file, spec.reference_dir)


def test_a_broken_test_file_is_a_grader_error(tmp_path):
    root = _project_copy(tmp_path)
    _add_test(root, "hidden", "this is not python\n")
    spec = Project(root).load("toy")
    result = grade_in_subprocess(spec.spec_file, spec.reference_dir)
    assert result.errors and "test_extra.py" in result.errors[0]


def test_the_template_scores_zero_and_names_each_missing_todo(toy):
    result = grade_in_subprocess(toy.spec_file, toy.template_dir)
    assert result.errors == [] and result.score == 0
    messages = {t.name: t.message for t in result.tests}
    assert "TODO not done yet: normalize" in messages["test_normalize_matches_reference"]
    assert "TODO not done yet: Accumulator.add" in messages["test_accumulator_adds"]
    assert all(t.traceback is None for t in result.tests if "TODO not done" in (t.message or ""))


def test_without_shrinking_a_failing_property_keeps_its_verdict_and_reports_the_first_example(tmp_path):
    """`shrink=False` (verify) skips the search for the smallest example, nothing else."""
    from grader.runner.session import run_session

    root = _project_copy(tmp_path)
    _add_test(root, "hidden", """
        from hypothesis import given, strategies as st

        @points(1, part="basics")
        @given(n=st.integers(0, 10**6))
        def test_small(student, n):
            assert n < 1000
    """)  # fmt: skip
    spec = Project(root).load("toy")
    shrunk, first = (run_session(spec, spec.reference_dir, shrink=s, label="x") for s in (True, False))
    assert shrunk.score == first.score
    assert [(p.name, p.points) for p in shrunk.parts] == [(p.name, p.points) for p in first.parts]
    assert (first.test("test_small").outcome, first.test("test_small").points) == ("failed", 0)
    verdicts = [{t.nodeid: (t.outcome, t.points) for t in r.tests} for r in (shrunk, first)]
    assert verdicts[0] == verdicts[1]
    assert "n=1000," in shrunk.test("test_small").falsifying_example
    assert "n=1000," not in first.test("test_small").falsifying_example
