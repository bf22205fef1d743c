"""Sensible answers for system calls the shipped bases do not handle, each with its reason.

`xax-emu init` and `xax-emu trace --suggest` choose from this table when a program makes a
call its profile leaves missing.  An answer is one of:

- a fixed value or errno (``reject``): the article's failure-oblivious computing, chosen so
  that the program's observable behaviour stays what it would be on a real kernel;
- "native": the answer the program got natively, where claiming it is harmless (an identity
  change the picoprocess cannot make anyway: setuid(0) -> 0 only if the native run saw 0),
  else the default given here;
- none: no fixed answer keeps the behaviour (the call waits for fds, starts a timer, fills a
  structure the caller reads): the layer must emulate it, and until then it stays missing.

Calls that fill a caller's buffer are never claimed to succeed with a fixed answer: the
buffer would keep whatever was there.  They fail instead, as on a kernel without them,
which is what their callers check for.
"""
from __future__ import annotations

import errno as E
from dataclasses import dataclass

from .profile import Disposition, Identity, reject


@dataclass(frozen=True)
class Answer:
    errno: int | None = None   # reject(errno)
    value: int | None = None   # reject(value=...)
    native: bool = False       # the native answer where it is harmless (see native_answer), else errno/value
    reason: str = ""

    @property
    def fixed(self) -> bool:
        return self.errno is not None or self.value is not None

    def claim(self) -> str:
        if self.errno is not None:
            return f"fails with {E.errorcode[self.errno]}"
        if self.value is not None:
            return f"answers {self.value}"
        return "has no fixed answer"


def _err(code: int, reason: str) -> Answer:
    return Answer(errno=code, reason=reason)


def _val(value: int, reason: str) -> Answer:
    return Answer(value=value, reason=reason)


def _none(reason: str) -> Answer:
    return Answer(reason=reason)


_USER = Identity()
_BUFFER = "it fills a structure the caller reads; failing, as on a kernel without it, is what callers check for"
_WAIT = "it waits for events on fds or for time; a fixed answer would make the program spin or stall"

