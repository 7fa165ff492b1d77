"""Landlock: a filesystem allowlist the child sets on itself (it binds root too).

Read-only paths may be read and executed; read-write paths may also be written, but not
given device nodes. Everything else (the grader's assignments, hidden tests, reference
solution, other processes' /proc entries, /tmp) is refused with EACCES. Where the kernel's
Landlock ABI allows it, TCP bind/connect is refused too (ABI 4) and the child may neither
signal processes outside its domain nor reach abstract Unix sockets outside it (ABI 6).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import stat
import struct
from collections.abc import Iterable

from grader.sandbox.libc import libc

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5

_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2  # ABI 4
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1, 2  # ABI 6

_FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ = EXECUTE | READ_FILE | READ_DIR
READ_WRITE = (
    READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_SOCK | MAKE_FIFO
    | MAKE_SYM | REFER | TRUNCATE
)  # fmt: skip
DEVICE = READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 where there is none (and on non-Linux)."""
    if platform.system() != "Linux":
        return 0
    try:
        rc = libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(rc), 0)


def unavailable_reason() -> str | None:
    """None when Landlock can be used here, else why not."""
    if platform.system() != "Linux":
        return f"Landlock is Linux-only (this is {platform.system()})"
    abi = abi_version()
    if abi <= 0:
        err = ctypes.get_errno()
        if err == errno.EOPNOTSUPP:
            return "Landlock is built into the kernel but disabled (boot with lsm=...,landlock)"
        return "the kernel has no Landlock (needs Linux 5.13+ with CONFIG_SECURITY_LANDLOCK)"
    return None


def _fs_mask(abi: int) -> int:
    mask = (1 << 13) - 1
    if abi >= 2:
        mask |= REFER
    if abi >= 3:
        mask |= TRUNCATE
    if abi >= 5:
        mask |= IOCTL_DEV
    return mask


def restrict(
    read_only: Iterable[str],
    read_write: Iterable[str],
    devices: Iterable[str] = (),
) -> str:
    """Restrict this thread (and its future children) to the given paths; returns a summary.

    Paths that do not exist are skipped. NO_NEW_PRIVS must already be set (or the caller
    must hold CAP_SYS_ADMIN). Raises OSError when the kernel refuses.
    """
    abi = abi_version()
    if abi <= 0:
        raise OSError(errno.ENOSYS, unavailable_reason() or "no Landlock")
    fs = _fs_mask(abi)
    net = (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0
    scoped = (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0
    if abi >= 6:
        attr = struct.pack("=QQQ", fs, net, scoped)
    elif abi >= 4:
        attr = struct.pack("=QQ", fs, net)
    else:
        attr = struct.pack("=Q", fs)
    lib = libc()
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = lib.syscall(_SYS_CREATE_RULESET, buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"landlock_create_ruleset: {os.strerror(err)}")
    added = 0
    try:
        for paths, access in ((read_only, READ), (read_write, READ_WRITE), (devices, DEVICE)):
            for path in paths:
                added += _add_path(lib, int(ruleset), path, access & fs)
        if lib.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"landlock_restrict_self: {os.strerror(err)}")
    finally:
        os.close(int(ruleset))
    extra = []
    if net:
        extra.append("no TCP bind/connect")
    if scoped:
        extra.append("no signals or abstract sockets outside the sandbox")
    return f"ABI {abi}, {added} paths allowed" + (f"; {', '.join(extra)}" if extra else "")


def _add_path(lib: ctypes.CDLL, ruleset: int, path: str, access: int) -> int:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return 0
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            access &= _FILE_ONLY
        rule = struct.pack("=Qi", access, fd)
        buf = ctypes.create_string_buffer(rule, len(rule))
        if lib.syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), buf, ctypes.c_uint32(0)) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"landlock_add_rule({path}): {os.strerror(err)}")
    finally:
        os.close(fd)
    return 1

