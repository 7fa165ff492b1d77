"""The zygote: fast children that never inherit a computation, CUDA or a secret."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time

import numpy as np
import pytest

from grader.sandbox import DEFAULT_IMPORTS
from grader.sandbox.host import zygote
from grader.sandbox.host.client import Sandbox, StudentCrash, Submission
from grader.sandbox.host.launcher import zygote_env

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the zygote is Linux-only")


@pytest.fixture(scope="module")
def z():
    started = zygote.Zygote.start(zygote_env(), listen=True)
    yield started
    started.close()


def test_the_zygote_never_computes_nor_touches_cuda(z):
    info = z.info()
    assert info["threads"] == 1, "a thread pool in the zygote would hang its children"
    assert info["cuda_initialized"] is False
    assert info["dynamo_imported"] and info["torchvision_imported"]


@pytest.fixture
def submission(tmp_path):
    (tmp_path / "mod.py").write_text(
        textwrap.dedent(
            """
            import os, signal, sys

            def where():
                return {"torch": "torch" in sys.modules, "pid": os.getpid()}

            def leave(code):
                os._exit(code)

            def segv():
                os.kill(os.getpid(), signal.SIGSEGV)
            """
        )
    )
    return tmp_path


def test_a_sandbox_starts_children_from_a_shared_zygote(z, submission, monkeypatch):
    monkeypatch.setenv("GRADER_ZYGOTE_SOCKET", z.address)
    monkeypatch.setattr(zygote, "_shared", {})
    with Sandbox(submission, call_seconds=10) as sb:
        sb.start()
        assert sb.layers[0].name == "zygote" and sb.layers[0].active, sb.layers[0]
        t0 = time.perf_counter()
        sb.start()
        assert time.perf_counter() - t0 < 2.0, "a restart from the zygote must not import torch again"
        assert Submission(sb).mod.where()["torch"]


def test_exit_codes_and_signals_come_through(z, submission, monkeypatch):
    monkeypatch.setenv("GRADER_ZYGOTE_SOCKET", z.address)
    monkeypatch.setattr(zygote, "_shared", {})
    with Sandbox(submission, call_seconds=10) as sb:
        student = Submission(sb)
        with pytest.raises(StudentCrash, match="exit code 5"):
            student.mod.leave(5)
        sb.set_deadline(None)
        with pytest.raises(StudentCrash, match="SIGSEGV"):
            student.mod.segv()


def test_a_dead_zygote_is_replaced(submission, monkeypatch):
    monkeypatch.delenv("GRADER_ZYGOTE_SOCKET", raising=False)
    monkeypatch.setattr(zygote, "_shared", {})
    with Sandbox(submission, call_seconds=10) as sb:
        sb.start()
        first = zygote._shared[DEFAULT_IMPORTS]
        assert first.pid is not None
        os.kill(first.pid, signal.SIGKILL)
        first.proc.wait(timeout=10)
        sb.start()
        assert sb.layers[0].active, sb.layers[0]
        assert zygote._shared[DEFAULT_IMPORTS] is not first
        assert Submission(sb).mod.where()["torch"]
    zygote._close_shared()


def test_without_a_zygote_a_fresh_interpreter_is_used(submission, monkeypatch):
    monkeypatch.setenv("GRADER_ZYGOTE", "0")
    with Sandbox(submission, call_seconds=30) as sb:
        sb.start()
        assert not sb.layers[0].active and "GRADER_ZYGOTE=0" in sb.layers[0].detail
        assert Submission(sb).mod.where()["torch"]


NUMPY_ONLY = ("numpy",)


def test_a_numpy_zygote_never_imports_torch():
    z = zygote.Zygote.start(zygote_env(), imports=NUMPY_ONLY)
    try:
        info = z.info()
        assert info["threads"] == 1
        assert not info["torch_imported"] and not info["torchvision_imported"]
        assert "numpy" in info["modules"] and "torch" not in info["modules"]
    finally:
        z.close()


@pytest.mark.parametrize("use_zygote", [True, False], ids=["zygote", "fresh interpreter"])
def test_a_numpy_child_has_no_torch_until_the_harness_needs_it(submission, monkeypatch, use_zygote):
    monkeypatch.delenv("GRADER_ZYGOTE_SOCKET", raising=False)
    monkeypatch.setattr(zygote, "_shared", {})
    if not use_zygote:
        monkeypatch.setenv("GRADER_ZYGOTE", "0")
    (submission / "arrays.py").write_text("import numpy as np\n\ndef double(a):\n    return np.asarray(a) * 2\n")
    try:
        with Sandbox(submission, call_seconds=30, imports=NUMPY_ONLY) as sb:
            sb.start()
            assert sb.layers[0].active is use_zygote, sb.layers[0]
            student = Submission(sb)
            assert not student.mod.where()["torch"]
            out = student.arrays.double(np.arange(3))  # arrays cross the wire without torch
            assert isinstance(out, np.ndarray) and out.tolist() == [0, 2, 4]
            assert not student.mod.where()["torch"]
            student.harness.tiny_model()  # the harness's helpers import torch on first use
            assert student.mod.where()["torch"]
            if use_zygote:
                assert zygote._shared[NUMPY_ONLY].info()["torch_imported"] is False
    finally:
        zygote._close_shared()
