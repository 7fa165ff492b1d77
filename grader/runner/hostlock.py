"""A host-wide gate between grading processes, so that a retried test can run alone.

Every grading process on the machine holds the *run* lock shared while one of its tests runs.
A test that failed on the wall clock (the host was busy, not the student's code slow) is run
once more holding it exclusively: other gradings finish the test they are in, then wait at
the *gate* until the retry is over. The gate is what keeps a stream of shared holders from
starving the exclusive one (flock alone favours no one).

The locks are files under the grader's cache; where they cannot be made, both context
managers do nothing, and grading goes on as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

EXCLUSIVE_WAIT = 180.0  # seconds a retry waits for the others' tests to end, then runs anyway


class HostGate:
    """Shared (normal tests) and exclusive (a retry) holds on the host's grading lock."""

    def __init__(self, folder: Path) -> None:
        self._gate = self._run = -1
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            self._gate = os.open(folder / "gate.lock", os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._run = os.open(folder / "run.lock", os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)

    @property
    def usable(self) -> bool:
        """True when both lock files could be opened."""
        return self._gate >= 0 and self._run >= 0

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        """Hold the run lock shared (after passing the gate) for the duration of one test."""
        if not self.usable:
            yield
            return
        fcntl.flock(self._gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._run, fcntl.LOCK_SH)
        finally:
            fcntl.flock(self._gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self._run, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def exclusive(self, wait: float = EXCLUSIVE_WAIT) -> Iterator[bool]:
        """Close the gate and wait (at most `wait` s) until no other grading is in a test.

        Yields whether the run lock was had alone.
        """
        if not self.usable:
            yield False
            return
        fcntl.flock(self._gate, fcntl.LOCK_EX)
        alone = False
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(self._run, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    alone = True
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(0.05)
            yield alone
        finally:
            if alone:
                fcntl.flock(self._run, fcntl.LOCK_UN)
            fcntl.flock(self._gate, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock files (releasing anything still held)."""
        for fd in (self._gate, self._run):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._gate = self._run = -1
