"""cffi (ABI mode) binding to the few libseccomp calls the filter builder needs.

libseccomp builds the BPF for us: it emits the architecture check, the x32
check and 64-bit argument comparisons, so no jump offset is computed by hand.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager

from cffi import FFI

from ..errors import SealError

ffi = FFI()
ffi.cdef(
    """
    typedef void *scmp_filter_ctx;
    typedef uint64_t scmp_datum_t;
    struct scmp_arg_cmp { unsigned int arg; int op; scmp_datum_t datum_a; scmp_datum_t datum_b; };
    scmp_filter_ctx seccomp_init(uint32_t def_action);
    void seccomp_release(scmp_filter_ctx ctx);
    int seccomp_attr_set(scmp_filter_ctx ctx, int attr, uint32_t value);
    int seccomp_rule_add_exact_array(scmp_filter_ctx ctx, uint32_t action, int syscall,
                                     unsigned int arg_cnt, const struct scmp_arg_cmp *arg_array);
    int seccomp_syscall_resolve_name(const char *name);
    int seccomp_export_bpf(const scmp_filter_ctx ctx, int fd);
    int seccomp_export_pfc(const scmp_filter_ctx ctx, int fd);
    """
)

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
    with tempfile.TemporaryFile() as f:
        fn = lib().seccomp_export_pfc if pfc else lib().seccomp_export_bpf
        check(fn(ctx, f.fileno()), "export")
        f.seek(0)
        return f.read()
