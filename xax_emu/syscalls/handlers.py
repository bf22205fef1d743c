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
    "vfs": Handler(
        "files through the profile's routes (tar image, RAM disk, origin, deny, the synthetic /dev and /proc); "
        "fds 0-2 are the stdio channels; no fd is a terminal",
        {"read": "layer_read", "write": "layer_write", "readv": "layer_readv", "writev": "layer_writev",
         "pread64": "layer_pread64", "pwrite64": "layer_pwrite64", "lseek": "layer_lseek", "close":
         "layer_close", "open": "layer_open", "openat": "layer_openat", "creat": "layer_creat", "stat":
         "layer_stat", "lstat": "layer_lstat", "fstat": "layer_fstat", "newfstatat": "layer_newfstatat",
         "statx": "layer_statx", "getdents64": "layer_getdents64", "readlink": "layer_readlink",
         "readlinkat": "layer_readlinkat", "access": "layer_access", "faccessat": "layer_faccessat",
         "faccessat2": "layer_faccessat2", "mkdir": "layer_mkdir", "mkdirat": "layer_mkdirat", "rmdir":
         "layer_rmdir", "unlink": "layer_unlink", "unlinkat": "layer_unlinkat", "rename": "layer_rename",
         "renameat": "layer_renameat", "renameat2": "layer_renameat2", "ftruncate": "layer_ftruncate",
         "fsync": "layer_fsync", "fdatasync": "layer_fdatasync", "dup": "layer_dup", "dup2": "layer_dup2",
         "dup3": "layer_dup3", "fcntl": "layer_fcntl", "ioctl": "layer_ioctl", "chdir": "layer_chdir",
         "fchdir": "layer_fchdir", "getcwd": "layer_getcwd", "umask": "layer_umask", "pipe": "layer_pipe",
         "pipe2": "layer_pipe2"}),
    "unix-sockets": Handler(
        "AF_UNIX sockets that reach no one: connect resolves the path in the picoprocess's files (ENOENT, "
        "EACCES, or ECONNREFUSED where something is there); other families EAFNOSUPPORT",
        {"socket": "layer_socket", "connect": "layer_connect", "setsockopt": "layer_setsockopt",
         "getsockopt": "layer_getsockopt"}),
    "brk": Handler("the program break, grown in anonymous memory after the program's last segment",
                   {"brk": "layer_brk"}),
    "mmap": Handler("the mmap forms the filter traps: files are copied into private memory, shared anonymous "
                    "memory is private memory, huge pages ENOMEM", {"mmap": "layer_mmap"}),
    "identity": Handler("one process with one thread, with a fixed virtual pid, run by the profile's "
                        "virtual user (the identity knob)",
                        {"getpid": "layer_getpid", "gettid": "layer_getpid",
                         "set_tid_address": "layer_set_tid_address", "getuid": "layer_getuid",
                         "getgid": "layer_getgid", "geteuid": "layer_geteuid", "getegid": "layer_getegid",
                         "getresuid": "layer_getresuid", "getresgid": "layer_getresgid"}),
    "prctl": Handler("the picoprocess's truth: no capabilities in the bounding set, not dumpable, no_new_privs, "
                     "a seccomp filter; "
                     "the name set with PR_SET_NAME kept for PR_GET_NAME; other options EINVAL",
                     {"prctl": "layer_prctl"}),
    "uname": Handler("the profile's uname knob", {"uname": "layer_uname"}),
    "sysinfo": Handler("a machine of the picoprocess's own: uptime from the clock, load 0, one process, "
                       "4 GiB of memory", {"sysinfo": "layer_sysinfo"}),
    "sigmask": Handler("the signal mask, kept in the signal frame; SIGSYS can never be blocked",
                       {"rt_sigprocmask": "layer_rt_sigprocmask"}),
    "sigaction": Handler("the program's handlers for its own signals, installed through the sigaction buffer "
                         "with SIGSYS out of their masks; SIGSYS stays the layer's",
                         {"rt_sigaction": "layer_rt_sigaction"}),
    "rlimits": Handler("the program's own table of resource limits (Linux's defaults; lowered and raised up to "
                       "the hard limit as an unprivileged process may); the real limits are the Monitor's",
                       {"prlimit64": "layer_prlimit64", "getrlimit": "layer_getrlimit",
                        "setrlimit": "layer_setrlimit"}),
    "kill": Handler("signals to the picoprocess itself (its virtual pid, its group, its threads) through kill and "
                    "tgkill at its host pid, the only ones the filter allows; every other pid ESRCH",
                    {"kill": "layer_kill", "tkill": "layer_tkill", "tgkill": "layer_tgkill"}),
    "sigaltstack": Handler("the program's signal stack, recorded and reported but not installed (the only real "
                           "one is the layer's; handlers run on the program's stack)",
                           {"sigaltstack": "layer_sigaltstack"}),
    "time": Handler("clocks read with the allowed clock_gettime; sleeps as futex waits with a timeout",
                    {"gettimeofday": "layer_gettimeofday", "time": "layer_time",
                     "clock_getres": "layer_clock_getres", "nanosleep": "layer_nanosleep",
                     "clock_nanosleep": "layer_clock_nanosleep"}),
}


def c_function(handler: str, syscall: str) -> str | None:
    h = HANDLERS.get(handler)
    return h.functions.get(syscall) if h else None
