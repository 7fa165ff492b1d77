"""A control group per sandboxed child: memory and process limits, and a whole-tree kill.

The grading process (root) makes the group beside its own, in each hierarchy it can write
(cgroup v2, and v1's memory, pids and freezer controllers on hybrid machines), and the child
joins it before it forks or drops privileges. `CGroup.kill()` then ends every process that
ever descended from the child, whatever it did (`setsid`, double forks), and `remove()`
deletes the group. Without root, or where nothing is writable, `create()` returns None and
says why (`unavailable_reason`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

_counter = itertools.count()
_leftovers: list[Path] = []


@dataclass
class CGroup:
    """One child's group: a folder in each hierarchy."""

    name: str
    v2: Path | None = None
    v1: dict[str, Path] = field(default_factory=dict)
    limits: list[str] = field(default_factory=list)

    @property
    def procs_files(self) -> list[str]:
        """The cgroup.procs files the child writes its pid into."""
        dirs = ([self.v2] if self.v2 else []) + list(self.v1.values())
        return [str(d / "cgroup.procs") for d in dirs]

    def describe(self) -> str:
        """A one-line summary for the layer report."""
        kill = "cgroup.kill" if self.v2 else ("freezer" if "freezer" in self.v1 else "kill loop")
        return ", ".join([*self.limits, f"tree kill by {kill}"])

    def memory(self) -> tuple[int | None, int | None, int]:
        """(peak bytes, limit bytes, out-of-memory kills) so far; None where unknown."""
        peak = limit = None
        kills = 0
        files = []
        if self.v2 is not None:
            files.append((self.v2 / "memory.peak", self.v2 / "memory.max", self.v2 / "memory.events"))
        if "memory" in self.v1:
            d = self.v1["memory"]
            files.append((d / "memory.max_usage_in_bytes", d / "memory.limit_in_bytes", d / "memory.oom_control"))
        for peak_file, limit_file, events_file in files:
            with contextlib.suppress(OSError, ValueError):
                peak = int(peak_file.read_text())
            with contextlib.suppress(OSError, ValueError):
                limit = int(limit_file.read_text())
            with contextlib.suppress(OSError, ValueError):
                for line in events_file.read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        kills = max(kills, int(value))
            if peak is not None:
                break
        return peak, limit, kills

    def memory_note(self) -> str:
        """A clause for a time-out or crash message when memory was the likely cause, else ''."""
        peak, limit, kills = self.memory()
        if limit is None or limit >= 1 << 60:
            return ""
        if kills:
            return f"; the out-of-memory killer ended it: it used more than the memory limit of {limit >> 20} MiB"
        if peak is not None and peak >= 0.9 * limit:
            return f"; it was using {peak >> 20} MiB of memory, near the limit of {limit >> 20} MiB"
        return ""

    def cpu_seconds(self) -> float | None:
        """CPU seconds charged to the group so far (every process that ever ran in it), or None."""
        from grader.sandbox.host.cputime import cgroup_cpu_seconds

        for folder in [*([self.v2] if self.v2 else []), *(self.v1[k] for k in ("cpuacct", "cpu,cpuacct") if k in self.v1)]:
            seconds = cgroup_cpu_seconds(folder)
            if seconds is not None:
                return seconds
        return None

    def pids(self) -> set[int]:
        """The processes in the group now."""
        found: set[int] = set()
        for procs in self.procs_files:
            with contextlib.suppress(OSError, ValueError):
                found.update(int(x) for x in Path(procs).read_text().split())
        return found

    def kill(self, timeout: float = 5.0) -> bool:
        """SIGKILL everything in the group; True when it is empty within `timeout`."""
        deadline = time.monotonic() + timeout
        if self.v2 is not None:
            with contextlib.suppress(OSError):
                (self.v2 / "cgroup.kill").write_text("1")
        freezer = self.v1.get("freezer")
        if freezer is not None:
            with contextlib.suppress(OSError):
                (freezer / "freezer.state").write_text("FROZEN")
        while True:
            left = self.pids()
            if not left:
                break
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            if freezer is not None:
                with contextlib.suppress(OSError):
                    (freezer / "freezer.state").write_text("THAWED")
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def remove(self) -> None:
        """Delete the group's folders (kept for a later try when still busy)."""
        for d in [*self.v1.values(), *([self.v2] if self.v2 else [])]:
            try:
                d.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                _leftovers.append(d)


