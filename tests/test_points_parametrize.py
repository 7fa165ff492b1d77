"""`@points(n, part=..., per=...)` on parametrized tests: per case, split per test, or an error."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.lint import lint_project
from grader.runner.plugin import ConfigError
from grader.runner.session import grade_in_subprocess
from grader.spec import Project
from grader.testing import POINTS_MARK, points

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"

# Three parts only these tests score: `each` (2 points a case), `split` (4 points over the
# test's 3 cases), `whole` (1 point over 6 cases that all pass: 1/6 six times adds up to
# 0.9999999999999999 unless the sums are rounded).
PARTS = """\
  - name: each
    points: 6
    description: per case
  - name: split
    points: 4
    description: split per test
  - name: whole
    points: 1
    description: split, all pass
"""

# The reference's add(5, 5) is 10, so the case that wants 11 fails.
CASES = '[(1, 2, 3), (2, 2, 4), (5, 5, 11)]'
TESTS = f'''\
import pytest

from grader.testing import assert_equal, points


@points(2, part="each", per="case")
@pytest.mark.parametrize("a, b, want", {CASES})
def test_add_each(student, a, b, want):
    """add(a, b) is want."""
    assert_equal(student.toy.add(a, b), want, what=f"add({{a}}, {{b}})")


@points(4, part="split", per="test")
@pytest.mark.parametrize("a, b, want", {CASES})
def test_add_split(student, a, b, want):
    """add(a, b) is want."""
    assert_equal(student.toy.add(a, b), want, what=f"add({{a}}, {{b}})")


@points(1, part="whole", per="test")
@pytest.mark.parametrize("a", range(6))
def test_add_zero(student, a):
    """add(a, 0) is a."""
    assert_equal(student.toy.add(a, 0), a, what=f"add({{a}}, 0)")
'''


def _project(tmp_path: Path, source: str) -> Path:
    """A copy of the toy project with the three parts above and `source` as a public test file."""
    root = tmp_path / "project"
    shutil.copytree(TOY_ROOT, root)
    assignment = root / "assignments" / "toy"
    yaml_file = assignment / "assignment.yaml"
    text = yaml_file.read_text()
    yaml_file.write_text(text.replace("parts:\n", "parts:\n" + PARTS, 1))
    (assignment / "tests" / "public" / "test_cases.py").write_text(textwrap.dedent(source))
    return root


def test_per_case_and_per_test_points_of_three_cases_one_failing(tmp_path):
    spec = Project(_project(tmp_path, TESTS)).load("toy")
    result = grade_in_subprocess(spec.spec_file, spec.reference_dir, public_only=True)
    assert result.errors == []

    each = [t for t in result.tests if t.name.startswith("test_add_each[")]
    assert len(each) == 3
    assert [t.max_points for t in each] == [2.0, 2.0, 2.0]
    assert sorted(t.points for t in each) == [0.0, 2.0, 2.0]
    assert result.part("each").points == 4 and result.part("each").max_points == 6

    split = [t for t in result.tests if t.name.startswith("test_add_split[")]
    assert len(split) == 3
    assert [t.max_points for t in split] == [pytest.approx(4 / 3)] * 3
    assert result.part("split").points == pytest.approx(8 / 3)
    assert result.part("split").max_points == 4

    # Six shares of 1/6 that all pass make the part's full point, exactly.
    whole = result.part("whole")
    assert len(whole.tests) == 6
    assert whole.points == whole.max_points == 1.0

    failed = next(t for t in split if not t.passed)
    assert "add(5, 5): expected 11" in failed.message


@pytest.mark.parametrize(
    ("mark", "message"),
    [
        ('@points(2, part="each")', 'is parametrized (3 cases), so its @points must say how its 2 points count: per="case"'),
        ('@pytest.mark.grader_points(2, part="each", per="suite")', "per='suite'): use per=\"case\" or per=\"test\""),
    ],
)  # fmt: skip
def test_a_parametrized_test_that_does_not_say_how_is_a_config_error(tmp_path, mark, message):
    source = f"""\
        import pytest

        from grader.testing import points


        {mark}
        @pytest.mark.parametrize("a", [1, 2, 3])
        def test_add(student, a):
            pass
    """
    spec = Project(_project(tmp_path, source)).load("toy")
    with pytest.raises(ConfigError) as info:
        grade_in_subprocess(spec.spec_file, spec.reference_dir, public_only=True)
    lines = str(info.value).splitlines()
    assert len(lines) == 1, lines  # one line for the test function, not one per case
    assert "test_cases.py::test_add: " in lines[0] and message in lines[0]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # no grading plugin here
def test_points_checks_per_and_records_it_on_the_mark():
    assert points(4, part="x", per="case").mark.kwargs == {"part": "x", "per": "case"}
    assert points(4, part="x", per="test").mark.kwargs == {"part": "x", "per": "test"}
    assert points(4, part="x").mark.kwargs == {"part": "x"}
    assert points(4, part="x").mark.name == POINTS_MARK
    with pytest.raises(ValueError, match="per=...\\) must be 'case' or 'test'"):
        points(4, part="x", per="cases")


def _lint(root: Path) -> list[str]:
    return [str(p) for p in lint_project(project=Project(root), name="toy").problems]


def test_lint_counts_cases_and_knows_per(tmp_path):
    assert _lint(_project(tmp_path / "a", TESTS)) == []
    # Per case, 3 literal cases of 1 point make 3 of the part's 6 points: too few.
    fewer = TESTS.replace('@points(2, part="each", per="case")', '@points(1, part="each", per="case")')
    problems = _lint(_project(tmp_path / "b", fewer))
    assert len(problems) == 1 and "part 'each' is worth 6 points but its tests add up to 3" in problems[0]


def test_lint_refuses_a_parametrized_test_that_does_not_say_how(tmp_path):
    source = """\
        import pytest

        from grader.testing import points

        pytestmark = pytest.mark.parametrize("b", [0, 1])


        @points(6, part="each")
        def test_module_parametrized(student, b):
            pass


        @points(4, part="split", split=True)
        @pytest.mark.parametrize("a", [1, 2])
        def test_unknown_keyword(student, a, b):
            pass


        @points(1, part="whole", per="cases")
        def test_bad_per(student, b):
            pass
    """
    problems = "\n".join(_lint(_project(tmp_path, source)))
    assert 'test_cases.py:8: test `test_module_parametrized` is parametrized, so its @points must say how its 6 points count: per="case"' in problems
    assert "test_cases.py:13: @points has no keyword split" in problems
    assert 'test_cases.py:19: @points: per= must be "case" or "test"' in problems


def test_a_case_selected_with_k_keeps_its_share_of_the_whole_test(tmp_path):
    root = _project(tmp_path, TESTS)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "--root", str(root), "check", "toy", str(root / "reference" / "toy"),
         "-k", "test_add_split and 1-2-3", "--format", "json", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    tests = json.loads((out / "results.json").read_text())["tests"]
    assert [(t["name"], t["max_points"], t["points"]) for t in tests] == [
        ("test_add_split[1-2-3]", pytest.approx(4 / 3), pytest.approx(4 / 3))
    ]
