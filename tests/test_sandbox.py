"""The sandbox client: handles, by-value results, student errors, time-outs and crashes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from grader.sandbox.host.client import (
    Handle,
    NotPlainData,
    Sandbox,
    StaleHandle,
    StudentCrash,
    StudentError,
    StudentExit,
    StudentTimeout,
    Submission,
)

MOD = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    import torch

    def add(a, b):
        return a + b

    class Box:
        def __init__(self, x):
            self.x = x
        def get(self):
            return self.x
        def __len__(self):
            return 3
        def __iter__(self):
            return iter([1, 2, 3])

    def helper():
        raise ValueError("bad value")

    def boom():
        helper()

    def die(code):
        os._exit(code)

    def hang():
        time.sleep(60)

    def spin():
        while True:
            pass

    def work(cpu_seconds):
        end = time.thread_time() + cpu_seconds
        while time.thread_time() < end:
            pass
        return cpu_seconds

    def big(n):
        return b"x" * n

    def leave():
        sys.exit(4)

    def liar():
        class Liar:
            def __eq__(self, other):
                return True
            def __bool__(self):
                return True
            def __hash__(self):
                return 0
        return Liar()

    def data():
        return {"t": torch.ones(2, dtype=torch.bfloat16), "a": np.arange(3), (1, 2): [1.5, None]}

    def shout():
        print("hello from the student")
        return 1

    def random_draws():
        return [float(torch.rand(1)), float(np.random.rand())]

    HOARD = []

    def hog():
        HOARD.append(bytearray(16 << 20))
        raise MemoryError("cannot allocate")

    def held():
        return len(HOARD)
    """
)


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    root = tmp_path_factory.mktemp("sub")
    (root / "mod.py").write_text(MOD)
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "inner.py").write_text("VALUE = 42\n")
    (root / "broken.py").write_text("import nonexistent_module_xyz\n")
    with Sandbox(root, call_seconds=3) as sb:
        yield sb


@pytest.fixture
def student(box):
    box.set_deadline(None)
    return Submission(box)


def test_values_come_back_by_value(student):
    assert student.mod.add(2, 3) == 5
    got = student.mod.data()
    assert got["t"].dtype == torch.bfloat16 and torch.equal(got["t"], torch.ones(2, dtype=torch.bfloat16))
    np.testing.assert_array_equal(got["a"], np.arange(3))
    assert got[(1, 2)] == [1.5, None]


def test_objects_are_handles_that_can_be_used(student):
    b = student.mod.Box(np.arange(4))
    assert isinstance(b, Handle)
    np.testing.assert_array_equal(b.get(), np.arange(4))
    b.x = 7
    assert b.x == 7
    assert len(b) == 3
    assert list(b) == [1, 2, 3]
    assert student.mod.add(b.get(), 1) == 8
    assert student.pkg.inner.VALUE == 42


def test_handles_refuse_verdicts(student):
    liar = student.mod.liar()
    for attempt in (lambda: liar == 1, lambda: liar != 1, lambda: bool(liar), lambda: hash(liar), lambda: liar < 1):
        with pytest.raises(TypeError, match="cannot be"):
            attempt()
    with pytest.raises(TypeError):
        np.asarray(liar)
    with pytest.raises(NotPlainData):
        student.value(liar)


def test_student_exception_carries_student_traceback(student):
    with pytest.raises(StudentError) as info:
        student.mod.boom()
    err = info.value
    assert err.exc_type == "ValueError" and "bad value" in str(err)
    assert 'File "mod.py"' in err.traceback and "in helper" in err.traceback
    assert "grader" not in err.traceback  # harness frames removed


def test_sys_exit_is_reported_not_fatal(student):
    with pytest.raises(StudentExit, match=r"sys.exit\(4\)"):
        student.mod.leave()
    assert student.mod.add(1, 1) == 2


def test_import_error_is_reported_and_remembered(student):
    for _ in range(2):
        with pytest.raises(StudentError, match="nonexistent_module_xyz"):
            _ = student.broken.anything
    with pytest.raises(AttributeError, match="no module `missing`"):
        _ = student.missing


def test_output_is_captured(student, box):
    box.mark_output()
    student.mod.shout()
    time.sleep(0.1)
    assert "hello from the student" in student.output()


def test_seeding_makes_draws_repeatable(student, box):
    box.seed(123)
    first = student.mod.random_draws()
    box.seed(123)
    assert student.mod.random_draws() == first


def test_crash_fails_the_call_and_a_fresh_child_takes_over(student, box):
    b = student.mod.Box(1)
    restarts = box.restarts
    with pytest.raises(StudentCrash, match="exit code 5 during `mod.die"):
        student.mod.die(5)
    with pytest.raises(StudentCrash):  # same test: later calls fail at once
        student.mod.add(1, 1)
    box.set_deadline(None)  # a new test
    assert student.mod.add(1, 1) == 2
    assert box.restarts == restarts + 1
    with pytest.raises(StaleHandle):
        b.get()


def test_after_a_memory_error_a_fresh_child_frees_the_memory(student, box):
    restarts = box.restarts
    with pytest.raises(StudentError, match="MemoryError.*cannot allocate.*a fresh process runs the next tests"):
        student.mod.hog()
    box.set_deadline(None)
    assert student.mod.held() == 0
    assert box.restarts == restarts + 1


def test_timeout_fails_fast_and_recovers(student, box):
    t0 = time.monotonic()
    with pytest.raises(StudentTimeout, match="did not return within 3.0 s of CPU time") as info:
        student.mod.spin()
    assert time.monotonic() - t0 < 8
    assert info.value.wall is False
    box.set_deadline(None)
    with box.time_limit(1.0), pytest.raises(StudentTimeout, match="1.0 s of CPU time"):
        student.mod.spin()
    box.set_deadline(None)
    assert student.mod.add(2, 2) == 4


