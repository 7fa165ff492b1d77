"""Issue 11, items 4 and 5: the student's card says what it covers, puts what the student can
act on first, keeps sandbox internals off, and shows the student's own code in tracebacks."""

from __future__ import annotations

import importlib
import io
import os
import sys
from pathlib import Path

import pytest
from rich.console import Console

from grader.results import GradeResult, PartResult, score_parts
from grader.results import TestResult as TResult  # not named Test*: pytest would collect it
from grader.runner.plugin import BARE_ASSERTION, _input_matters, plain_assertion
from grader.runner.session import grade_in_subprocess
from grader.sandbox.child.server import student_traceback
from grader.sandbox.host.client import MissingModule, StudentCrash, StudentError, clean_traceback
from grader.scorecard import render_markdown, render_terminal
from grader.spec import Project

HERE = Path(__file__).parent
SANDBOX = {
    "active": ["zygote", "landlock", "seccomp"],
    "inactive": {"slot uid": "uid 62000 cannot run the interpreter /root/.venv/bin/python"},
}
# What a child of the previous version sent for a syntax error at import.
OLD_SYNTAX_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import\n'
    '  File "<frozen importlib._bootstrap_external>", line 936, in exec_module\n'
    '  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed\n'
    '  File "/tmp/grader-student-v917ubwl/work1/toy.py", line 3\n'
    "    def broken(:\n"
    "               ^\n"
    "SyntaxError: invalid syntax\n"
)


def public_only_result() -> GradeResult:
    """`grader check` of the toy assignment: training has no public test; one test per part."""
    full = {"basics": 2.0, "arrays": 4.0, "torch_ops": 2.0, "objects": 2.0, "training": 4.0}
    public = {"basics": 1.0, "arrays": 2.0, "torch_ops": 1.0, "objects": 1.0, "training": 0.0}
    parts = [PartResult(name=n, max_points=public[n], description=f"the {n} part") for n in full]
    tests = [
        TResult(nodeid=f"tests/public/test_public.py::test_{n}", name=f"test_{n}", part=n, max_points=public[n],
                outcome="passed" if n != "arrays" else "failed", message=None if n != "arrays" else "wrong mean")
        for n in full if public[n]
    ]  # fmt: skip
    score = score_parts(parts, tests)
    return GradeResult(
        assignment="toy",
        title="Toy",
        assignment_version="1",
        submission="alice",
        score=score,
        max_score=sum(p.max_points for p in parts),
        parts=parts,
        tests=tests,
        metadata={"public_only": True, "full_points": full, "sandbox": SANDBOX},
    )


def terminal(result: GradeResult, **kwargs: bool) -> str:
    console = Console(record=True, width=160, file=io.StringIO())
    render_terminal(result, console, **kwargs)
    return console.export_text()


def flat(text: str) -> str:
    return " ".join(text.split())


# --- item 4: what the card covers ------------------------------------------------------------


def test_public_only_card_says_what_share_of_the_points_it_covers() -> None:
    text = terminal(public_only_result(), student=True)
    assert "public tests only: 5 of 14 points; hidden tests hold the other 9" in text
    rows = {line.split()[0]: line for line in text.splitlines() if line.strip().startswith(("basics", "arrays", "training"))}
    assert "1 of 2" in rows["basics"] and "2 of 4" in rows["arrays"]
    assert "0 of 4" in rows["training"] and "no public test: graded by hidden tests only" in flat(text)
    assert "5 of 14" in text.split("Total", 1)[1].splitlines()[0]


def test_public_only_markdown_says_it_too() -> None:
    md = render_markdown(public_only_result(), student=True).replace("\\", "")
    assert "public tests only: 5 of 14 points; hidden tests hold the other 9" in md
    assert "| basics | 1 / 1 | 1 of 2 |" in md
    assert "no public test: graded by hidden tests only" in md
    rows = [ln for ln in md.splitlines() if ln.startswith("|")]
    assert len({ln.count("|") for ln in rows}) == 1  # every row has the same cells


def test_full_grade_has_no_public_only_line() -> None:
    result = public_only_result()
    result.metadata["public_only"] = False
    text = terminal(result)
    assert "public tests only" not in text and "of 4" not in text


def test_student_card_says_sandboxed_and_keeps_the_internals_off() -> None:
    result = public_only_result()
    text = terminal(result, student=True)
    assert "sandboxed" in text
    for internal in ("uid", "/root", "interpreter", "landlock", "layers"):
        assert internal not in text
    md = render_markdown(result, student=True)
    assert "sandboxed" in md and "uid" not in md and "root" not in md
    # The instructor's card (grader grade) keeps the full line.
    assert "sandbox: 3 layers active (zygote, landlock, seccomp); off: slot uid (uid 62000" in flat(terminal(result))


def test_public_failures_come_before_hidden_ones() -> None:
    result = public_only_result()
    hidden = TResult(nodeid="tests/hidden/test_hidden.py::test_secret", name="test_secret", part="basics",
                     max_points=1, outcome="failed", visibility="hidden", message="hidden failure")  # fmt: skip
    result.tests.insert(0, hidden)  # results are in nodeid order: tests/hidden/ sorts first
    text = terminal(result)
    assert text.index("test_arrays") < text.index("test_secret")
    md = render_markdown(result, show_hidden_details=True)
    assert md.index("test_arrays") < md.index("test_secret")


