"""posix-core: what nearly every program needs from a POSIX kernel, emulated
inside the picoprocess."""

import errno

from ..syscalls.profile import Devices, Proc, Profile, emulate, emulate_all, forward, reject

_PIPE = "a 64 KiB ring inside the picoprocess; a blocked end waits for another thread"
_SLEEP = "a futex wait with a timeout"

POSIX_CORE = Profile(
    "posix-core",
    note="files through the routes, stdio as channels, memory, identity, time, the signal mask",
    # Made in the picoprocess, never the host's: /dev/null, /dev/urandom (the Monitor's
    # randomness), ...; /proc/self/exe, /proc/self/fd, /proc/loadavg, /proc/stat.
    routes={"/dev": Devices(), "/proc": Proc()},
    syscalls={
        # Every call the VFS serves: files, directories, fds, pipes, the cwd.
        **emulate_all("vfs", note="the profile's routes; fds 0-2 are the stdio channels"),
        **emulate_all("readiness", note="poll, select and epoll over every kind of fd in one wait; the "
                                        "Monitor's channels asked in one POLL"),
        "sendfile": emulate("sendfile", note="a file's bytes to any fd, copied through the layer"),
        "pipe": emulate("vfs", note=_PIPE),
        "pipe2": emulate("vfs", note=_PIPE),
        "ioctl": emulate("vfs", note="no fd is a terminal: ENOTTY"),
        "brk": emulate("brk", note="malloc's heap"),
        "mmap": emulate("mmap", note="only what the filter traps; private anonymous memory reaches the kernel"),
        # The getuid family, and the process's own ids.
        **emulate_all("identity", note="the virtual user"),
        "getpid": emulate("identity", note="a fixed virtual pid"),
        "gettid": emulate("identity", note="the process id, in every thread (threads have no ids of their own)"),
        "set_tid_address": emulate("identity", note="not kept: the main thread's word is never cleared "
                                   "(threads get theirs from clone)"),
        "uname": emulate("uname", note="virtual host name and release"),
        "sysinfo": emulate("sysinfo", note="getloadavg, sysconf's memory size"),
        "rt_sigprocmask": emulate("sigmask", note="SIGSYS stays unblocked"),
        "rt_sigaction": emulate("sigaction", note="handlers for the program's own signals; SIGSYS is the layer's"),
        **emulate_all("rlimits", note="the program's view; the real limits are the Monitor's"),
        "sigaltstack": emulate("sigaltstack", note="recorded, not installed: handlers run on the program's stack"),
        # The vDSO's fallbacks, and sleeps.
        **emulate_all("time", note="vDSO fallback"),
        "nanosleep": emulate("time", note=_SLEEP),
        "clock_nanosleep": emulate("time", note=_SLEEP),
        "sched_yield": reject(value=0, note="answered at once: the kernel preempts threads anyway"),
        "clone": reject(errno.EAGAIN, note="thread creation with pthread_create's flags reaches the kernel "
                        "(the allowlist, under the thread limit); every other form (fork, vfork, namespaces) "
                        "is refused as if the process limit were reached"),
        "prctl": emulate("prctl"),
        **emulate_all("kill"),
        "kill": emulate("kill", note="raise() and abort(): the picoprocess signals itself; nobody else exists"),
        "futex": reject(errno.ENOSYS, note="only the priority-inheritance ops trap (the others are on the "
                        "allowlist): answered as by a kernel without PI futexes"),
        "clone3": reject(errno.ENOSYS, note="its flags are in memory, where the filter cannot check them: "
                         "libcs then fall back to clone"),
        "getrandom": forward(note="randomness from the Monitor"),
    },
)
