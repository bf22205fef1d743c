"""The threads of a picoprocess that runs another program (EXEC): Linux's exec ends every other
thread of the process before the new program runs (the kernel's de_thread).  In a picoprocess
the PAL loads the new program in place, so the Monitor ends them: it signals each thread with
SIGBUS carrying EXEC_END_THREAD (rt_tgsigqueueinfo, which only a process's own threads or a
privileged sender can aim at a thread), and the PAL's fault handler ends a thread that gets it
while it runs the program's code (runtime_c/pal/fault.c); one inside the runtime lets it pass and
is ended by the layer when it next takes the layer's lock (runtime_c/layer/dispatch.c).

The layer asks again (EXEC_AGAIN) until no thread is left but itself and those it holds back.
The Monitor only ever signals threads of the picoprocess that asked: its own host pid's tasks.
"""
from __future__ import annotations

import ctypes
import os
import signal

from .. import protocol as p

SYS_RT_TGSIGQUEUEINFO = 297  # x86-64 <asm/unistd_64.h>: the Monitor runs on the same machine as its picoprocesses
SI_QUEUE = -1                # <asm-generic/siginfo.h>: sent with a value (the kernel allows it from another process)


class _SigInfo(ctypes.Structure):
    """siginfo_t for SI_QUEUE on x86-64: signo, errno, code, (padding), pid, uid, value; 128 bytes."""
    _fields_ = [("signo", ctypes.c_int), ("errno", ctypes.c_int), ("code", ctypes.c_int), ("pad", ctypes.c_int),
                ("pid", ctypes.c_int), ("uid", ctypes.c_uint), ("value", ctypes.c_uint64),
                ("rest", ctypes.c_byte * (128 - 32))]


_libc = ctypes.CDLL(None, use_errno=True)


def thread_ids(pid: int) -> list[int]:
    """The host tids of a process's running threads (none if it is gone).  A thread that has
    ended but is listed still is left out: the main thread, when another thread execs, stays a
    zombie until the whole process ends (the kernel's exec would have given its pid to the
    thread that execs; here the process keeps its pid and the zombie costs nothing)."""
    try:
        names = [n for n in os.listdir(f"/proc/{pid}/task") if n.isdigit()]
    except OSError:
        return []
    return [int(n) for n in names if _task_state(pid, n) not in ("Z", "X", None)]


def _task_state(pid: int, tid: str) -> str | None:
    try:
        with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2:].split()[0].decode()


def end_threads(pid: int) -> int:
    """Signal every thread of host process `pid` to end (the caller of EXEC among them, which
    lets it pass); return how many threads it has (the caller included)."""
    tids = thread_ids(pid)
    info = _SigInfo(signo=signal.SIGBUS, code=SI_QUEUE, pid=os.getpid(), uid=os.getuid(), value=p.EXEC_END_THREAD)
    for tid in tids:
        # ESRCH: it ended meanwhile; nothing else can fail for a tid of our own child's process.
        _libc.syscall(SYS_RT_TGSIGQUEUEINFO, ctypes.c_long(pid), ctypes.c_long(tid),
                      ctypes.c_long(signal.SIGBUS), ctypes.byref(info))
    return len(tids)