def test_a_shared_traceback_is_shown_once() -> None:
    result = public_only_result()
    tb = '  File "toy.py", line 3\n    def broken(:\n               ^\nSyntaxError: invalid syntax'
    for t in result.tests:
        t.outcome, t.points, t.message, t.traceback = "failed", 0.0, "SyntaxError in `import toy`", tb
    text = terminal(result)
    assert text.count("def broken(:") == 1
    assert "the same as for test_basics, above" in text  # the first failure shown
    md = render_markdown(result)
    assert md.count("def broken(:") == 1 and "the same as for test" in md.replace("\\", "")


# --- item 5: the student's code only -------------------------------------------------------


def test_child_shows_a_syntax_error_as_file_line_and_caret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path.resolve()
    (root / "toy_syntax_card.py").write_text('"""A module."""\n\ndef broken(:\n    pass\n')
    monkeypatch.chdir(root)  # the child runs in the submission's folder
    monkeypatch.syspath_prepend(str(root))
    with pytest.raises(SyntaxError) as info:
        importlib.import_module("toy_syntax_card")
    sys.modules.pop("toy_syntax_card", None)
    tb = student_traceback(info.value, str(root))
    assert tb.startswith('  File "toy_syntax_card.py", line 3\n    def broken(:\n')
    assert tb.rstrip().endswith("SyntaxError: invalid syntax") and "^" in tb
    assert "frozen" not in tb and "importlib" not in tb and str(root) not in tb


def test_child_keeps_only_frames_under_the_submission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path.resolve()
    (root / "toy_raises_card.py").write_text("def f():\n    raise ValueError('bad')\n\nf()\n")
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    with pytest.raises(ValueError) as info:
        importlib.import_module("toy_raises_card")
    sys.modules.pop("toy_raises_card", None)
    tb = student_traceback(info.value, str(root))
    assert tb.splitlines() == [
        "Traceback (most recent call last):",
        '  File "toy_raises_card.py", line 4, in <module>',
        "    f()",
        '  File "toy_raises_card.py", line 2, in f',
        "    raise ValueError('bad')",
        "ValueError: bad",
    ]


def test_trusted_side_cleans_a_childs_traceback() -> None:
    work = Path("/tmp/grader-student-v917ubwl/work1")
    tb = clean_traceback(OLD_SYNTAX_TRACEBACK, work)
    assert tb == '  File "toy.py", line 3\n    def broken(:\n               ^\nSyntaxError: invalid syntax\n'
    kept = 'Traceback (most recent call last):\n  File "/tmp/grader-student-v917ubwl/work1/toy.py", line 9, in f\n    return 1 / 0\nZeroDivisionError: division by zero\n'
    assert clean_traceback(kept, work) == kept.replace("/tmp/grader-student-v917ubwl/work1/", "")


@pytest.mark.parametrize(
    ("message", "plain"),
    [
        ("the loss did not fall\nassert False", "the loss did not fall"),
        ("per epoch (CPU time): 3 s\nassert False\n +  where False = ok", "per epoch (CPU time): 3 s"),
        ("assert False", BARE_ASSERTION),
        ("assert 0", BARE_ASSERTION),
        ("assert 2 == 1\n +  where 2 = f()", BARE_ASSERTION),
        ("AssertionError: assert x", BARE_ASSERTION),
        ("", BARE_ASSERTION),
        ("expected 5, got 4", "expected 5, got 4"),
    ],
)
def test_pytest_assertion_text_becomes_plain(message: str, plain: str) -> None:
    assert plain_assertion(message) == plain


def test_no_smallest_failing_input_when_the_input_does_not_matter() -> None:
    todo = StudentError("toy.add(0, 0)", "NotImplementedError", "TODO", "")
    syntax = StudentError("import toy", "SyntaxError", "invalid syntax (toy.py, line 3)", "")
    crashed = StudentCrash("your code ended the process during `import toy`")
    crashed.import_failure = "toy"
    wrong = StudentError("toy.add(0, 0)", "ValueError", "bad", "")
    assert not any(_input_matters(e) for e in (todo, syntax, crashed, MissingModule("no module `toy`")))
    assert _input_matters(wrong) and _input_matters(AssertionError("expected 1, got 2"))


@pytest.fixture(scope="module")
def syntax_error_check(tmp_path_factory: pytest.TempPathFactory) -> GradeResult:
    toy = Project(HERE / "fixtures" / "project").load("toy")
    folder = tmp_path_factory.mktemp("syntax") / "toy_submission"
    folder.mkdir()
    source = (toy.reference_dir / "toy.py").read_text().splitlines(keepends=True)
    source.insert(2, "def broken(:\n")  # line 3
    (folder / "toy.py").write_text("".join(source))
    return grade_in_subprocess(toy.spec_file, folder, public_only=True)


def test_syntax_error_card_shows_the_students_line_once(syntax_error_check: GradeResult) -> None:
    result = syntax_error_check
    assert result.errors == [] and result.score == 0
    failed = [t for t in result.tests if not t.passed]
    assert failed and len(failed) == len(result.tests)
    for t in failed:
        assert "SyntaxError" in (t.message or "") and "toy.py, line 3" in (t.message or "")
        assert t.falsifying_example is None, t.name  # the input played no part
        assert 'File "toy.py", line 3' in (t.traceback or "")
        for leftover in ("importlib", "<frozen", "/tmp", "grader-student", "assert False"):
            assert leftover not in (t.traceback or "") + (t.message or ""), (t.name, leftover)
    text = terminal(result, student=True)
    assert text.count('File "toy.py", line 3') == 1 and text.count("def broken(:") == 1
    assert "^" in text and "Smallest failing input" not in text
    assert "public tests only: 5 of 14 points; hidden tests hold the other 9" in text
    assert "importlib" not in text and "/tmp" not in text and "uid" not in text
    assert os.sep + "root" not in text
