"""`grader check --watch`: a change to the submission checks it again, in the same process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from grader.watch import changed, snapshot, wait_for, watch

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"


def _sigint_default() -> None:
    # A shell without job control starts background jobs with SIGINT ignored, and an ignored
    # signal stays ignored across exec: Python then installs no KeyboardInterrupt handler.
    # Ctrl-C in a terminal is what the test stands for, so the child gets the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_watch(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    script = Path(sys.executable).with_name("grader")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "grader"]
    return subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        preexec_fn=_sigint_default,
    )  # fmt: skip


def _interrupt(proc: subprocess.Popen[str]) -> int:
    """Ctrl-C, as a student stops `--watch`; the exit code (the process is killed if it hangs)."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def test_a_snapshot_sees_added_changed_and_removed_files_but_not_caches_or_links(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "b.py").write_text("y = 2\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"\0")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.py"
    outside.write_text("z = 3\n")
    (tmp_path / "link.py").symlink_to(outside)
    before = snapshot(tmp_path)
    assert sorted(os.path.relpath(p, tmp_path) for p in before) == ["a.py", os.path.join("pkg", "b.py")]
    (tmp_path / "a.py").write_text("x = 10\n")
    (tmp_path / "pkg" / "b.py").unlink()
    (tmp_path / "c.py").write_text("\n")
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"\0\0")
    assert [os.path.relpath(p, tmp_path) for p in changed(before, snapshot(tmp_path))] == [
        "a.py", "c.py", os.path.join("pkg", "b.py"),
    ]  # fmt: skip


def test_watch_checks_again_after_a_change_and_stops_when_asked(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    calls: list[list[str]] = []
    stop = threading.Event()
    thread = threading.Thread(target=lambda: watch(calls.append, tmp_path, interval=0.05, quiet=0.05, stop=stop))
    thread.start()
    try:
        assert wait_for(lambda: len(calls) == 1, 10)
        time.sleep(0.1)
        (tmp_path / "a.py").write_text("x = 2  # edited\n")
        assert wait_for(lambda: len(calls) == 2, 10)
    finally:
        stop.set()
        thread.join(10)
    assert calls == [[], ["a.py"]]


def test_check_watch_rechecks_an_edited_submission(tmp_path: Path) -> None:
    sub = tmp_path / "toy"
    shutil.copytree(TOY_ROOT / "student_template" / "toy", sub)
    proc = _start_watch(["--root", str(TOY_ROOT), "check", "toy", str(sub), "--watch"])
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        assert wait_for(lambda: sum("watching" in ln for ln in lines) == 1, 120), lines
        assert any("0 / 5" in ln or "0 of" in ln for ln in lines), lines
        (sub / "toy.py").write_text((TOY_ROOT / "reference" / "toy" / "toy.py").read_text())
        assert wait_for(lambda: sum("watching" in ln for ln in lines) == 2, 120), lines
        assert any("changed: toy.py" in ln for ln in lines), lines
        assert any("5 of 14 points" in ln for ln in lines), lines
    finally:
        assert _interrupt(proc) == 0


def test_check_watch_reruns_only_the_part_whose_file_changed(tmp_path: Path) -> None:
    from test_watch_parts import (  # tests/ is on sys.path (rootdir-less test files)
        VERSIONS,
        make_project,
    )

    sub = make_project(tmp_path)
    proc = _start_watch(["--root", str(tmp_path), "check", "mini", str(sub), "--watch"], {**os.environ, "COLUMNS": "200"})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        assert wait_for(lambda: sum("watching" in ln for ln in lines) == 1, 120), lines
        first = len(lines)
        time.sleep(0.1)
        (sub / "alpha.py").write_text(VERSIONS["alpha.py"][1])
        assert wait_for(lambda: sum("watching" in ln for ln in lines) == 2, 120), lines
        second = lines[first:]
        assert any("reused: beta, gamma (their files did not change)" in ln for ln in second), second
        assert any("checked again: alpha" in ln for ln in second), second
        assert any("unchanged since the last check" in ln for ln in second), second
        assert any("Total" in ln and "4 / 6" in ln for ln in second), second
    finally:
        assert _interrupt(proc) == 0
