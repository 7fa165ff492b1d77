"""Progress: a bar on a terminal, plain lines in a log (one per part, one per grading in verify)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from grader.progress import Bar, LogLines, Submissions, for_stream

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_say_each_part_once_when_its_last_test_is_done() -> None:
    out = io.StringIO()
    log = LogLines(out, "grading x")
    log.started({"a": 2, "b": 1})
    log.finished("t1", "a", True, 2.0)
    log.finished("t2", "b", False, 1.0)
    log.finished("t2", "b", True, 1.0)  # a test run again after a time-out counts once
    log.finished("t3", "a", True, 1.5)
    lines = out.getvalue().splitlines()
    assert lines[0] == "grading x: 3 tests in 2 parts"
    assert lines[1].startswith("grading x: part b done, 0 points from 1 test (2 of 3 tests,")
    assert lines[2].startswith("grading x: part a done, 3.5 points from 2 tests (3 of 3 tests,")
    assert len(lines) == 3


def test_a_terminal_gets_a_bar_and_a_log_gets_lines() -> None:
    assert isinstance(for_stream("x", stream=io.StringIO()), LogLines)
    tty = _Tty()
    bar = for_stream("x", stream=tty, console=Console(file=tty, force_terminal=True))
    assert isinstance(bar, Bar)
    bar.started({"a": 2})
    bar.finished("t1", "a", True, 1.0)
    bar.finished("t2", "a", True, 1.0)
    assert bar.progress.tasks[0].completed == bar.progress.tasks[0].total == 2
    bar.close()


def test_gradings_are_counted_with_the_time_left() -> None:
    out = io.StringIO()
    tracker = Submissions("verify toy", 3, stream=out)
    tracker.update("reference 14/14 ok")
    text = tracker.update("template 0/14 ok")
    assert text.startswith("verify toy: [2/3] template 0/14 ok (") and "left)" in text
    assert out.getvalue().splitlines()[1] == text


def test_check_in_a_log_prints_progress_lines_on_stderr_only(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("grader")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "grader"]
    done = subprocess.run(
        [*command, "--root", str(TOY_ROOT), "check", "toy", str(TOY_ROOT / "reference" / "toy")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "checking toy (toy): 4 tests in 4 parts" in done.stderr
    assert "part basics done" in done.stderr and "(4 of 4 tests" in done.stderr
    assert "part basics done" not in done.stdout


def test_a_run_that_selects_nothing_prints_no_progress_line() -> None:
    out = io.StringIO()
    LogLines(out, "x").started({})
    assert out.getvalue() == ""
