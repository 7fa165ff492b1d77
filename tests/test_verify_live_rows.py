"""`grader verify`'s rows as they come in: a row compared with another waits for that one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grader import verify
from grader.results import GradeResult, PartResult
from grader.spec import Project

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"


def _result(label: str, spec: Any, *, full: bool) -> GradeResult:
    parts = [PartResult(name=p.name, max_points=float(p.points), points=float(p.points) * full) for p in spec.parts]
    return GradeResult(
        assignment=spec.name, title=spec.title, assignment_version=str(spec.version), submission=label,
        score=sum(p.points for p in parts), max_score=sum(p.max_points for p in parts), parts=parts,
    )  # fmt: skip


@pytest.mark.parametrize("finish_order", [["rerun", "reference", "template"], ["template", "reference", "rerun"]])
def test_the_rerun_is_told_after_the_first_run_whichever_finishes_first(monkeypatch, finish_order) -> None:
    spec = Project(TOY_ROOT).load("toy")
    monkeypatch.setattr(verify, "load_mutants", lambda _folder: [])

    def fake_pool(_spec: Any, submissions: list[tuple[str, Path]], *, on_result: Any, **_kw: Any) -> list[Any]:
        labels = [label for label, _ in submissions]
        assert labels == ["reference", "template", "reference (again)"]
        made = {
            "reference": _result("reference", spec, full=True),
            "template": _result("template", spec, full=False),
            "rerun": _result("reference (again)", spec, full=True),
        }
        index = {"reference": 0, "template": 1, "rerun": 2}
        for kind in finish_order:
            on_result(index[kind], made[kind])
        return [made["reference"], made["template"], made["rerun"]]

    monkeypatch.setattr(verify, "grade_in_workers", fake_pool)
    rows: list[verify.VerifyRow] = []
    report = verify.verify_assignment(spec, on_row=rows.append)
    assert report.ok, [(r.submission, r.detail) for r in report.rows]
    told = [r.submission for r in rows]
    assert sorted(told) == ["reference", "reference (again)", "template"]  # each once
    assert told.index("reference (again)") > told.index("reference")
    assert all(r.ok for r in rows), [(r.submission, r.detail) for r in rows]