TABLE: dict[str, Answer] = {
    # Identity: the virtual user (groups and sessions: posix-core's pgrp family; getppid: processes).
    # (set*uid, set*gid, getgroups and setgroups are the bases' own: runtime_c/layer/sys_ids.c keeps the
    # virtual user's ids, has no supplementary groups and refuses to set any, as Linux without CAP_SETGID)
    "setfsuid": _val(_USER.uid, "the previous file-system uid: the virtual user's (nothing changes)"),
    "setfsgid": _val(_USER.gid, "the previous file-system gid: the virtual user's (nothing changes)"),
    "capget": _none(_BUFFER + ": the layer must write 'no capabilities'"),
    # Scheduling and priorities: the Monitor's business; the program's requests change nothing observable.
    "getpriority": _val(20, "nice 0, as the kernel reports it (20 - nice)"),
    "setpriority": _val(0, "scheduling priority is the Monitor's: accepted and ignored"),
    "sched_setaffinity": _val(0, "CPU placement is the Monitor's: accepted and ignored"),
    "sched_getscheduler": _val(0, "SCHED_OTHER, the default policy"),
    "sched_setscheduler": _err(E.EPERM, "no real-time scheduling for an unprivileged process"),
    "sched_get_priority_max": _val(0, "SCHED_OTHER's only priority"),
    "sched_get_priority_min": _val(0, "SCHED_OTHER's only priority"),
    "ioprio_get": _val(0, "the default I/O priority"),
    "ioprio_set": _val(0, "I/O priority is the Monitor's: accepted and ignored"),
    "personality": _val(0, "PER_LINUX, the only persona"),
    # Memory: advice and residency.
    "mincore": _err(E.ENOSYS, _BUFFER + " (the residency vector); callers assume the pages are there"),
    "mlock": _val(0, "nothing of a picoprocess is swapped out by it: locking is accepted"),
    "munlock": _val(0, "see mlock"),
    "mlockall": _val(0, "see mlock"),
    "munlockall": _val(0, "see mlock"),
    "msync": _val(0, "the picoprocess's file mappings are private copies: there is nothing to write back"),
    "mremap": _err(E.ENOMEM, "the mapping cannot be moved or grown in place: realloc then allocates anew and "
                             "copies"),
    "membarrier": _err(E.ENOSYS, "as on a kernel without it: callers fall back to their own barriers"),
    "mbind": _err(E.ENOSYS, "no NUMA: libnuma reports it unavailable"),
    "get_mempolicy": _err(E.ENOSYS, "no NUMA: libnuma reports it unavailable"),
    "set_mempolicy": _err(E.ENOSYS, "no NUMA: libnuma reports it unavailable"),
    "pkey_alloc": _err(E.ENOSPC, "no memory protection keys to hand out, as on a processor without them"),
    "memfd_create": _err(E.ENOSYS, "as on a kernel without it: callers fall back to a file in /tmp"),
    # Files: hints, file-system facts, metadata the RAM disk does not keep.
    "fadvise64": _val(0, "advice about caching only: ignoring it changes no result"),
    "readahead": _val(0, "advice about caching only: ignoring it changes no result"),
    "sync": _val(0, "nothing to flush: the image is read-only and the RAM disk is memory"),
    "syncfs": _val(0, "nothing to flush: the image is read-only and the RAM disk is memory"),
    "sync_file_range": _val(0, "nothing to flush: the image is read-only and the RAM disk is memory"),
    "flock": _val(0, "one picoprocess alone with its files: no one else holds a lock"),
    "statfs": _err(E.ENOSYS, _BUFFER + " (pathconf and file-system probes then use their defaults)"),
    "fstatfs": _err(E.ENOSYS, _BUFFER + " (pathconf and file-system probes then use their defaults)"),
    "fallocate": _err(E.EOPNOTSUPP, "not on this file system: posix_fallocate then writes the blocks itself"),
    "copy_file_range": _err(E.ENOSYS, "as on a kernel without it: callers copy with read and write"),
    "splice": _err(E.EINVAL, "not between these fds: callers copy with read and write"),
    "getxattr": _err(E.EOPNOTSUPP, "no extended attributes (ACLs, security labels) on the image's files"),
    "lgetxattr": _err(E.EOPNOTSUPP, "no extended attributes (ACLs, security labels) on the image's files"),
    "fgetxattr": _err(E.EOPNOTSUPP, "no extended attributes (ACLs, security labels) on the image's files"),
    "listxattr": _err(E.EOPNOTSUPP, "no extended attributes (ACLs, security labels) on the image's files"),
    "llistxattr": _err(E.EOPNOTSUPP, "no extended attributes (ACLs, security labels) on the image's files"),
    "flistxattr": _err(E.EOPNOTSUPP, "no extended attributes (ACLs, security labels) on the image's files"),
    "setxattr": _err(E.EOPNOTSUPP, "no extended attributes on the image's files"),
    "lsetxattr": _err(E.EOPNOTSUPP, "no extended attributes on the image's files"),
    "fsetxattr": _err(E.EOPNOTSUPP, "no extended attributes on the image's files"),
    # (chmod, fchmod and fchmodat are the bases' own: the vfs keeps a RAM file's mode)
    "fchown": _val(0, "one virtual user owns every file: giving it to that user changes nothing"),
    "chown": _val(0, "one virtual user owns every file: giving it to that user changes nothing"),
    "lchown": _val(0, "one virtual user owns every file: giving it to that user changes nothing"),
    "fchownat": _val(0, "one virtual user owns every file: giving it to that user changes nothing"),
    "utimensat": _val(0, "times are set by the RAM disk when it writes: the change is accepted, not kept"),
    "link": _err(E.EPERM, "no hard links on this file system: callers copy or rename instead"),
    "linkat": _err(E.EPERM, "no hard links on this file system: callers copy or rename instead"),
    "inotify_init1": _err(E.ENOSYS, "no file watching, as on a kernel without it: callers re-read instead"),
    "inotify_init": _err(E.ENOSYS, "no file watching, as on a kernel without it: callers re-read instead"),
    # Time and accounting.
    "times": _err(E.ENOSYS, _BUFFER + " (clock() does not use it)"),
    "getrusage": _err(E.ENOSYS, _BUFFER + " (the CPU time used; clock_gettime's CPU clocks still work)"),
    "clock_settime": _err(E.EPERM, "the clock is the host's"),
    "settimeofday": _err(E.EPERM, "the clock is the host's"),
    "getcpu": _err(E.ENOSYS, "as on a kernel without it: sched_getcpu then answers CPU 0's way"),
    # Processes (execve, wait4 and waitid are the processes family's: docs/processes.md).
    "pidfd_open": _err(E.ENOSYS, "as on a kernel without it"),
    # Timers and signal fds: the layer must do these (poll, select, epoll and eventfd it does:
    # sys_poll.c, and sendfile and socketpair: sys_net.c).
    "signalfd": _none(_WAIT), "signalfd4": _none(_WAIT),
    "timerfd_create": _none(_WAIT), "timerfd_settime": _none(_WAIT), "timerfd_gettime": _none(_WAIT),
    "alarm": _none("it delivers SIGALRM later: the layer must keep the timer"),
    "setitimer": _none("it delivers SIGALRM later: the layer must keep the timer"),
    "getitimer": _none(_BUFFER + ": the layer must keep the timer"),
    "timer_create": _none("it delivers a signal later: the layer must keep the timer"),
    "rt_sigtimedwait": _none(_WAIT), "pause": _none(_WAIT),  # rt_sigsuspend: the layer's (sigsuspend)
}


