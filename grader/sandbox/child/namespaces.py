"""Linux namespaces for the sandboxed child: network, PID, mount and IPC.

`unshare_all()` moves the calling process into new namespaces (through a new user namespace
when it is not root). `enter_pid_namespace()` then forks the namespace's first process (a
small init that only reaps) and the child proper, and turns the caller into a supervisor that
exits exactly as the child does. When the init ends, the kernel ends every process left in the
namespace, however it detached itself: that is the whole-tree cleanup.

With a new mount namespace the init mounts a fresh /proc (only the sandbox's processes are
visible), and empty, size-capped tmpfs over /tmp, /var/tmp, /run and /dev/shm, with the paths
the child needs bound back in. The working folder gets a tmpfs of its own (the disk cap): a
copy of the prepared folder plus a fixed room to write, so that writes and `fallocate` past it
fail with ENOSPC instead of filling the host's disk.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import resource
import signal
import stat as _stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

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

_MNT_DETACH = 2

_PR_SET_PDEATHSIG = 1
HIDDEN_DIRS = ("/tmp", "/var/tmp", "/run", "/dev/shm")
HIDDEN_BYTES = 16 * 1024 * 1024  # each of the hidden folders but /dev/shm
DISK_FILES = 65536  # files and folders the child may add to its working folder
_PAGE = 4096
_SUBDIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


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


@dataclass
class Mounts:
    """What the namespace's init mounted: `done` for the mount namespace's report; `disk` the
    disk cap's detail, or `disk_off` why the working folder stayed the host's folder."""

    done: list[str] = field(default_factory=list)
    disk: str = ""
    disk_off: str = ""


def _umount(target: str) -> None:
    lib = libc()
    if lib.umount2(target.encode(), ctypes.c_int(_MNT_DETACH)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"umount {target}: {os.strerror(err)}")


def _tree_size(dir_fd: int) -> tuple[int, int]:
    """(bytes a tmpfs copy of the folder open at `dir_fd` takes, in whole pages; entries)."""
    size, entries = 0, 0
    for entry in os.scandir(dir_fd):
        entries += 1
        st = os.stat(entry.name, dir_fd=dir_fd, follow_symlinks=False)
        if _stat.S_ISDIR(st.st_mode):
            sub = os.open(entry.name, _SUBDIR, dir_fd=dir_fd)
            try:
                more, n = _tree_size(sub)
            finally:
                os.close(sub)
            size, entries = size + more, entries + n
        elif _stat.S_ISREG(st.st_mode) or _stat.S_ISLNK(st.st_mode):
            size += -(-st.st_size // _PAGE) * _PAGE
    return size, entries


def _copy_tree(src_fd: int, dst: str) -> None:
    """Copy the folder open at `src_fd` into `dst` (which exists): files, folders and symbolic
    links, with their modes and owners."""
    for entry in os.scandir(src_fd):
        st = os.stat(entry.name, dir_fd=src_fd, follow_symlinks=False)
        target = os.path.join(dst, entry.name)
        if _stat.S_ISDIR(st.st_mode):
            os.mkdir(target, 0o700)
            sub = os.open(entry.name, _SUBDIR, dir_fd=src_fd)
            try:
                _copy_tree(sub, target)
            finally:
                os.close(sub)
        elif _stat.S_ISREG(st.st_mode):
            src = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=src_fd)
            try:
                out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                try:
                    left = st.st_size
                    while left > 0:
                        n = os.sendfile(out, src, None, min(left, 1 << 30))
                        if n == 0:
                            break
                        left -= n
                finally:
                    os.close(out)
            finally:
                os.close(src)
        elif _stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(entry.name, dir_fd=src_fd), target)
        else:
            continue  # sockets, fifos, devices: never part of a submission
        if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
            try:
                os.chown(target, st.st_uid, st.st_gid, follow_symlinks=False)
            except OSError:
                if st.st_uid != os.geteuid():  # a user namespace maps one group: the owner suffices
                    raise
        if not _stat.S_ISLNK(st.st_mode):
            os.chmod(target, _stat.S_IMODE(st.st_mode))


def _capped_folder(path: str, src_fd: int, disk_bytes: int) -> str:
    """Mount a tmpfs over `path` holding a copy of the folder open at `src_fd`, with
    `disk_bytes` left to write (and DISK_FILES more entries); returns its description."""
    used, entries = _tree_size(src_fd)
    st = os.fstat(src_fd)
    size = used + -(-disk_bytes // _PAGE) * _PAGE
    mode = _stat.S_IMODE(st.st_mode)
    inodes = DISK_FILES + entries + 1
    options = f"size={size},nr_inodes={inodes},mode={mode:o},uid={st.st_uid},gid={st.st_gid}"
    _mount("tmpfs", path, "tmpfs", _MS_NOSUID | _MS_NODEV, options)
    try:
        _copy_tree(src_fd, path)
    except BaseException:
        with contextlib.suppress(OSError):
            _umount(path)
        raise
    return (
        f"the working folder is a tmpfs: {_mib(disk_bytes)} to write on top of the submission's "
        f"{_mib(used)}, {DISK_FILES} more files"
    )


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 or n == 0 else f"{-(-n // 1024)} KiB"


def setup_mounts(
    read_only: list[str], read_write: list[str], shm_bytes: int, disk_bytes: int | None = None
) -> Mounts:
    """In the new PID and mount namespaces: fresh /proc, empty tmpfs over the shared temporary
    folders with the needed paths bound back; returns what was done (raises on failure).

    With `disk_bytes`, the first writable path (the working folder) becomes a tmpfs of its own
    with a copy of its files and `disk_bytes` to write; where that fails the host's folder is
    bound back instead and `Mounts.disk_off` says why.
    """
    result = Mounts()
    done = result.done
    _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    done.append("fresh /proc")
    hidden = [d for d in HIDDEN_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    capped = os.path.realpath(read_write[0]) if disk_bytes is not None and read_write else None
    capped_fd = -1
    keep: list[tuple[str, int, bool]] = []
    writable_bytes = 0
    try:
        if capped is not None:
            try:
                capped_fd = os.open(capped, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError as exc:
                result.disk_off = f"cannot open the working folder: {exc.strerror}"
        for path, writable in [(p, False) for p in read_only] + [(p, True) for p in read_write]:
            real = os.path.realpath(path)
            if any(_is_under(real, d) for d in hidden) and os.path.exists(real):
                keep.append((real, os.open(real, os.O_PATH | os.O_CLOEXEC), writable))
        for d in hidden:
            size = shm_bytes if d == "/dev/shm" else HIDDEN_BYTES
            _mount("tmpfs", d, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={size},mode=1777")
            writable_bytes += size
        if hidden:
            sizes = [_mib(shm_bytes if d == "/dev/shm" else HIDDEN_BYTES) for d in hidden]
            named = [f"{d} ({n})" for d, n in zip(hidden, sizes, strict=True)]
            done.append("empty " + ", ".join(named))
        bound = 0
        for real, fd, writable in keep:
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(real, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(real), exist_ok=True)
                with open(real, "a"):
                    pass
            if real == capped and capped_fd >= 0:
                continue  # it gets its own tmpfs below
            _mount(f"/proc/self/fd/{fd}", real, None, _MS_BIND | _MS_REC)
            bound += 1
            if not writable:
                _mount("none", real, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID)
        if capped is not None and capped_fd >= 0:
            try:
                result.disk = _capped_folder(capped, capped_fd, int(disk_bytes or 0))
                os.chdir(capped)  # the child inherits it: never the host's folder underneath
                writable_bytes += int(disk_bytes or 0)
                with_hidden = f" (with {', '.join(hidden)})" if hidden else ""
                result.disk += f"; {_mib(writable_bytes)} writable in all{with_hidden}"
                done.append("a capped tmpfs for the working folder")
            except OSError as exc:
                result.disk_off = f"no tmpfs for the working folder: {exc}"
                if any(real == capped for real, _, _ in keep):
                    fd = next(fd for real, fd, _ in keep if real == capped)
                    _mount(f"/proc/self/fd/{fd}", capped, None, _MS_BIND | _MS_REC)
                    bound += 1
        if bound:
            done.append(f"{bound} paths bound back")
    finally:
        for _, fd, _w in keep:
            os.close(fd)
        if capped_fd >= 0:
            os.close(capped_fd)
    return result


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
