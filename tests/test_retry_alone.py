"""A test that fails on the wall clock runs once more, alone on the host; CPU time-outs count.

Also: each test starts with its own deadline and a clean time-out state, even in fixtures of
wider scope that are set up before it (a training check's module-scoped run).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from grader.runner.hostlock import HostGate
from grader.runner.session import grade_in_subprocess

ASSIGNMENT = """\
name: flaky
title: Flaky
version: "1"
files: [m.py]
parts:
  - {name: basics, points: 3, description: x}
  - {name: training, points: 1, description: y}
tests: {public: tests/public, hidden: tests/hidden}
limits: {call_seconds: 1, test_seconds: 30, submission_seconds: 120, memory_mb: 1024}
"""

PUBLIC = '''
import pytest

from grader.sandbox.host.client import StudentTimeout
from grader.testing import points

RUNS = {"wall": 0, "cpu": 0}


def _timeout(wall):
    t = StudentTimeout("your code did not return within 3 s (the host was busy)")
    t.wall = wall
    return t


@points(1, part="basics")
def test_busy_host_once(student):
    """Fails on the wall clock the first time only: as a busy host would make it."""
    RUNS["wall"] += 1
    assert student.m.add(1, 2) == 3
    if RUNS["wall"] == 1:
        raise _timeout(True)


@points(1, part="basics")
def test_cpu_timeout_counts(student):
    """A CPU time-out is the code's own work: it is not run again."""
    RUNS["cpu"] += 1
    raise _timeout(False)


@points(1, part="basics")
def test_hangs(student):
    student.m.spin()


@pytest.fixture(scope="module")
def wide(student):
    """Set up before the function-scoped fixtures of the test that needs it."""
    return student.m.add(2, 2)


@points(1, part="training")
def test_wide_fixture_starts_clean(wide):
    assert wide == 4
'''

MODULE = "def add(a, b):\n    return a + b\n\n\ndef spin():\n    while True:\n        pass\n"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("flaky")
    a = root / "assignments" / "flaky"
    (a / "tests" / "public").mkdir(parents=True)
    (a / "tests" / "hidden").mkdir()
    (a / "assignment.yaml").write_text(ASSIGNMENT)
    (a / "tests" / "public" / "test_flaky.py").write_text(textwrap.dedent(PUBLIC))
    ref = root / "reference" / "flaky"
    ref.mkdir(parents=True)
    (ref / "m.py").write_text(MODULE)
    return grade_in_subprocess(a / "assignment.yaml", ref, timeout=300)


def test_a_wall_clock_timeout_is_retried_alone_and_passes(graded):
    t = graded.test("test_busy_host_once")
    assert t.passed, t.message
    retried = {r["test"]: r for r in graded.metadata["retried"]}
    assert retried["tests/public/test_flaky.py::test_busy_host_once"]["alone"] == "yes"
    assert "host was busy" in retried["tests/public/test_flaky.py::test_busy_host_once"]["first_failure"]


def test_a_cpu_timeout_is_not_retried(graded):
    assert not graded.test("test_cpu_timeout_counts").passed
    assert all("cpu_timeout" not in r["test"] for r in graded.metadata["retried"])
    assert "of CPU time" in (graded.test("test_hangs").message or "")


def test_a_wider_fixture_does_not_inherit_the_previous_tests_timeout(graded):
    """test_hangs times out just before; the module fixture of the next test must still run."""
    t = graded.test("test_wide_fixture_starts_clean")
    assert t.passed, t.message


HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_SH)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_the_gate_waits_for_other_gradings_and_holds_new_ones_back(tmp_path):
    gate = HostGate(tmp_path)
    assert gate.usable
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "run.lock"), "1.5"], stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
    t0 = time.monotonic()
    with gate.exclusive(wait=0.3) as alone:
        assert not alone  # another grading was still in a test
    with gate.exclusive(wait=10) as alone:
        assert alone
        assert time.monotonic() - t0 >= 1.0
        # While the retry runs, a new test of another grading waits at the gate.
        other = HostGate(tmp_path)
        waiter = subprocess.Popen(
            [sys.executable, "-c", "import fcntl,os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); fcntl.flock(fd, fcntl.LOCK_EX|fcntl.LOCK_NB)",
             str(tmp_path / "gate.lock")],
            stderr=subprocess.PIPE,
        )  # fmt: skip
        assert waiter.wait(10) != 0
        other.close()
    holder.wait(10)
    gate.close()
