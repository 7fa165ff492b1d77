"""Fair under load: the reference graded by four concurrent gradings on this machine's cores.

A correct submission must never lose points because the host is busy (batch grading makes it
busy by design). Call limits count the child's CPU time, training budgets compare CPU time
over the whole run, and a test that still fails on the wall clock runs once more alone; so
four gradings of the reference at once must each score full marks, with the same outcome for
every test. The run is bounded: each grading has a time limit of its own.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader.results import GradeResult
from grader.runner.session import grade_in_subprocess
from grader.spec import Project

REPO = Path(__file__).resolve().parent.parent
PROJECTS = {"toy": REPO / "tests" / "fixtures" / "project", "landmarks": REPO}
CONCURRENT = 4
GRADING_TIMEOUT = 900  # seconds, for one grading among four on two cores


def _grade_concurrently(assignment: str) -> tuple[list[GradeResult], float]:
    spec = Project(PROJECTS[assignment]).load(assignment)

    def one(i: int) -> GradeResult:
        return grade_in_subprocess(spec.spec_file, spec.reference_dir, label=f"load-{i}", timeout=GRADING_TIMEOUT)

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        results = list(pool.map(one, range(CONCURRENT)))
    return results, time.monotonic() - t0


@pytest.mark.slow
@pytest.mark.parametrize("assignment", list(PROJECTS))
def test_the_reference_scores_full_marks_with_four_gradings_at_once(assignment: str):
    results, seconds = _grade_concurrently(assignment)
    print(f"{assignment}: {CONCURRENT} concurrent gradings on {os.cpu_count()} cores in {seconds:.0f} s")
    for r in results:
        lost = [(t.name, t.message) for t in r.tests if not t.passed]
        assert r.errors == [], r.errors
        assert r.score == r.max_score, lost
    if assignment == "landmarks":  # the training check's curves and budget reach the results (HTML draws them)
        for r in results:
            assert {"series", "budget"} <= {a["kind"] for t in r.tests for a in t.artefacts}
    outcomes = [{t.nodeid: t.outcome for t in r.tests} for r in results]
    assert all(o == outcomes[0] for o in outcomes), "two gradings of the same submission differ"
    retried = [x for r in results for x in r.metadata.get("retried", [])]
    print(f"tests run again alone after a wall-clock time-out: {len(retried)}")
