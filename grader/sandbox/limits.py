"""Resource limits (setrlimit) for the sandboxed child.

CPU seconds, file size, open files and core dumps always; the address space only where it
cannot break CUDA (no NVIDIA device) and no cgroup memory limit applies; processes only for a
non-root uid (RLIMIT_NPROC does nothing for root, and counts every process of the uid).
"""

from __future__ import annotations

import glob
import os
import resource
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What one child may use."""

    cpu_seconds: int = 3600
    file_bytes: int = 256 * 1024 * 1024
    open_files: int = 512
    memory_bytes: int = 4 * 1024 * 1024 * 1024
    processes: int = 64
    disk_bytes: int = 512 * 1024 * 1024  # what the child may write in its working folder (a tmpfs)


# Importing torch reserves far more virtual memory than it touches; the address-space limit
# has to leave room for that on top of the memory the code may really use.
_AS_SLACK = 6 * 1024 * 1024 * 1024


def cuda_devices_present() -> bool:
    """True when the machine has NVIDIA device nodes (RLIMIT_AS breaks CUDA there)."""
    return bool(glob.glob("/dev/nvidia[0-9]*"))


def processes_of_uid(uid: int) -> int:
    """How many processes `uid` owns (RLIMIT_NPROC counts them all)."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def _set(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def apply(limits: Limits, *, address_space: bool, processes: tuple[int, int] | None = None) -> str:
    """Set the limits on this process; returns a summary. `processes`: (the uid the child
    will run as, how many processes that uid had before), when RLIMIT_NPROC can bind it (not
    root), else None. The count must be taken before a new /proc hides the uid's others."""
    done = []
    # SIGXCPU at the soft limit; Python's default action for it ends the process.
    _set(resource.RLIMIT_CPU, limits.cpu_seconds)
    done.append(f"cpu {limits.cpu_seconds} s")
    _set(resource.RLIMIT_FSIZE, limits.file_bytes)
    done.append(f"file size {limits.file_bytes >> 20} MiB")
    _set(resource.RLIMIT_NOFILE, limits.open_files)
    done.append(f"open files {limits.open_files}")
    _set(resource.RLIMIT_CORE, 0)
    if address_space:
        _set(resource.RLIMIT_AS, limits.memory_bytes + _AS_SLACK)
        done.append(f"address space {(limits.memory_bytes + _AS_SLACK) >> 30} GiB")
    if processes is not None:
        uid, running = processes
        try:
            _set(resource.RLIMIT_NPROC, running + limits.processes)
            done.append(f"processes {limits.processes} more for uid {uid}")
        except (OSError, ValueError):
            pass
    return ", ".join(done)