def _mounts() -> tuple[Path | None, dict[str, Path]]:
    v2: Path | None = None
    v1: dict[str, Path] = {}
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None, {}
    for line in lines:
        parts = line.split()
        if len(parts) < 4:
            continue
        where, kind, opts = Path(parts[1]), parts[2], parts[3].split(",")
        if kind == "cgroup2" and v2 is None:
            v2 = where
        elif kind == "cgroup":
            for ctrl in ("memory", "pids", "freezer"):
                if ctrl in opts and ctrl not in v1:
                    v1[ctrl] = where
    return v2, v1


def _own_paths() -> tuple[str | None, dict[str, str]]:
    """This process's cgroup path in v2 and in each v1 controller."""
    v2: str | None = None
    v1: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None, {}
    for line in lines:
        hid, ctrls, path = line.split(":", 2)
        if hid == "0" and ctrls == "":
            v2 = path
        for ctrl in ctrls.split(","):
            v1[ctrl] = path
    return v2, v1


def unavailable_reason() -> str | None:
    """None when per-child groups can be made here, else why not."""
    if os.geteuid() != 0:
        return "making control groups needs root here (no delegated cgroup)"
    v2, v1 = _mounts()
    if v2 is None and not v1:
        return "no cgroup filesystem is mounted"
    for base in [v2, *v1.values()]:
        if base is not None and os.access(base, os.W_OK):
            return None
    return "the cgroup filesystems are read-only"


def _under(mount: Path, own: str) -> Path:
    return mount / own.lstrip("/")


def _sweep(parent: Path, v2: bool) -> None:
    """Remove groups left by grading processes that no longer run."""
    for d in list(_leftovers):
        with contextlib.suppress(OSError):
            d.rmdir()
            _leftovers.remove(d)
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            if not entry.name.startswith("grader-") or not entry.is_dir():
                continue
            owner = entry.name.split("-")[1]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                stale = CGroup(entry.name, v2=Path(entry.path)) if v2 else CGroup(entry.name, v1={"x": Path(entry.path)})
                stale.kill(timeout=1.0)
                with contextlib.suppress(OSError):
                    Path(entry.path).rmdir()


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def create(memory_bytes: int, max_processes: int) -> CGroup | None:
    """A new group with these limits, or None where none can be made."""
    if unavailable_reason() is not None:
        return None
    v2_mount, v1_mounts = _mounts()
    v2_own, v1_own = _own_paths()
    group = CGroup(f"grader-{os.getpid()}-{next(_counter)}")
    mem_done = pids_done = False
    if v2_mount is not None and v2_own is not None:
        parent = _under(v2_mount, v2_own)
        _sweep(parent, v2=True)
        leaf = parent / group.name
        with contextlib.suppress(OSError):
            leaf.mkdir()
            group.v2 = leaf
            mem_done = _write(leaf / "memory.max", str(memory_bytes))
            if mem_done:
                _write(leaf / "memory.swap.max", "0")
            pids_done = _write(leaf / "pids.max", str(max_processes))
    for ctrl, mount in v1_mounts.items():
        if (ctrl == "memory" and mem_done) or (ctrl == "pids" and pids_done):
            continue
        if ctrl == "freezer" and group.v2 is not None:  # cgroup.kill does better
            continue
        parent = _under(mount, v1_own.get(ctrl, "/"))
        _sweep(parent, v2=False)
        leaf = parent / group.name
        try:
            leaf.mkdir()
        except OSError:
            continue
        group.v1[ctrl] = leaf
        if ctrl == "memory":
            mem_done = _write(leaf / "memory.limit_in_bytes", str(memory_bytes))
            _write(leaf / "memory.memsw.limit_in_bytes", str(memory_bytes))
        elif ctrl == "pids":
            pids_done = _write(leaf / "pids.max", str(max_processes))
    if group.v2 is None and not group.v1:
        return None
    if mem_done:
        group.limits.append(f"memory {memory_bytes >> 20} MiB")
    if pids_done:
        group.limits.append(f"{max_processes} processes")
    return group


def join(procs_files: list[str]) -> list[str]:
    """Move this process into the group (called in the child); returns the files that refused."""
    failed = []
    pid = str(os.getpid())
    for procs in procs_files:
        try:
            with open(procs, "w") as f:
                f.write(pid)
        except OSError:
            failed.append(procs)
    return failed
