"""`grader check --watch`: check again each time the submission's files change, warm.

The checking process stays up between checks, so the second check does not pay the
interpreter, the imports (torch…) or the zygote's start again: only the grading itself. The
folder is polled (no inotify dependency): a change is a file added, removed, or with another
size or modification time, and a check starts once the folder has been quiet for a moment
(an editor's save can write several files).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

SKIP = {"__pycache__", ".git", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis", ".mypy_cache"}
MAX_ENTRIES = 10_000

Snapshot = dict[str, tuple[int, int]]


def snapshot(folder: Path) -> Snapshot:
    """(size, mtime) of every regular file under `folder` (links not followed, caches skipped)."""
    found: Snapshot = {}
    stack = [Path(folder)]
    while stack and len(found) < MAX_ENTRIES:
        here = stack.pop()
        try:
            entries = list(os.scandir(here))
        except OSError:
            continue
        for entry in entries:
            if entry.name in SKIP or entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    found[entry.path] = (st.st_size, st.st_mtime_ns)
            except OSError:
                continue
    return found


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """The paths added, removed or modified between two snapshots, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def watch(
    check: Callable[[list[str]], None],
    folder: Path,
    *,
    interval: float = 0.5,
    quiet: float = 0.3,
    stop: threading.Event | None = None,
) -> int:
    """Run `check([])` now and `check(changed_files)` after every change; return the number of checks.

    Runs until `stop` is set (or KeyboardInterrupt, which ends it quietly).
    """
    stop = stop or threading.Event()
    runs = 0
    try:
        seen = snapshot(folder)
        check([])
        runs += 1
        while not stop.is_set():
            if stop.wait(interval):
                break
            now = snapshot(folder)
            if now == seen:
                continue
            while not stop.wait(quiet):  # let a save of several files finish
                later = snapshot(folder)
                if later == now:
                    break
                now = later
            if stop.is_set():
                break
            files = changed(seen, now)
            seen = now
            check([os.path.relpath(p, folder) for p in files])
            runs += 1
    except KeyboardInterrupt:
        pass
    return runs


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass (for callers and tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
