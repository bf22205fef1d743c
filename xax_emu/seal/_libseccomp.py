"""cffi (ABI mode) binding to the few libseccomp calls the filter builder needs.

libseccomp builds the BPF for us: it emits the architecture check, the x32
check and 64-bit argument comparisons, so no jump offset is computed by hand.

The declarations are parsed ahead of time (tools/gen_seccomp_ffi.py writes
_seccomp_ffi.py from them): parsing a cdef here would import pycparser on
every `xax-emu run`.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

from ..errors import SealError
from ._seccomp_ffi import ffi

ACT_KILL_PROCESS = 0x80000000
ACT_TRAP = 0x00030000
ACT_NOTIFY = 0x7FC00000
ACT_ALLOW = 0x7FFF0000
ATTR_ACT_BADARCH = 2
ATTR_CTL_NNP = 3
CMP_EQ = 4
CMP_MASKED_EQ = 7

_lib = None


def lib():
    global _lib
    if _lib is None:
        try:
            _lib = ffi.dlopen("libseccomp.so.2")
        except OSError as e:
            raise SealError(f"cannot load libseccomp.so.2 (install Debian's libseccomp2): {e}") from None
    return _lib


def check(rc: int, what: str) -> None:
    if rc < 0:
        raise SealError(f"libseccomp: {what} failed: {os.strerror(-rc)}")


@contextmanager
def filter_context(default_action: int):
    ctx = lib().seccomp_init(default_action)
    if ctx == ffi.NULL:
        raise SealError("libseccomp: seccomp_init failed")
    try:
        yield ctx
    finally:
        lib().seccomp_release(ctx)


def export(ctx, pfc: bool = False) -> bytes:
    """The filter as libseccomp writes it to an fd (a memfd: no file system involved)."""
    fd = os.memfd_create("xax-seccomp-export", os.MFD_CLOEXEC)
    try:
        fn = lib().seccomp_export_pfc if pfc else lib().seccomp_export_bpf
        check(fn(ctx, fd), "export")
        size = os.fstat(fd).st_size
        out = os.pread(fd, size, 0)
        if len(out) != size:
            raise SealError(f"libseccomp: export: read {len(out)} of {size} bytes")
        return out
    finally:
        os.close(fd)
