"""The pytest plugin that grades: fixtures, points, per-test seeds and limits, results.

It runs in the trusted grading process. Student code is reached only through the `student`
fixture (a sandboxed child); the reference solution through `reference` (a second child).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.results import TestResult
from grader.runner import packages
from grader.runner.hostlock import HostGate
from grader.sandbox.host.client import (
    MissingModule,
    Sandbox,
    StudentError,
    StudentFailure,
    StudentTimeout,
    Submission,
)
from grader.testing import PER_CHOICES, POINTS_MARK

PUBLIC_FORBIDDEN_FIXTURES = frozenset({"reference"})
# Set on the function of a fixture made by a training check: tests that use it run last.
TRAINING_CHECK_ATTR = "__grader_training_check__"


class ConfigError(Exception):
    """The assignment's tests or settings are wrong (not the student's fault)."""


def test_seed(base_seed: int, nodeid: str) -> int:
    """A per-test seed derived from the run's base seed and the test's id."""
    digest = hashlib.sha256(f"{base_seed}:{nodeid}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def _seed_trusted(seed: int, imports: tuple[str, ...] = ()) -> None:
    """Seed Python's and numpy's generators, and torch's where the assignment declares torch
    or a test module has imported it (a numpy assignment's grading never imports torch)."""
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in imports or "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)


def _one_thread_trusted() -> None:
    """Run this process's torch on one thread, once a test module has imported torch.

    For a grading in a process started without `ONE_THREAD_ENV` (`grader grade`, `check`):
    see grader/runner/threads.py for why.
    """
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


class SubmissionRefused(StudentFailure):
    """Intake refused the submission (over a cap, out of time, unreadable): nothing of it runs."""


class GradingPlugin:
    """Registered with `pytest.main(plugins=[...])` for one grading run.

    `submission_dir` is a staged copy (grader/intake.py: regular files and folders only);
    with `refused`, every test that uses `student` fails with that reason.
    """

    def __init__(
        self,
        *,
        spec: Any,
        submission_dir: Path,
        data_dir: Path | None,
        base_seed: int = 0,
        threads: int = 1,
        submission_deadline: float | None = None,
        refused: str | None = None,
        parts: tuple[str, ...] | None = None,
        progress: Any = None,
    ) -> None:
        self.assignment = spec
        self.progress = progress  # a grader.progress.Listener, or None
        self._progress_started = False
        self.refused = refused
        self.parts = parts  # only the tests of these parts run (None: all)
        self.collected: list[str] = []  # names of the tests collected, before any selection
        self.cases: dict[str, int] = {}  # test function -> its collected (parametrized) cases
        self.submission_dir = submission_dir
        self.data_dir_path = data_dir
        self.base_seed = base_seed
        self.threads = threads
        self.submission_deadline = submission_deadline
        self.results: list[TestResult] = []
        self.config_errors: list[str] = []
        self.collection_errors: list[str] = []
        self._student: Sandbox | None = None
        self._reference: Sandbox | None = None
        self._pending: dict[str, TestResult] = {}
        self._wall_timeouts: set[str] = set()
        self.retried: list[dict[str, str]] = []  # tests run again alone after a wall-clock time-out
        self.retries_left = MAX_RETRIES
        self._gate: HostGate | None = None
        self._explained: set[str] = set()

    # --- sandboxes ----------------------------------------------------------------------
    def student_sandbox(self) -> Sandbox:
        """The submission's sandbox, created on first use."""
        if self._student is None:
            self._student = Sandbox(
                self.submission_dir,
                fixture_name="student",
                staged=True,
                call_seconds=self.assignment.limits.call_seconds,
                data_dir=self.data_dir_path,
                threads=self.threads,
                memory_bytes=int(self.assignment.limits.memory_mb * 1024 * 1024),
                disk_bytes=int(self.assignment.limits.disk_mb * 1024 * 1024),
                return_bytes=int(self.assignment.limits.return_mb * 1024 * 1024),
                imports=self.assignment.imports,
            )
        return self._student

    def reference_sandbox(self) -> Sandbox:
        """The reference solution's (trusted) sandbox, created on first use."""
        if self._reference is None:
            self._reference = Sandbox(
                self.assignment.reference_dir,
                fixture_name="reference",
                call_seconds=max(60.0, self.assignment.limits.call_seconds * 10),
                data_dir=self.data_dir_path,
                threads=self.threads,
                imports=self.assignment.imports,
            )
        return self._reference

    @property
    def restarts(self) -> int:
        """How many times the student's child was restarted after a crash or time-out."""
        return self._student.restarts if self._student else 0

    def close(self) -> None:
        """Stop both children and remove their folders."""
        for sb in (self._student, self._reference):
            if sb is not None:
                sb.close()
        if self._gate is not None:
            self._gate.close()

    def gate(self) -> HostGate:
        """The host-wide gate between grading processes (see grader/runner/hostlock.py)."""
        if self._gate is None:
            from grader.runner.data import cache_root

            self._gate = HostGate(cache_root() / "locks")
        return self._gate

    # --- fixtures -----------------------------------------------------------------------
    @pytest.fixture(scope="session")
    def student(self) -> Submission:
        """The submission under grading, in its sandboxed child."""
        if self.refused:
            raise SubmissionRefused(f"your submission was not graded: {self.refused}")
        return Submission(self.student_sandbox())

    @pytest.fixture(scope="session")
    def reference(self) -> Submission:
        """The reference solution, in a trusted child (hidden tests only)."""
        return Submission(self.reference_sandbox())

    @pytest.fixture(scope="session")
    def spec(self) -> Any:
        """The AssignmentSpec being graded."""
        return self.assignment

    @pytest.fixture(scope="session")
    def data_dir(self) -> Path:
        """The assignment's data set folder."""
        if self.data_dir_path is None:
            pytest.fail("this assignment has no data set configured (assignment.yaml: data)")
        return self.data_dir_path

    @pytest.fixture(scope="session")
    def heldout_dir(self) -> Path:
        """The held-out data set (grading seed; never in the child): it decides thresholds."""
        from grader.runner.data import HeldOutError, heldout_data_dir

        if self.data_dir_path is None:
            pytest.fail("this assignment has no data set configured (assignment.yaml: data)")
        try:
            return heldout_data_dir(self.assignment, self.data_dir_path)
        except (HeldOutError, KeyError) as exc:
            pytest.fail(f"no held-out data set: {exc}")

    @pytest.fixture(scope="session")
    def part_scores(self) -> PartScores:
        """A live view: (points earned, points available) per part over the tests run so far.

        Tests of the `training` part run last, so a training check can see whether the pieces
        it uses already lost points in their own parts.
        """
        return PartScores(self)

    @pytest.fixture
    def timings(self, request: pytest.FixtureRequest) -> dict[str, float]:
        """A dict a test fills with named wall times (seconds) for the scorecard."""
        store: dict[str, float] = {}
        request.node.stash[_TIMINGS] = store
        return store

    # --- hooks --------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool:
        """Run each test holding the host gate shared; a test that failed on the wall clock
        (a busy host, not slow code) runs once more, alone on the host, before it counts."""
        from _pytest.runner import runtestprotocol

        if self.progress is not None and not self._progress_started:
            # At the first test the selection is final (-k, --part) and a run is under way.
            self._progress_started = True
            per_part: dict[str, int] = {}
            for it in item.session.items:
                part = str(_part_of(it))
                per_part[part] = per_part.get(part, 0) + 1
            self.progress.started(per_part)
        item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        with self.gate().shared():
            reports = runtestprotocol(item, nextitem=nextitem, log=False)
        if item.nodeid in self._wall_timeouts and self.retries_left > 0:
            self.retries_left -= 1
            first = self._take_result(item.nodeid)
            # Everything set up for this test (a training check's runs too) is set up afresh.
            item.session._setupstate.teardown_exact(None)
            with self.gate().exclusive() as alone:
                reports = runtestprotocol(item, nextitem=nextitem, log=False)
            self.retried.append({
                "test": item.nodeid,
                "first_failure": (first.message or "") if first is not None else "",
                "alone": "yes" if alone else "no (the host stayed busy)",
            })  # fmt: skip
        self._wall_timeouts.discard(item.nodeid)
        for report in reports:
            item.ihook.pytest_runtest_logreport(report=report)
        item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    def _take_result(self, nodeid: str) -> TestResult | None:
        """Remove and return the recorded result of `nodeid` (before a retry)."""
        self._explained.discard(nodeid)
        self._pending.pop(nodeid, None)
        for i in range(len(self.results) - 1, -1, -1):
            if self.results[i].nodeid == nodeid:
                return self.results.pop(i)
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Give each test its own seed, deadline and a clean time-out state.

        A hook, not an autouse fixture: fixtures of wider scope (a training check's
        module-scoped run) are set up before function-scoped ones, and must not inherit the
        deadline or the timed-out state of the test before them.
        """
        seed = test_seed(self.base_seed, item.nodeid)
        _seed_trusted(seed, self.assignment.imports)
        _one_thread_trusted()
        deadline = time.monotonic() + self.assignment.limits.test_seconds
        reason = f"this test's time limit of {self.assignment.limits.test_seconds:g} s ran out"
        if self.submission_deadline is not None and self.submission_deadline < deadline:
            deadline = self.submission_deadline
            reason = f"the submission's time limit of {self.assignment.limits.submission_seconds:g} s ran out"
        names = set(getattr(item, "fixturenames", ()))
        for sb in (self._student, self._reference):
            if sb is not None:
                sb.seed(seed)
                sb.set_deadline(None)
        if "student" in names and not self.refused:
            sb = self.student_sandbox()
            sb.seed(seed)
            sb.set_deadline(deadline, reason)
            sb.mark_output()
        if "reference" in names:
            self.reference_sandbox().seed(seed)

    def pytest_pycollect_makemodule(self, module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
        """Test files are modules of the assignment's package (grader/runner/packages.py)."""
        name = packages.module_name_for(self.assignment, module_path)
        if name is None:
            return None
        return _AssignmentModule.from_parent(parent, path=module_path, module_name=name)

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", f"{POINTS_MARK}(n, part, per): points of a grading test")

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        """Remember every collected test's name (for "matched no test" messages)."""
        self.collected.append(item.name)
        function = _function_of(item)
        self.cases[function] = self.cases.get(function, 0) + 1

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        parts = set(self.assignment.part_names)
        hidden = self.assignment.hidden_tests.resolve()
        reported: set[str] = set()  # parametrized test functions already reported
        for item in items:
            mark = item.get_closest_marker(POINTS_MARK)
            where = item.nodeid
            if mark is None:
                self.config_errors.append(f"{where}: has no @points(n, part=...) marker")
                continue
            part = mark.kwargs.get("part")
            if part not in parts:
                self.config_errors.append(
                    f"{where}: names part {part!r}, which assignment.yaml does not define "
                    f"(parts: {', '.join(sorted(parts))})"
                )
            self._check_per(item, mark, reported)
            if not _is_under(Path(str(item.path)), hidden):
                asked = PUBLIC_FORBIDDEN_FIXTURES & set(getattr(item, "fixturenames", ()))
                if asked:
                    self.config_errors.append(
                        f"{where}: a public test may not use the {', '.join(sorted(asked))} fixture"
                    )
        if self.config_errors:
            items.clear()
            return
        if self.parts is not None:
            wanted = set(self.parts)
            dropped = [it for it in items if _part_of(it) not in wanted]
            if dropped:
                items[:] = [it for it in items if _part_of(it) in wanted]
                config.hook.pytest_deselected(items=dropped)
        # Training checks last (stable order otherwise): they may use stand-ins for pieces
        # whose own parts lost points, so those parts must have run.
        items.sort(key=_is_training_check)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"could not collect {report.nodeid}: {report.longreprtext[-2000:]}")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if call.excinfo is not None:
            exc = _unwrap_group(call.excinfo.value)
            if isinstance(exc, StudentTimeout) and exc.wall:
                self._wall_timeouts.add(item.nodeid)
        result = self._pending.get(item.nodeid)
        if result is None:
            result = self._new_result(item)
            self._pending[item.nodeid] = result
        result.duration += call.duration
        if report.failed and item.nodeid not in self._explained:
            self._explained.add(item.nodeid)
            refused = call.excinfo is not None and isinstance(call.excinfo.value, SubmissionRefused)
            result.outcome = "failed" if call.when == "call" or refused else "error"
            self._explain(result, call, item)
        elif report.skipped and call.when in ("setup", "call"):
            result.outcome = "skipped"
            result.message = _skip_reason(report)
        elif call.when == "call" and report.passed and item.nodeid not in self._explained:
            result.outcome = "passed"
        if call.when == "teardown":
            result.timings = dict(item.stash.get(_TIMINGS, {}))
            from grader.scorecard.artefacts import take_pending

            result.artefacts = take_pending(item.config)  # curves, images the test attached
            if self._student is not None and result.outcome != "passed" and "student" in item.fixturenames:
                out = self._student.output(since_mark=True)
                result.output = out or None
            finished = self._pending.pop(item.nodeid)
            self.results.append(finished)
            if self.progress is not None:
                self.progress.finished(item.nodeid, finished.part, finished.passed, finished.max_points)
        return report

    # --- helpers ------------------------------------------------------------------------
    def _check_per(self, item: pytest.Item, mark: pytest.Mark, reported: set[str]) -> None:
        """A parametrized test must say how its points count: `per="case"` or `per="test"`."""
        per, function = mark.kwargs.get("per"), _function_of(item)
        if function in reported:
            return
        if per is not None and per not in PER_CHOICES:
            reported.add(function)
            self.config_errors.append(f'{function}: @points(..., per={per!r}): use per="case" or per="test"')
        elif per is None and getattr(item, "callspec", None) is not None:
            reported.add(function)
            n, k = float(mark.args[0]), self.cases.get(function, 1)
            self.config_errors.append(
                f"{function}: is parametrized ({k} cases), so its @points must say how its {n:g} points "
                f'count: per="case" ({n:g} each) or per="test" ({n:g} split across the cases)'
            )

    def _new_result(self, item: pytest.Item) -> TestResult:
        mark = item.get_closest_marker(POINTS_MARK)
        assert mark is not None  # checked at collection
        func = getattr(item, "function", None)
        doc = inspect.getdoc(func) if func is not None else None
        hidden = _is_under(Path(str(item.path)), self.assignment.hidden_tests.resolve())
        return TestResult(
            nodeid=item.nodeid,
            name=item.name,
            part=str(mark.kwargs["part"]),
            max_points=_case_points(mark, self.cases.get(_function_of(item), 1)),
            outcome="failed",
            visibility="hidden" if hidden else "public",
            description=(doc or "").strip().split("\n\n")[0],
        )

    def _explain(self, result: TestResult, call: pytest.CallInfo[None], item: pytest.Item) -> None:
        if call.excinfo is None:
            result.message = "failed"
            return
        exc = call.excinfo.value
        exc = _unwrap_group(exc)
        notes = [n for n in getattr(exc, "__notes__", []) if isinstance(n, str)]
        example = [n for n in notes if n.startswith(("Falsifying", "Failing test case", "Failing explicit example"))]
        if example and _input_matters(exc):
            result.falsifying_example = _clean_example("\n".join(example), item)
        if isinstance(exc, StudentFailure) and exc.import_failure:
            result.message = str(exc)
            result.traceback = getattr(exc, "traceback", None) or None
        elif isinstance(exc, StudentError) and exc.exc_type == "NotImplementedError":
            todo = exc.exc_message.removesuffix(": TODO").strip() or exc.what
            result.message = f"TODO not done yet: {todo} (it raised NotImplementedError, called as `{exc.what}`)"
        elif isinstance(exc, StudentError):
            result.message = str(exc)
            result.traceback = exc.traceback or None
        elif isinstance(exc, StudentFailure):
            result.message = str(exc) or "assertion failed"
        elif isinstance(exc, AssertionError):
            result.message = plain_assertion(str(exc))
        elif isinstance(exc, MissingModule):
            result.message = str(exc)
        elif isinstance(exc, TypeError) and "handle stands for" in str(exc):
            result.message = f"expected data (numbers, arrays, tensors) but got an object from your code: {exc}"
        else:
            result.message = f"{type(exc).__name__}: {exc}"
        if call.when != "call" and not isinstance(exc, SubmissionRefused):
            result.message = f"({call.when}) {result.message}"
        result.bound_texts()  # student values can make any of these huge


