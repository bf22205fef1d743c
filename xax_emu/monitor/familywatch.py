"""The family as a whole (docs/processes.md): its memory and CPU summed from the kernel's own
accounts of each process, and what `xax-emu trace` shows of it (the process tree).

Every SAMPLE_SECONDS once the entry program has forked, the Monitor reads /proc/PID/stat of the
entry and of every member that said BORN (the kernel's numbers, never the process's word):

- memory: the resident set (field 24, pages) summed over the live processes.  Pages a fork
  shares copy-on-write count once in each process that maps them, as `ps` counts them: the sum
  may overstate, never understate.  Each process keeps RLIMIT_AS of the whole limit as well.
- CPU: user and system time (fields 14, 15) and those of the children each has waited for
  (16, 17) summed over the live processes (zombies included): a reaped process's time is in its
  parent's, so nothing the family spent is lost while a process that waited lives.  The sum
  kept is the highest seen.  Each process keeps RLIMIT_CPU of the whole limit as well.

Past either limit the family ends (its entry program is killed, and with it every member) with
one line naming the limit.  A member's exit status comes from the kernel too: PIDFD_GET_INFO on
its pidfd once its parent has reaped it (Linux 6.15), kept open until then.
"""
from __future__ import annotations

import fcntl
import os
import struct

from ..limits import size_text

SAMPLE_SECONDS = 0.1
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
PIDFD_INFO_EXIT = 1 << 3
PIDFD_INFO_SIZE = 64  # PIDFD_INFO_SIZE_VER0
PIDFD_GET_INFO = (3 << 30) | (PIDFD_INFO_SIZE << 16) | (0xFF << 8) | 11  # _IOWR(PIDFS_IOCTL_MAGIC, 11, ...)
EXIT_CODE_AT = 60  # struct pidfd_info: mask, cgroupid (u64 each), pid, tgid, ppid and 8 u32 ids, then exit_code
KEPT_PIDFDS_MAX = 256  # ended members' pidfds kept for their status, at most


def usage(pid: int) -> tuple[int, float] | None:
    """(resident bytes, CPU seconds of it and its reaped children) of a host process, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()  # fields[0] is field 3 (state)
    try:
        ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
        return int(fields[21]) * PAGE, ticks / TICKS
    except (IndexError, ValueError):
        return None


def exit_status(pidfd: int) -> int | None:
    """The wait status of the process behind `pidfd` once it has been reaped, else None."""
    buf = bytearray(struct.pack("<Q", PIDFD_INFO_EXIT) + bytes(PIDFD_INFO_SIZE - 8))
    try:
        fcntl.ioctl(pidfd, PIDFD_GET_INFO, buf, True)
    except OSError:
        return None
    if not struct.unpack_from("<Q", buf)[0] & PIDFD_INFO_EXIT:
        return None
    return struct.unpack_from("<i", buf, EXIT_CODE_AT)[0]


def sample(family) -> str | None:
    """Read the family's usage; the reason to end it if it is past a limit, else None."""
    resident, cpu, count = 0, 0.0, 0
    for proc in [family, *family.members.values()]:
        if proc.pid is None or getattr(proc, "ended", False):
            continue
        got = usage(proc.pid)
        if got is not None:
            resident += got[0]
            cpu += got[1]
            count += 1
    family.family_cpu = max(family.family_cpu, cpu)
    family.family_resident_peak = max(family.family_resident_peak, resident)
    limits = family.limits
    if limits.memory and resident > limits.memory:
        return (f"family memory limit of {size_text(limits.memory)} reached: its {count} processes held "
                f"{size_text(resident)} resident")
    if limits.cpu_seconds and family.family_cpu >= limits.cpu_seconds:
        return (f"family CPU time limit of {limits.cpu_seconds} s reached: its processes used "
                f"{family.family_cpu:.2f} s")
    check_statuses(family)
    return None


def keep_for_status(family, member, pidfd: int) -> None:
    """An ended member's pidfd, kept until its parent reaps it and the kernel tells its status."""
    status = exit_status(pidfd)
    if status is not None or len(family.status_pidfds) >= KEPT_PIDFDS_MAX:
        member.status = status
        os.close(pidfd)
        return
    family.status_pidfds[member.vpid] = (member, pidfd)


def check_statuses(family) -> None:
    for vpid, (member, pidfd) in list(family.status_pidfds.items()):
        status = exit_status(pidfd)
        if status is not None:
            member.status = status
            os.close(pidfd)
            del family.status_pidfds[vpid]


def close_statuses(family) -> None:
    check_statuses(family)
    for _, pidfd in family.status_pidfds.values():
        os.close(pidfd)
    family.status_pidfds.clear()


def current_program(proc) -> str:
    return proc.programs[-1] if proc.programs else proc.first_program


def tree(family, entry_status: int) -> list[dict]:
    """Every process the family had, in order of birth: virtual pid, parent, the programs it ran
    (the one it was forked running, then each it exec'd), its exit, its calls (trace mode)."""
    def describe(proc, parent, first: str, status) -> dict:
        exit_ = None
        if status is not None:
            exit_ = ({"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status)
                     else {"code": os.WEXITSTATUS(status)} if os.WIFEXITED(status) else None)
        return {"vpid": proc.vpid, "parent": parent, "programs": [first, *proc.programs], "exit": exit_,
                "calls": sum(proc.calls.values()), "syscalls": dict(proc.calls)}
    out = [describe(family, None, family.first_program, entry_status)]
    for member in family.every_member:
        out.append(describe(member, member.parent.vpid, member.first_program, member.status))
    return out
