"""Issue 2's broken submissions: each scored at its honest value, with a clear message,
and every other test still graded (the sandbox's full adversarial suite is tests/adversarial)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader.mutants import build_mutant, load_mutants
from grader.runner.session import grade_in_subprocess
from grader.spec import Project

HERE = Path(__file__).parent
SUBMISSIONS = load_mutants(HERE / "fixtures" / "submissions" / "toy")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    toy = Project(HERE / "fixtures" / "project").load("toy")
    root = tmp_path_factory.mktemp("broken")

    def grade(m):
        folder = build_mutant(toy.reference_dir, m, root / m.name)
        return m.name, grade_in_subprocess(toy.spec_file, folder)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(grade, SUBMISSIONS))


def test_there_are_five_broken_submissions():
    assert {m.name for m in SUBMISSIONS} >= {
        "sys_exit_at_import", "os_exit_in_add", "eq_always_true", "relu_loops_forever", "accumulator_raises",
    }  # fmt: skip


@pytest.mark.parametrize("mutant", SUBMISSIONS, ids=lambda m: m.name)
def test_broken_submission_gets_its_honest_score_and_a_clear_message(graded, mutant):
    result = graded[mutant.name]
    assert result.errors == [], "the grader itself must not fail"
    assert result.score == mutant.expect["score"], [(t.name, t.message) for t in result.tests if not t.passed]
    failed = [t for t in result.tests if not t.passed]
    assert failed and any(mutant.expect["message"] in (t.message or "") for t in failed)
    assert len(result.tests) == 9  # every test was still graded
