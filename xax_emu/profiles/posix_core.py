"""posix-core: what nearly every program needs from a POSIX kernel, emulated
inside the picoprocess."""

import errno

from ..syscalls.profile import Devices, Proc, Profile, RamDisk, emulate, emulate_all, forward, reject

_PIPE = "a 64 KiB ring inside the picoprocess; a blocked end waits for another thread"
_SLEEP = "a futex wait with a timeout"
TMP_SIZE = 64 << 20  # each of /tmp and /var/tmp: room for a program's temporary files, not for a disk's worth
# No processes but the picoprocess (yet): a program that forks must see a failure it treats as
# permanent.  EAGAIN reads as a passing shortage of processes: perl's `` and system() retry it
# every 5 seconds forever.  ENOSYS ends them at once (tests/test_fork_answer.py).
_NO_PROCESSES = ("no processes but the picoprocess: ENOSYS, a failure programs treat as permanent (EAGAIN "
                 "would read as a passing shortage, which perl retries forever)")

POSIX_CORE = Profile(
    "posix-core",
    note="files through the routes, stdio as channels, memory, identity, time, the signal mask",
    # Made in the picoprocess, never the host's: /dev/null, /dev/urandom (the Monitor's
    # randomness), ...; /proc/self/exe, /proc/self/fd, /proc/loadavg, /proc/stat.
    # /tmp and /var/tmp: RAM disks, empty at start and capped, where programs expect to write
    # (an app's own route for either wins).
    routes={"/dev": Devices(), "/proc": Proc(), "/tmp": RamDisk(size=TMP_SIZE), "/var/tmp": RamDisk(size=TMP_SIZE)},
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
        **emulate_all("setids", note="the virtual user is fixed: only calls that keep its ids succeed "
                      "(posix_spawn's POSIX_SPAWN_RESETIDS, which make uses)"),
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
        "clone": emulate("processes", note="thread creation with pthread_create's flags reaches the kernel "
                          "(the allowlist, under the thread limit); the fork forms (posix_spawn's included) are "
                          "forks when the Monitor enables processes (--processes N > 1), " + _NO_PROCESSES +
                          " otherwise; every other form ENOSYS"),
        "fork": emulate("processes", note="a real fork under the inherited seal (docs/processes.md) with "
                        "--processes N > 1; else " + _NO_PROCESSES),
        "vfork": emulate("processes", note="made a fork"),
        "wait4": emulate("processes", note="the caller's children, by virtual pid"),
        "waitid": emulate("processes", note="the caller's children, by virtual pid"),
        "getppid": emulate("processes", note="the parent's virtual pid; the entry program's is 1"),
        **emulate_all("pgrp", note="the family's own groups and sessions (the Monitor's); the host's never "
                                   "change; the entry program leads its group and session"),
        "execve": emulate("exec", note="a program from the image, in place, never a host program "
                          "(docs/processes.md); ENOSYS without --processes"),
        "rt_sigsuspend": emulate("sigsuspend", note="until a child changes state (or 10 ms), then EINTR with "
                                 "the given mask left in place: shells waiting for SIGCHLD"),
        "execveat": emulate("exec", note="as execve; an absolute path or one relative to the cwd"),
        "prctl": emulate("prctl"),
        **emulate_all("kill"),
        "kill": emulate("kill", note="raise() and abort(): the picoprocess signals itself; nobody else exists"),
        "futex": reject(errno.ENOSYS, note="only the priority-inheritance ops reach the layer (the others' private "
                        "forms are on the allowlist, the PAL answers their shared forms): answered as by a kernel "
                        "without PI futexes"),
        "clone3": reject(errno.ENOSYS, note="its flags are in memory, where the filter cannot check them: "
                         "libcs then fall back to clone"),
        "getrandom": forward(note="randomness from the Monitor"),
    },
)
