"""The C library, for the Linux calls that Python's `os` module lacks (prctl, unshare, mount,
capset, raw syscalls), shared by the sandbox's layers."""

from __future__ import annotations

import ctypes
import functools


@functools.cache
def libc() -> ctypes.CDLL:
    """This process's C library, with errno kept and prctl/syscall typed."""
    lib = ctypes.CDLL(None, use_errno=True)
    lib.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    lib.syscall.restype = ctypes.c_long
    return lib


def prctl(option: int, arg2: int = 0, arg3: int = 0) -> int:
    """Call prctl; 0 on success, else the errno."""
    if libc().prctl(option, arg2, arg3, 0, 0) != 0:
        return ctypes.get_errno()
    return 0
