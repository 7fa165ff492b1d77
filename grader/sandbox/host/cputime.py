"""CPU time of the child's whole process tree, read by the grading process.

Time limits that measure the student's own work count CPU seconds, not wall seconds: on a busy
host a correct submission gets less of the processor per second, but needs the same CPU time.
The figures come from the kernel (the child's control group where there is one, else
`/proc/PID/stat` of every process in its tree), never from the child itself.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from grader.sandbox.host.memwatch import tree

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float:
    """User + system time of `pid` (all its threads) and of its reaped children, in seconds."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # Fields after the command name, which may hold spaces and parentheses.
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    except (IndexError, ValueError):
        return 0.0
    return (utime + stime + cutime + cstime) / _TICK


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of `root` and every process below it."""
    return sum(process_cpu_seconds(pid) for pid in tree(root))


def cgroup_cpu_seconds(folder: Path) -> float | None:
    """CPU seconds charged to a control group (v2 `cpu.stat`, v1 `cpuacct.usage`), or None."""
    with contextlib.suppress(OSError, ValueError):
        for line in (folder / "cpu.stat").read_text().splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) / 1e6
    with contextlib.suppress(OSError, ValueError):
        return int((folder / "cpuacct.usage").read_text()) / 1e9
    return None
