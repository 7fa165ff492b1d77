"""Memory watch: the grading process measures the child's tree where no cgroup limits it.

Without root there is no control group, and RLIMIT_AS has to leave gigabytes of room for what
importing torch reserves, so a memory bomb would fill the machine's memory long before the
address-space limit stops it. The grading process therefore reads the private memory (pages
written by the process itself, not shared with the zygote) of every process in the child's
tree, a few times a second while it waits for an answer, and stops the child once the sum
passes the assignment's `memory_mb`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_MAX_PROCESSES = 512


def children(pid: int) -> list[int]:
    """The direct children of `pid` (all its threads')."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        with contextlib.suppress(OSError, ValueError):
            found.extend(int(x) for x in Path(f"/proc/{pid}/task/{tid}/children").read_text().split())
    return found


def tree(root: int) -> list[int]:
    """`root` and its descendants (at most a few hundred)."""
    seen: list[int] = []
    todo = [root]
    while todo and len(seen) < _MAX_PROCESSES:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        todo.extend(children(pid))
    return seen


def private_bytes(pid: int) -> int:
    """Memory that `pid` alone wrote (private dirty pages, and swap), in bytes.

    Clean pages (library code read from disk) and pages still shared with the zygote do not
    count: they cost the machine nothing per child."""
    total = 0
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(("Private_Dirty:", "Swap:")):
            with contextlib.suppress(ValueError, IndexError):
                total += int(line.split()[1]) * 1024
    return total


def tree_private_bytes(root: int) -> int:
    """The private memory of `root`'s whole tree, in bytes."""
    return sum(private_bytes(pid) for pid in tree(root))


def available() -> str | None:
    """None when the watch can measure processes here, else why not."""
    if not Path(f"/proc/{os.getpid()}/smaps_rollup").exists():
        return "no /proc/PID/smaps_rollup on this system"
    return None