MAX_RETRIES = 3  # tests of one grading that may run again after a wall-clock time-out


class PartScores:
    """(earned, available) points per part over the finished tests, computed when read."""

    def __init__(self, plugin: GradingPlugin) -> None:
        self._plugin = plugin

    def __getitem__(self, part: str) -> tuple[float, float]:
        earned = available = 0.0
        for r in self._plugin.results:
            if r.part == part:
                earned += r.max_points if r.passed else 0.0
                available += r.max_points
        return earned, available

    def lost(self, part: str) -> bool:
        """True when a finished test of `part` failed."""
        earned, available = self[part]
        return earned < available


# Exceptions whose cause is no input of the test: the whole module, or the function, is not there.
_NO_INPUT_TYPES = frozenset(
    {"NotImplementedError", "SyntaxError", "IndentationError", "TabError", "ImportError", "ModuleNotFoundError"}
)
BARE_ASSERTION = "a check in this test did not hold (its description says what it checks)"


def _input_matters(exc: BaseException) -> bool:
    """False when the failure has nothing to do with the test's input (so no "smallest failing
    input" is shown): a TODO left, a missing module, a module that failed to import, a
    refused submission."""
    if isinstance(exc, SubmissionRefused | MissingModule):
        return False
    if isinstance(exc, StudentFailure) and exc.import_failure:
        return False
    return not (isinstance(exc, StudentError) and exc.exc_type in _NO_INPUT_TYPES)


