"""Privileges of the sandboxed child: drop to a slot uid, drop capabilities, NO_NEW_PRIVS."""

from __future__ import annotations

import ctypes
import os
import platform

from grader.sandbox.libc import libc, prctl

_PR_SET_NO_NEW_PRIVS = 38
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_CAP_VERSION_3 = 0x20080522


def no_new_privs() -> None:
    """Set PR_SET_NO_NEW_PRIVS: execve can never grant privileges again (setuid bits, caps)."""
    err = prctl(_PR_SET_NO_NEW_PRIVS, 1)
    if err:
        raise OSError(err, os.strerror(err))


def drop_to(uid: int, gid: int) -> None:
    """Become `uid`/`gid` for good (real, effective and saved), with no supplementary groups."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid):  # never go on as root by mistake
        raise OSError(f"still uid {os.getresuid()} after dropping to {uid}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_bounding_set() -> int:
    """Drop every capability from the bounding set (needs CAP_SETPCAP: call before a uid
    change); returns how many the kernel dropped."""
    if platform.system() != "Linux":
        return 0
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
    except (OSError, ValueError):
        last = 40
    return sum(1 for cap in range(last + 1) if prctl(_PR_CAPBSET_DROP, cap) == 0)


def drop_capabilities() -> int:
    """Drop every capability (bounding, ambient, effective, permitted, inheritable).

    Root without capabilities cannot override file permissions, trace or signal other users'
    processes, mount, load modules or regain them through execve. Returns how many bounding
    capabilities were dropped now; raises OSError where the kernel refuses.
    """
    if platform.system() != "Linux":
        raise OSError("capabilities are Linux-only")
    dropped = drop_bounding_set()
    prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
    header = _CapHeader(_CAP_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc().capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")
    return dropped