def answer_for(name: str) -> Answer | None:
    """The table's answer for a system call, or None if the table has no row for it."""
    return TABLE.get(name)


def _parse(native: str) -> tuple[int | None, int | None]:
    """A native answer as strace gave it ("0", "-EPERM") -> (errno, value)."""
    if native.startswith("-") and native[1:].isalpha():
        return getattr(E, native[1:], None), None
    try:
        return None, int(native)
    except ValueError:
        return None, None


def describe_natives(natives: dict[str, int]) -> str:
    """The native answers, said the same way on every run: errnos and 0 as they are, any other
    number (a pid, a clock tick, an fd) as "a number", whose value is the host's."""
    merged: dict[str, int] = {}
    for text, count in natives.items():
        key = text if text.startswith("-") or text in ("0", "?") else "a number"
        merged[key] = merged.get(key, 0) + count
    return ", ".join(f"{a} x{n}" for a, n in sorted(merged.items()))


def native_answer(answer: Answer, natives: dict[str, int] | None) -> tuple[int | None, int | None, str]:
    """(errno, value, what was chosen and why) for an Answer with native=True: the native answer if
    every native call got the same one and it is 0 or an errno, else the Answer's own."""
    if natives and len(natives) == 1:
        (text, count), = natives.items()
        code, value = _parse(text)
        if code is not None or value == 0:
            return code, value, f"the native answer on all {count} call(s)"
    why = (f"not one harmless native answer ({describe_natives(natives)})" if natives
           else "no native run to take the answer from")
    return answer.errno, answer.value, f"the default: {why}"


def disposition(name: str, natives: dict[str, int] | None = None, seen: str = "") -> Disposition | None:
    """The profile entry for `name` (a reject with a note saying what it claims and why), or
    None if no fixed answer keeps the behaviour or the table has no row."""
    answer = TABLE.get(name)
    if answer is None or not answer.fixed:
        return None
    code, value, chosen = (native_answer(answer, natives) if answer.native
                           else (answer.errno, answer.value, ""))
    claim = Answer(errno=code, value=value).claim()
    parts = [f"{claim}: {answer.reason}"] + ([chosen] if chosen else []) + ([seen] if seen else [])
    note = "; ".join(parts)
    return reject(code, note=note) if code is not None else reject(value=value, note=note)