def test_a_call_that_uses_no_cpu_ends_on_the_wall_clock_backstop(student, box):
    t0 = time.monotonic()
    with box.time_limit(1.0), pytest.raises(StudentTimeout, match=r"within 3.0 s \(the limit for one call is 1.0 s of CPU time") as info:
        student.mod.hang()
    assert info.value.wall is True
    assert 2.9 < time.monotonic() - t0 < 6
    box.set_deadline(None)


def test_a_busy_host_does_not_time_out_a_call_within_its_cpu_limit(student, box):
    """Three processes spinning on two cores: the call needs 2 s of CPU and may use 3."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 30\nwhile time.time() < end: pass"])
        for _ in range(3)
    ]
    try:
        time.sleep(0.3)
        t0 = time.monotonic()
        assert student.mod.work(2.0) == 2.0
        wall = time.monotonic() - t0
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    # Under a wall-clock limit of 3 s this call would have failed whenever the host was this busy.
    print(f"2 s of CPU took {wall:.1f} s of wall time")


TRICKLE = """
import fcntl, os, stat, struct, time

def trickle():
    # Find the answer pipe, announce a 1 MiB header and send it one byte at a time.
    fds = [fd for fd in range(3, 256) if _write_pipe(fd)]
    for fd in fds:
        os.write(fd, struct.pack("<4sIQ", b"GRW1", 1 << 20, 0))
    while True:
        for fd in fds:
            os.write(fd, b" ")
        time.sleep(0.01)

def _write_pipe(fd):
    try:
        return stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
    except OSError:
        return False
"""


def test_a_child_trickling_an_answer_is_stopped_at_the_call_limit(tmp_path):
    """Bytes that keep arriving must not keep the grading process reading past the limit."""
    (tmp_path / "m.py").write_text(TRICKLE)
    with Sandbox(tmp_path, call_seconds=1, wall_factor=2) as sb:
        t0 = time.monotonic()
        with pytest.raises(StudentTimeout, match="did not return within"):
            Submission(sb).m.trickle()
        assert time.monotonic() - t0 < 5


def test_an_answer_larger_than_the_return_limit_is_refused_unread(tmp_path):
    (tmp_path / "m.py").write_text("def big(n):\n    return b'x' * n\n")
    with Sandbox(tmp_path, call_seconds=20, return_bytes=1 << 20) as sb:
        sub = Submission(sb)
        assert len(sub.m.big(1000)) == 1000
        with pytest.raises(StudentCrash, match=r"returned .* MiB, more than the 1 MiB that one answer may carry"):
            sub.m.big(300 << 20)
        sb.set_deadline(None)
        assert len(sub.m.big(10)) == 10


def test_one_tests_answers_are_bounded_in_all(tmp_path):
    """Tests multiply what comes back; a test's answers together are capped too."""
    (tmp_path / "m.py").write_text("import numpy as np\ndef big(n):\n    return np.zeros(n, dtype=np.uint8)\n")
    with Sandbox(tmp_path, call_seconds=20, return_bytes=1 << 20) as sb:
        sub = Submission(sb)
        sb.set_deadline(None)
        kept = [sub.m.big(1000 << 10) for _ in range(8)]  # 7.8 MiB of 8 in all
        with pytest.raises(StudentCrash, match="this test's answers carried .* more than the 8 MiB"):
            sub.m.big(1000 << 10)
        sb.set_deadline(None)  # a new test starts afresh
        assert len(sub.m.big(1000 << 10)) == 1000 << 10
        assert sum(map(len, kept)) == 8 * (1000 << 10)


def test_test_deadline_limits_calls(student, box):
    box.set_deadline(time.monotonic() + 1.0, "this test's time limit ran out")
    with pytest.raises(StudentTimeout, match="this test's time limit"):
        student.mod.hang()
    box.set_deadline(None)


def test_harness_builds_objects_in_the_child(student):
    h = student.harness
    model = h.tiny_model(seed=0)
    assert h.count_parameters(model) == 4 * 3 * 9 + 4 + 4 * 64 * 2 + 2
    x, y = next(iter(h.tiny_loader(n=8, batch_size=4)))
    assert tuple(x.shape) == (4, 3, 8, 8) and tuple(y.shape) == (4,)


def test_handles_do_not_cross_sandboxes(student, tmp_path):
    (tmp_path / "m.py").write_text("def f(x):\n    return 1\n")
    b = student.mod.Box(1)
    with Sandbox(tmp_path, call_seconds=3) as other, pytest.raises(TypeError, match="another process"):
        Submission(other).m.f(b)


SLOW_IMPORT = """
import time

_t = time.process_time()
while time.process_time() - _t < 1.5:  # module-level work: 1.5 s of CPU
    pass


def answer():
    return 42
"""


def test_importing_a_module_has_its_own_limit_not_the_calls(tmp_path):
    """Import time never counts against a call's limit (issue 10, item 4)."""
    (tmp_path / "slow.py").write_text(SLOW_IMPORT)
    with Sandbox(tmp_path, call_seconds=0.5) as sb:
        assert sb.import_seconds >= 60
        assert Submission(sb).slow.answer() == 42  # a 0.5 s call limit, a 1.5 s import


def test_an_import_that_never_ends_is_named_as_an_import(tmp_path):
    (tmp_path / "stuck.py").write_text("while True:\n    pass\n")
    with Sandbox(tmp_path, call_seconds=0.5) as sb:
        sb.import_seconds = 2.0
        with pytest.raises(StudentTimeout, match=r"did not return within .*in `import stuck \(module-level code\)`"):
            Submission(sb).stuck.anything()
