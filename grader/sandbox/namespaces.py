"""Linux namespaces for the sandboxed child: network, PID, mount and IPC.

`unshare_all()` moves the calling process into new namespaces (through a new user namespace
when it is not root). `enter_pid_namespace()` then forks the namespace's first process (a
small init that only reaps) and the child proper, and turns the caller into a supervisor that
exits exactly as the child does. When the init ends, the kernel ends every process left in the
namespace, however it detached itself: that is the whole-tree cleanup.

With a new mount namespace the init mounts a fresh /proc (only the sandbox's processes are
visible), and empty tmpfs over /tmp, /var/tmp, /run and /dev/shm, with the paths the child
needs bound back in.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import resource
import signal
from collections.abc import Callable, Iterable

from grader.sandbox.libc import libc, prctl

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

NAMES = {CLONE_NEWNET: "network", CLONE_NEWPID: "pid", CLONE_NEWNS: "mount", CLONE_NEWIPC: "ipc"}

_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000

_PR_SET_PDEATHSIG = 1
HIDDEN_DIRS = ("/tmp", "/var/tmp", "/run", "/dev/shm")


def set_pdeathsig(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send `sig` to this process when its parent thread ends."""
    err = prctl(_PR_SET_PDEATHSIG, sig)
    if err:
        raise OSError(err, os.strerror(err))


def _unshare(flags: int) -> int:
    """0 on success, else the errno."""
    lib = libc()
    if lib.unshare(ctypes.c_int(flags)) == 0:
        return 0
    return ctypes.get_errno() or errno.EPERM


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def unshare_all(wanted: Iterable[int]) -> tuple[dict[str, str | None], bool]:
    """Enter new namespaces; returns ({name: None or why not}, whether a user namespace was used).

    Root unshares directly. Others go through a new user namespace that maps their own uid and
    gid (no more rights outside it than before).
    """
    wanted = list(wanted)
    flags = 0
    for f in wanted:
        flags |= f
    result: dict[str, str | None] = {}
    user_ns = False
    if os.geteuid() != 0:
        uid, gid = os.geteuid(), os.getegid()
        err = _unshare(CLONE_NEWUSER | flags)
        if err == 0:
            try:
                with contextlib.suppress(FileNotFoundError):
                    _write("/proc/self/setgroups", "deny")
                _write("/proc/self/uid_map", f"{uid} {uid} 1")
                _write("/proc/self/gid_map", f"{gid} {gid} 1")
            except OSError as exc:
                return {NAMES[f]: f"user namespace id maps refused ({exc.strerror})" for f in wanted}, True
            return {NAMES[f]: None for f in wanted}, True
        why = f"unprivileged user namespaces are not allowed here ({os.strerror(err)})"
        return {NAMES[f]: why for f in wanted}, False
    if _unshare(flags) == 0:
        return {NAMES[f]: None for f in wanted}, user_ns
    for f in wanted:  # find which ones the kernel refuses
        err = _unshare(f)
        result[NAMES[f]] = None if err == 0 else os.strerror(err)
    return result, user_ns


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    lib = libc()
    rc = lib.mount(
        source.encode(), target.encode(), fstype.encode() if fstype else None, ctypes.c_ulong(flags),
        data.encode() if data else None,
    )  # fmt: skip
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def make_mounts_private() -> None:
    """Stop mounts made here from reaching the parent's namespace (call right after unshare)."""
    _mount("none", "/", None, _MS_REC | _MS_PRIVATE)


def _is_under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def setup_mounts(read_only: list[str], read_write: list[str], shm_bytes: int) -> list[str]:
    """In the new PID and mount namespaces: fresh /proc, empty tmpfs over the shared temporary
    folders with the needed paths bound back; returns what was done (raises on failure)."""
    done = []
    _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    done.append("fresh /proc")
    hidden = [d for d in HIDDEN_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    keep: list[tuple[str, int, bool]] = []
    for path, writable in [(p, False) for p in read_only] + [(p, True) for p in read_write]:
        real = os.path.realpath(path)
        if any(_is_under(real, d) for d in hidden) and os.path.exists(real):
            keep.append((real, os.open(real, os.O_PATH | os.O_CLOEXEC), writable))
    try:
        for d in hidden:
            size = shm_bytes if d == "/dev/shm" else 16 * 1024 * 1024
            _mount("tmpfs", d, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={size},mode=1777")
        if hidden:
            done.append("empty " + ", ".join(hidden))
        for real, fd, writable in keep:
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(real, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(real), exist_ok=True)
                with open(real, "a"):
                    pass
            _mount(f"/proc/self/fd/{fd}", real, None, _MS_BIND | _MS_REC)
            if not writable:
                _mount("none", real, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID)
        if keep:
            done.append(f"{len(keep)} paths bound back")
    finally:
        for _, fd, _w in keep:
            os.close(fd)
    return done


def enter_pid_namespace(
    close_in_supervisor: Iterable[int],
    init_setup: Callable[[], object] | None = None,
    announce_fd: int = -1,
) -> None:
    """Fork into the new PID namespace; returns only in the sandboxed child (pid 2 there).

    The caller stays outside as a supervisor that waits and then exits as the child did; the
    namespace's init (pid 1) runs `init_setup()` if given, reaps orphans, and ends (taking
    every process left in the namespace with it) when the child ends. The init's pid is
    written to `announce_fd` (a line "init PID") so that the grading process can wait for it.
    """
    status_r, status_w = os.pipe()
    init = os.fork()
    if init > 0:
        os.close(status_w)
        if announce_fd >= 0:
            with contextlib.suppress(OSError):
                os.write(announce_fd, f"init {init}\n".encode())
        for fd in close_in_supervisor:
            with contextlib.suppress(OSError):
                os.close(fd)
        _supervise(init, status_r)
    os.close(status_r)
    set_pdeathsig(signal.SIGKILL)
    if init_setup is not None:
        try:
            init_setup()
        except BaseException as exc:  # noqa: BLE001 - report and go on without the mounts
            with contextlib.suppress(OSError):
                os.write(2, f"grader sandbox: namespace setup failed: {exc}\n".encode())
    child = os.fork()
    if child > 0:
        _reap(child, status_w)
    os.close(status_w)


def _supervise(init: int, status_r: int) -> None:
    """Outside the namespace: wait for its init, then exit as the child did. Never returns."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, signal.SIG_DFL)
    while True:
        try:
            _, status = os.waitpid(init, 0)
            break
        except ChildProcessError:
            status = 0
            break
        except InterruptedError:
            continue
    raw = b""
    with contextlib.suppress(OSError):
        raw = os.read(status_r, 64)
    if raw.strip().lstrip(b"-").isdigit():
        status = int(raw)
    mirror_exit(status)


def _reap(child: int, status_w: int) -> None:
    """The namespace's init: reap everything; when `child` ends, report it and end. Never returns."""
    os.closerange(3, status_w)
    os.closerange(status_w + 1, 65536)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue
        if pid == child:
            with contextlib.suppress(OSError):
                os.write(status_w, str(status).encode())
            os._exit(0)


def mirror_exit(status: int) -> None:
    """End this process the way a child with wait status `status` ended. Never returns."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
