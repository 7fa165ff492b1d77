"""verify's and batch's warm grading processes (grader/runner/pool.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from grader.results import GradeResult
from grader.runner.pool import GradingFailed, grade_in_workers
from grader.spec import Project

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"


def test_results_come_back_in_order_with_failures_per_submission(tmp_path: Path) -> None:
    spec = Project(TOY_ROOT).load("toy")
    seen: list[int] = []
    subs = [
        ("reference", spec.reference_dir),
        ("missing", tmp_path / "no-such-folder"),
        ("template", spec.template_dir),
        ("reference (again)", spec.reference_dir),
    ]
    results = grade_in_workers(spec, subs, jobs=2, on_result=lambda i, _r: seen.append(i))
    assert sorted(seen) == [0, 1, 2, 3]
    first, missing, template, again = results
    assert isinstance(first, GradeResult) and first.submission == "reference" and first.score == first.max_score
    assert isinstance(missing, GradingFailed) and "does not exist" in str(missing)
    assert isinstance(template, GradeResult) and template.score == 0
    assert isinstance(again, GradeResult) and again.score == first.score
    # Graded in another process than the first run, with other gradings before it there.
    assert [t.outcome for t in again.tests] == [t.outcome for t in first.tests]


def test_a_grading_process_that_dies_fails_its_submissions_with_its_error(tmp_path: Path) -> None:
    spec = SimpleNamespace(spec_file=tmp_path / "nope" / "assignment.yaml")
    results = grade_in_workers(spec, [("a", tmp_path), ("b", tmp_path)], jobs=1)
    assert all(isinstance(r, GradingFailed) and "grading process failed (exit" in str(r) for r in results)
