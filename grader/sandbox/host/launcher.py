"""Start one sandboxed child (from the zygote, else a fresh interpreter) and end its whole tree.

`launch()` prepares what the child's layers need on the trusted side (a slot uid that owns the
working folder, a control group), starts the child with its policy, waits until it reports
that its layers are in place and its imports done, and returns a `Launched`. Its
`terminate()` leaves no process of the child's tree alive: the process group, then the PID
namespace (waiting on its init), the control group, and the slot uid are each killed, where
the platform gave them.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from grader.sandbox import DEFAULT_IMPORTS, layers
from grader.sandbox.host import cgroups, cputime, memwatch, slots, zygote
from grader.sandbox.host.output import OutputSink
from grader.sandbox.layers import Layer
from grader.sandbox.limits import Limits

READY_TIMEOUT = 180.0


class ChildProcess(Protocol):
    """What the sandbox needs of a child process (`subprocess.Popen` or a zygote child)."""

    pid: int

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


class LaunchError(RuntimeError):
    """The child did not get ready (its layers or imports failed)."""


def base_env(workdir: Path, threads: int) -> dict[str, str]:
    """The child's environment before the sandbox's extra variables."""
    tmp = str(workdir / ".tmp")
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": tmp,
        "XDG_CACHE_HOME": tmp,
        "GRADER_CHILD": "1",
    }


def zygote_env() -> dict[str, str]:
    """The environment a zygote starts with (the children's, less the per-child folders)."""
    env = base_env(Path("/nonexistent"), 1)
    for key in ("HOME", "TMPDIR", "MPLCONFIGDIR", "XDG_CACHE_HOME"):
        env.pop(key)
    return env


@dataclass
class Launched:
    """A running child and everything that must be undone when it ends."""

    proc: ChildProcess
    to_child: int
    from_child: int
    sink: OutputSink
    layers: list[Layer]
    init_pidfd: int = -1
    cgroup: cgroups.CGroup | None = None
    slot: slots.Slot | None = None
    start_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    watch_bytes: int | None = None  # the memory watch's limit, where no cgroup limits memory

    def over_memory(self) -> int | None:
        """The tree's private memory in bytes when the memory watch finds it over its limit."""
        if self.watch_bytes is None:
            return None
        used = memwatch.tree_private_bytes(self.proc.pid)
        return used if used > self.watch_bytes else None

    def cpu_seconds(self) -> float:
        """CPU seconds the child's tree has used so far, as the kernel counts them."""
        if self.cgroup is not None:
            seconds = self.cgroup.cpu_seconds()
            if seconds is not None:
                return seconds
        return cputime.tree_cpu_seconds(self.proc.pid)

    def memory_note(self) -> str:
        """Why memory may have ended or stalled the child ('' when it did not), from its cgroup."""
        return self.cgroup.memory_note() if self.cgroup is not None else ""

    def terminate(self) -> None:
        """Kill the child's whole tree and wait until it is gone; free its cgroup and slot."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.kill()
        if self.init_pidfd >= 0:
            # The namespace's init ends only after every process in the namespace has ended.
            with contextlib.suppress(OSError, ValueError):
                signal.pidfd_send_signal(self.init_pidfd, signal.SIGKILL)
                select.select([self.init_pidfd], [], [], 5.0)
            with contextlib.suppress(OSError):
                os.close(self.init_pidfd)
            self.init_pidfd = -1
        if self.cgroup is not None:
            self.cgroup.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self.slot is not None:
            self.slot.release()
            self.slot = None
        self.sink.stop()


def _policy(
    workdir: Path,
    tmp_root: Path,
    data: str | None,
    memory_bytes: int | None,
    disk_bytes: int | None = None,
) -> tuple[layers.Policy, slots.Slot | None, cgroups.CGroup | None]:
    asked = {"memory_bytes": memory_bytes, "disk_bytes": disk_bytes}
    limits = Limits(**{k: v for k, v in asked.items() if v is not None})
    policy = layers.Policy(
        workdir=str(workdir),
        read_only=[data] if data else [],
        limits=asdict(limits),
        disabled=layers.disabled_by_env(),
    )
    slot = None
    reason = slots.unusable_reason([*layers.python_read_paths(), *([data] if data else [])])
    if "slot uid" in policy.disabled:
        policy.uid_note = "switched off"
    elif reason:
        policy.uid_note = reason
    else:
        slot = slots.acquire()
        slots.chown_tree(workdir, slot.uid, slot.gid)
        os.chmod(tmp_root, 0o711)  # the slot uid may pass through, not list
        policy.uid, policy.gid = slot.uid, slot.gid
    group = None
    if "cgroup" in policy.disabled:
        policy.cgroup_note = "switched off"
    else:
        policy.cgroup_note = cgroups.unavailable_reason() or ""
        if not policy.cgroup_note:
            group = cgroups.create(limits.memory_bytes, limits.processes)
            if group is None:
                policy.cgroup_note = "no cgroup hierarchy accepted a new group"
            else:
                policy.cgroup_procs = group.procs_files
                policy.cgroup_note = group.describe()
    return policy, slot, group


def launch(
    workdir: Path,
    *,
    tmp_root: Path,
    threads: int,
    extra_env: dict[str, str],
    output_file: Path,
    data_dir: Path | None = None,
    output_limit: int,
    memory_bytes: int | None = None,
    disk_bytes: int | None = None,
    imports: tuple[str, ...] = DEFAULT_IMPORTS,
) -> Launched:
    """Start a sandboxed child for `workdir` and wait until it is ready to serve requests.

    `memory_bytes` and `disk_bytes` (what it may write in its working folder): None takes
    the default of `Limits`. `data_dir`: a folder the child may read (read-only). `imports`:
    the libraries imported before student code (preloaded by the zygote)."""
    t0 = time.perf_counter()
    data = str(data_dir) if data_dir is not None else None
    policy, slot, group = _policy(workdir, tmp_root, data, memory_bytes, disk_bytes)
    env = {**base_env(workdir, threads), **extra_env}
    sink = OutputSink(output_file, output_limit)
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    ready_r, ready_w = os.pipe()
    child_fds = [req_r, resp_w, ready_w, sink.write_fd]
    run = {"root": str(workdir), "threads": threads, "policy": policy.to_json(), "imports": list(imports)}
    proc: ChildProcess | None = None
    zygote_layer = Layer("zygote", False, "")
    try:
        z = zygote.shared(zygote_env(), imports)
        if z is not None:
            try:
                proc = z.spawn(run, env, str(workdir), child_fds)
                where = f"pid {z.pid}" if z.pid else f"shared at {z.address}"
                zygote_layer.active, zygote_layer.detail = True, f"forked from the zygote ({where})"
            except zygote.ZygoteError as exc:
                zygote_layer.detail = str(exc)
        else:
            zygote_layer.detail = zygote.enabled() or "unavailable"
        if proc is None:
            cmd = [
                # Not -I: it would ignore PYTHONHASHSEED; the environment is ours entirely anyway.
                sys.executable, "-s", "-P", "-u", "-m", "grader.sandbox.child.server",
                "--in-fd", str(req_r), "--out-fd", str(resp_w), "--ready-fd", str(ready_w),
                "--root", str(workdir), "--threads", str(threads), "--policy", policy.to_json(),
                "--imports", ",".join(imports),
            ]  # fmt: skip
            proc = subprocess.Popen(
                cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=sink.write_fd,
                stderr=subprocess.STDOUT, pass_fds=(req_r, resp_w, ready_w), start_new_session=True,
            )  # fmt: skip
    except BaseException:
        for fd in (req_r, req_w, resp_r, resp_w, ready_r, ready_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        sink.stop()
        if group is not None:
            group.remove()
        if slot is not None:
            slot.release()
        raise
    finally:
        for fd in (req_r, resp_w, ready_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        sink.close_write_end()
    launched = Launched(proc, req_w, resp_r, sink, [], cgroup=group, slot=slot)
    try:
        init_pid, report = _wait_ready(ready_r, proc)
    except LaunchError:
        launched.terminate()
        for fd in (req_w, resp_r):
            os.close(fd)
        raise
    finally:
        os.close(ready_r)
    if init_pid is not None:
        launched.init_pidfd = _open_init(init_pid, proc.pid)
    launched.start_seconds = time.perf_counter() - t0
    if zygote_layer.active:
        zygote_layer.detail += f", ready in {launched.start_seconds * 1000:.0f} ms"
    cap = Layer("output cap", True, f"stdout+stderr cut at {output_limit // 1024} KiB")
    watch = _memory_watch(launched, policy)
    launched.layers = [zygote_layer, *report, watch, cap]
    os.set_blocking(resp_r, False)
    return launched


def _memory_watch(launched: Launched, policy: layers.Policy) -> Layer:
    """Turn the memory watch on where no cgroup limits memory; returns its layer entry."""
    limit = int(policy.limits["memory_bytes"])
    if launched.cgroup is not None and any(x.startswith("memory") for x in launched.cgroup.limits):
        return Layer("memory watch", False, "not needed: the cgroup limits memory")
    if "memory watch" in policy.disabled:
        return Layer("memory watch", False, "switched off")
    reason = memwatch.available()
    if reason:
        return Layer("memory watch", False, reason)
    launched.watch_bytes = limit
    detail = f"the child's tree is stopped past {limit >> 20} MiB of private memory (checked 4 times a second)"
    return Layer("memory watch", True, detail)


def _wait_ready(ready_r: int, proc: ChildProcess) -> tuple[int | None, list[Layer]]:
    buf = b""
    deadline = time.monotonic() + READY_TIMEOUT
    init_pid = None
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.startswith(b"init "):
                init_pid = int(line.split()[1])
            elif line.startswith(b"{"):
                return init_pid, [Layer(**x) for x in json.loads(line)["layers"]]
        left = deadline - time.monotonic()
        if left <= 0:
            raise LaunchError(f"the sandboxed child was not ready within {READY_TIMEOUT:.0f} s")
        ready, _, _ = select.select([ready_r], [], [], min(left, 0.5))
        if ready:
            chunk = os.read(ready_r, 65536)
            if not chunk:
                code = proc.wait(timeout=5) if proc.poll() is None else proc.poll()
                raise LaunchError(f"the sandboxed child ended (exit {code}) before it was ready")
            buf += chunk


def _open_init(init_pid: int, supervisor: int) -> int:
    """A pidfd on the namespace's init, after checking that it is the supervisor's child."""
    try:
        fd = os.pidfd_open(init_pid)
    except (OSError, AttributeError):
        return -1
    try:
        stat = Path(f"/proc/{init_pid}/stat").read_text()
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        ppid = -1
    if ppid != supervisor:
        os.close(fd)
        return -1
    return fd
