"""The layer's handlers: the names a profile may use in emulate(), and for each the
system calls it can serve and the C function that serves each one.

This registry and runtime_c/layer/ must agree: a test builds a layer that
references every function named here.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Handler:
    doc: str
    functions: dict[str, str]  # syscall name -> C function in runtime_c/layer/
    params: tuple[str, ...] = ()


HANDLERS: dict[str, Handler] = {
    "stdio": Handler(
        "fds 0-2 are the Monitor's stdio channels (pipes: not terminals, not seekable)",
        {"read": "layer_read", "write": "layer_write", "readv": "layer_readv", "writev": "layer_writev",
         "ioctl": "layer_ioctl", "close": "layer_close", "fcntl": "layer_fcntl", "fstat": "layer_fstat",
         "newfstatat": "layer_newfstatat"}),
    "brk": Handler("the program break, grown in anonymous memory after the program's last segment",
                   {"brk": "layer_brk"}),
    "mmap": Handler("the mmap forms the filter traps: shared anonymous becomes private, huge pages ENOMEM, "
                    "files EBADF until the VFS maps them", {"mmap": "layer_mmap"}),
    "identity": Handler("one process with one thread, with a fixed virtual pid, run by the profile's "
                        "virtual user (the identity knob)",
                        {"getpid": "layer_getpid", "gettid": "layer_getpid",
                         "set_tid_address": "layer_set_tid_address", "getuid": "layer_getuid",
                         "getgid": "layer_getgid", "geteuid": "layer_geteuid", "getegid": "layer_getegid",
                         "getresuid": "layer_getresuid", "getresgid": "layer_getresgid"}),
    "uname": Handler("the profile's uname knob", {"uname": "layer_uname"}),
    "sigmask": Handler("the signal mask, kept in the signal frame; SIGSYS can never be blocked",
                       {"rt_sigprocmask": "layer_rt_sigprocmask"}),
    "time": Handler("clocks read with the allowed clock_gettime; sleeps as futex waits with a timeout",
                    {"gettimeofday": "layer_gettimeofday", "time": "layer_time",
                     "clock_getres": "layer_clock_getres", "nanosleep": "layer_nanosleep",
                     "clock_nanosleep": "layer_clock_nanosleep"}),
}


def c_function(handler: str, syscall: str) -> str | None:
    h = HANDLERS.get(handler)
    return h.functions.get(syscall) if h else None
