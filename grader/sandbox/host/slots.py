"""Dedicated unprivileged uids for sandboxed children, one per concurrent slot (root only).

A slot is a uid in a fixed range (`GRADER_SLOT_UID_BASE`, default 62000; 64 slots), held by
a lock file for as long as one child uses it, across every grading process on the machine. The
child drops to the slot's uid, so the grader's own files (mode 0700 temporary folders, the
data cache under a private home) are out of reach and every process the child leaves behind
can be found by uid and killed. A slot only helps if that uid can run the interpreter:
`unusable_reason()` checks that the paths the child must read are open to other users.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import stat
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SLOTS = 64
LOCK_DIR = Path("/run/grader-slots") if Path("/run").is_dir() else Path("/tmp/grader-slots")


def uid_base() -> int:
    """The first slot uid."""
    return int(os.environ.get("GRADER_SLOT_UID_BASE", "62000"))


@dataclass
class Slot:
    """A held slot: its uid/gid and the lock that holds it."""

    index: int
    uid: int
    gid: int
    _fd: int = -1

    def release(self) -> None:
        """Kill whatever still runs as the slot's uid and give the slot back."""
        kill_uid(self.uid)
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1


def _other_can(path: str, need: int) -> str | None:
    """None when users other than the owner (and not in its group) may use `path`."""
    p = Path(path)
    try:
        real = p.resolve(strict=True)
    except OSError:
        return None  # a path that does not exist is not needed
    parts = [real, *real.parents]
    for i, q in enumerate(parts):
        try:
            mode = q.stat().st_mode
        except OSError as exc:
            return f"{q}: {exc.strerror}"
        want = stat.S_IXOTH if i > 0 or stat.S_ISDIR(mode) else 0
        if i == 0:
            want |= need
        if mode & want != want:
            return f"{q} is mode {stat.S_IMODE(mode):04o}, closed to other users"
    return None


def unusable_reason(paths: Iterable[str]) -> str | None:
    """Why a slot uid could not run the child (None when it could): root only, and every path
    the child reads (interpreter, libraries, data) must be open to other users."""
    if os.geteuid() != 0:
        return "not running as root (the child keeps the grader's uid)"
    if sys.platform != "linux":
        return "slot uids are Linux-only"
    exe = os.path.realpath(sys.executable)
    reason = _other_can(exe, stat.S_IROTH | stat.S_IXOTH)
    if reason:
        return f"uid {uid_base()} cannot run the interpreter {exe}: {reason}"
    for path in paths:
        reason = _other_can(path, stat.S_IROTH)
        if reason:
            return f"uid {uid_base()} cannot read {path}: {reason}"
    return None


def acquire(timeout: float = 30.0) -> Slot:
    """Hold a free slot (waits while all are taken); kills leftovers of its uid first."""
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        for i in range(SLOTS):
            fd = os.open(LOCK_DIR / f"slot{i}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            uid = uid_base() + i
            kill_uid(uid)
            return Slot(i, uid, uid, fd)
        if time.monotonic() > deadline:
            raise RuntimeError(f"all {SLOTS} sandbox slots are taken")
        time.sleep(0.1)


def chown_tree(root: Path, uid: int, gid: int) -> None:
    """Give `root` and everything under it to the slot's uid."""
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            with contextlib.suppress(OSError):
                os.lchown(os.path.join(dirpath, name), uid, gid)


def pids_of_uid(uid: int) -> list[int]:
    """Live (not zombie) processes whose real uid is `uid`."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
                found.append(int(entry.name))
        except (OSError, ValueError, KeyError):
            continue
    return found


def kill_uid(uid: int, timeout: float = 5.0) -> bool:
    """SIGKILL every process of `uid` until none is left; True when none is."""
    if uid == 0:
        raise ValueError("refusing to kill every root process")
    deadline = time.monotonic() + timeout
    while True:
        pids = pids_of_uid(uid)
        if not pids:
            return True
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
