"""A seccomp filter for the sandboxed child, written as classic BPF (no libseccomp needed).

Denied (the call fails with EPERM; everything else is allowed):

- sockets other than AF_UNIX (no network, no netlink), and io_uring (its operations are not
  seen by seccomp);
- ptrace, process_vm_readv/writev, pidfd_getfd, kcmp (reading other processes);
- mount and the new mount API, pivot_root, chroot, unshare, setns, and clone() with any
  CLONE_NEW* flag (no new namespaces, so no new user namespace); clone3 answers ENOSYS so that
  libc falls back to clone(), whose flags can be inspected;
- bpf, keyctl/add_key/request_key, perf_event_open, userfaultfd, kernel modules, kexec,
  reboot, swap, syslog, clocks, hostnames, open_by_handle_at, device nodes (mknod of a
  character or block device), and kill(-1) (signalling every process at once).

Only x86_64 and aarch64 are known; elsewhere `supported()` says why not.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct
from dataclasses import dataclass, field

from grader.sandbox.child.privileges import no_new_privs
from grader.sandbox.libc import prctl

# BPF opcodes (linux/filter.h).
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06
_AND_K = 0x54

_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000

_OFF_NR, _OFF_ARCH = 0, 4


def _off_arg(i: int) -> int:
    """Offset of the low 32 bits of argument `i` in struct seccomp_data (little-endian)."""
    return 16 + 8 * i


_AF_UNIX = 1
_CLONE_NEW_FLAGS = (
    0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
)
_S_IFMT, _S_IFCHR, _S_IFBLK = 0xF000, 0x2000, 0x6000

_DENIED_NAMES = (
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "mount", "umount2",
    "pivot_root", "chroot", "unshare", "setns", "open_tree", "move_mount", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "bpf", "keyctl", "add_key", "request_key",
    "perf_event_open", "userfaultfd", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "reboot", "swapon", "swapoff", "syslog", "acct",
    "settimeofday", "clock_settime", "adjtimex", "clock_adjtime", "iopl", "ioperm",
    "open_by_handle_at", "name_to_handle_at", "quotactl", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "fanotify_init", "lookup_dcookie", "vhangup", "uselib", "nfsservctl",
    "sethostname", "setdomainname",
)


@dataclass(frozen=True)
class _Arch:
    audit: int
    numbers: dict[str, int] = field(hash=False)
    x32_bit: bool = False


_X86_64 = _Arch(
    audit=0xC000003E,
    x32_bit=True,
    numbers={
        "socket": 41, "ptrace": 101, "mount": 165, "umount2": 166, "pivot_root": 155,
        "chroot": 161, "unshare": 272, "setns": 308, "bpf": 321, "keyctl": 250, "add_key": 248,
        "request_key": 249, "clone": 56, "clone3": 435, "process_vm_readv": 310,
        "process_vm_writev": 311, "perf_event_open": 298, "userfaultfd": 323, "kexec_load": 246,
        "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176,
        "reboot": 169, "swapon": 167, "swapoff": 168, "syslog": 103, "acct": 163,
        "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305,
        "iopl": 172, "ioperm": 173, "open_by_handle_at": 304, "name_to_handle_at": 303,
        "quotactl": 179, "pidfd_getfd": 438, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "fanotify_init": 300, "open_tree": 428, "move_mount": 429,
        "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
        "kill": 62, "lookup_dcookie": 212, "vhangup": 153, "uselib": 134, "nfsservctl": 180,
        "kcmp": 312, "sethostname": 170, "setdomainname": 171, "mknod": 133, "mknodat": 259,
    },
)  # fmt: skip

_AARCH64 = _Arch(
    audit=0xC00000B7,
    numbers={
        "socket": 198, "ptrace": 117, "mount": 40, "umount2": 39, "pivot_root": 41,
        "chroot": 51, "unshare": 97, "setns": 268, "bpf": 280, "keyctl": 219, "add_key": 217,
        "request_key": 218, "clone": 220, "clone3": 435, "process_vm_readv": 270,
        "process_vm_writev": 271, "perf_event_open": 241, "userfaultfd": 282, "kexec_load": 104,
        "kexec_file_load": 294, "init_module": 105, "finit_module": 273, "delete_module": 106,
        "reboot": 142, "swapon": 224, "swapoff": 225, "syslog": 116, "acct": 89,
        "settimeofday": 170, "clock_settime": 112, "adjtimex": 171, "clock_adjtime": 266,
        "open_by_handle_at": 265, "name_to_handle_at": 264, "quotactl": 60, "pidfd_getfd": 438,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "fanotify_init": 262, "open_tree": 428, "move_mount": 429, "fsopen": 430,
        "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "kill": 129,
        "lookup_dcookie": 18, "vhangup": 58, "kcmp": 272, "sethostname": 161,
        "setdomainname": 162, "mknodat": 33,
    },
)  # fmt: skip

_ARCHES = {"x86_64": _X86_64, "amd64": _X86_64, "aarch64": _AARCH64, "arm64": _AARCH64}


def supported() -> str | None:
    """None when a filter can be built for this machine, else the reason it cannot."""
    if platform.system() != "Linux":
        return f"seccomp is Linux-only (this is {platform.system()})"
    if platform.machine().lower() not in _ARCHES:
        return f"no syscall table for {platform.machine()}"
    return None


class _Asm:
    """A tiny BPF assembler with forward labels."""

    def __init__(self) -> None:
        self.code: list[tuple[int, int | str, int | str, int]] = []
        self.labels: dict[str, int] = {}

    def ld(self, offset: int) -> None:
        self.code.append((_LD_W_ABS, 0, 0, offset))

    def jump(self, op: int, k: int, jt: int | str, jf: int | str = 0) -> None:
        self.code.append((op, jt, jf, k))

    def and_(self, k: int) -> None:
        self.code.append((_AND_K, 0, 0, k))

    def ret(self, k: int) -> None:
        self.code.append((_RET_K, 0, 0, k))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def assemble(self) -> bytes:
        out = bytearray()
        for i, (op, jt, jf, k) in enumerate(self.code):
            t = self._target(jt, i)
            f = self._target(jf, i)
            out += struct.pack("=HBBI", op, t, f, k & 0xFFFFFFFF)
        return bytes(out)

    def _target(self, where: int | str, i: int) -> int:
        if isinstance(where, int):
            return where
        off = self.labels[where] - i - 1
        if not 0 <= off <= 255:
            raise ValueError(f"BPF jump to {where} out of range ({off})")
        return off


def build_program(machine: str | None = None) -> bytes:
    """The filter's BPF instructions (struct sock_filter array) for `machine`."""
    arch = _ARCHES[(machine or platform.machine()).lower()]
    nr = arch.numbers
    deny = _RET_ERRNO | errno.EPERM
    a = _Asm()
    a.ld(_OFF_ARCH)
    a.jump(_JEQ_K, arch.audit, 1, 0)
    a.ret(_RET_KILL_PROCESS)
    a.ld(_OFF_NR)
    if arch.x32_bit:
        a.jump(_JGE_K, 0x40000000, "deny")
    for name in _DENIED_NAMES:
        if name in nr:
            a.jump(_JEQ_K, nr[name], "deny")
    a.jump(_JEQ_K, nr["socket"], "socket")
    a.jump(_JEQ_K, nr["clone"], "clone")
    a.jump(_JEQ_K, nr["clone3"], "enosys")
    a.jump(_JEQ_K, nr["kill"], "kill")
    if "mknod" in nr:
        a.jump(_JEQ_K, nr["mknod"], "mknod")
    a.jump(_JEQ_K, nr["mknodat"], "mknodat")
    a.ret(_RET_ALLOW)
    a.label("socket")
    a.ld(_off_arg(0))
    a.jump(_JEQ_K, _AF_UNIX, "allow", 0)
    a.ret(_RET_ERRNO | errno.EACCES)
    a.label("clone")
    a.ld(_off_arg(0))
    a.jump(_JSET_K, _CLONE_NEW_FLAGS, "deny", "allow")
    a.label("kill")
    a.ld(_off_arg(0))
    a.jump(_JEQ_K, 0xFFFFFFFF, "deny", "allow")
    for name, arg in (("mknod", 1), ("mknodat", 2)):
        if name in nr:
            a.label(name)
            a.ld(_off_arg(arg))
            a.and_(_S_IFMT)
            a.jump(_JEQ_K, _S_IFCHR, "deny", 0)
            a.jump(_JEQ_K, _S_IFBLK, "deny", "allow")
    a.label("enosys")
    a.ret(_RET_ERRNO | errno.ENOSYS)
    a.label("deny")
    a.ret(deny)
    a.label("allow")
    a.ret(_RET_ALLOW)
    return a.assemble()


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


def install() -> str:
    """Install the filter on this process (and its future children); returns a summary.

    Sets NO_NEW_PRIVS first (the kernel requires it, or CAP_SYS_ADMIN). Raises OSError when
    the kernel refuses.
    """
    reason = supported()
    if reason:
        raise OSError(errno.ENOSYS, reason)
    prog = build_program()
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = _SockFprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    no_new_privs()
    err = prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog))
    if err:
        raise OSError(err, f"seccomp filter refused: {errno.errorcode.get(err, err)}")
    return f"{len(prog) // 8} BPF instructions: no network sockets, ptrace, mount, namespaces, bpf, keyctl"