def plain_assertion(message: str) -> str:
    """An AssertionError's message without pytest's introspection (`assert False`, `+  where`).

    `assert ok, "the loss did not fall"` fails with "the loss did not fall\nassert False": the
    message is kept and the rest dropped. A bare `assert x == y` (no message of its own) becomes
    `BARE_ASSERTION`, a plain sentence: pytest's text shows the test's internals, not the student's.
    """
    lines = message.splitlines()
    for i, line in enumerate(lines):
        stripped = line.removeprefix("AssertionError: ")
        if stripped == "assert" or stripped.startswith("assert "):
            lines = lines[:i]
            break
    text = "\n".join(lines).rstrip()
    return text or BARE_ASSERTION


def _is_training_check(item: pytest.Item) -> bool:
    """Whether `item` uses a fixture made by a training check (grader.checks.training)."""
    manager = item.session._fixturemanager
    for name in getattr(item, "fixturenames", ()):
        for fixturedef in manager.getfixturedefs(name, item) or ():
            if getattr(fixturedef.func, TRAINING_CHECK_ATTR, False):
                return True
    return False


class _AssignmentModule(pytest.Module):
    """A test file imported by its name in the assignment's package (not by pytest's rules)."""

    def __init__(self, *args: Any, module_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.module_name = module_name

    def _getobj(self) -> Any:
        try:
            mod = importlib.import_module(self.module_name)
        except SyntaxError as exc:
            raise self.CollectError(f"{self.path}:{exc.lineno}: {exc.msg}") from exc
        except ImportError as exc:
            raise self.CollectError(f"ImportError while importing test module {self.path}: {exc}") from exc
        except pytest.skip.Exception as exc:
            raise self.CollectError(f"{self.path}: pytest.skip at module level is not supported here") from exc
        self.config.pluginmanager.consider_module(mod)
        return mod


def _part_of(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker(POINTS_MARK)
    return None if mark is None else mark.kwargs.get("part")


def _function_of(item: pytest.Item) -> str:
    """The test function an item is a case of: its node id without the `[case id]`."""
    parent = item.parent.nodeid if item.parent is not None else ""
    return f"{parent}::{getattr(item, 'originalname', item.name)}"


def _case_points(mark: pytest.Mark, cases: int) -> float:
    """The points of one item: `n`, or with `per="test"` its share of `n` over `cases`."""
    n = float(mark.args[0])
    return n / max(cases, 1) if mark.kwargs.get("per") == "test" else n


def _clean_example(text: str, item: pytest.Item) -> str:
    """Hypothesis's failing-example note without the fixture arguments."""
    fixtures = tuple(f"{name}=" for name in getattr(item, "fixturenames", ()))
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith(fixtures)]
    if lines and lines[0].startswith(("Failing test case: ", "Falsifying example: ", "Failing explicit example: ")):
        lines[0] = lines[0].split(": ", 1)[1]
    return "\n".join(ln.replace("  # or any other generated value", "") for ln in lines)


def _unwrap_group(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return "skipped"


def _is_under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


_TIMINGS = pytest.StashKey[dict[str, float]]()
