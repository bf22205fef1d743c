"""posix-core: what nearly every program needs from a POSIX kernel, emulated
inside the picoprocess."""

from ..syscalls.profile import Profile, emulate, reject

_stdio = "stdio channels"

POSIX_CORE = Profile(
    "posix-core",
    note="stdio as channels, memory, identity, time, the signal mask",
    syscalls={
        "read": emulate("stdio", note=_stdio),
        "write": emulate("stdio", note=_stdio),
        "readv": emulate("stdio", note=_stdio),
        "writev": emulate("stdio", note=_stdio),
        "ioctl": emulate("stdio", note="stdio is no terminal: ENOTTY"),
        "close": emulate("stdio", note=_stdio),
        "fcntl": emulate("stdio", note="flags of the stdio fds"),
        "fstat": emulate("stdio", note="stdio fds are pipes"),
        "newfstatat": emulate("stdio", note="AT_EMPTY_PATH on stdio fds; paths need the VFS"),
        "brk": emulate("brk", note="malloc's heap"),
        "mmap": emulate("mmap", note="only what the filter traps; private anonymous memory reaches the kernel"),
        "getpid": emulate("identity", note="a fixed virtual pid"),
        "gettid": emulate("identity", note="the only thread"),
        "set_tid_address": emulate("identity", note="nothing clears it: no other thread"),
        "getuid": emulate("identity", note="the virtual user"),
        "getgid": emulate("identity", note="the virtual user"),
        "geteuid": emulate("identity", note="the virtual user"),
        "getegid": emulate("identity", note="the virtual user"),
        "getresuid": emulate("identity", note="the virtual user"),
        "getresgid": emulate("identity", note="the virtual user"),
        "uname": emulate("uname", note="virtual host name and release"),
        "rt_sigprocmask": emulate("sigmask", note="SIGSYS stays unblocked"),
        "gettimeofday": emulate("time", note="vDSO fallback"),
        "time": emulate("time", note="vDSO fallback"),
        "clock_getres": emulate("time", note="vDSO fallback"),
        "nanosleep": emulate("time", note="a futex wait with a timeout"),
        "clock_nanosleep": emulate("time", note="a futex wait with a timeout"),
        "sched_yield": reject(value=0, note="one thread: nothing to yield to"),
    },
)
