"""Process groups and sessions of a family (PGRP, KILL to a group; docs/processes.md).

They are the family's own numbers, kept here and nowhere in the kernel: every process of the
family stays in the host session and group its entry program was started in (setsid and setpgid
never reach the kernel), so a family can never reach a terminal or a process group outside it.
The entry program leads its own group and session (both its virtual pid, as one picoprocess
always answered); a child starts in its parent's.  The checks are Linux's (kernel/sys.c), in its
order, over the family's processes only: a pid outside the family is ESRCH.
"""
from __future__ import annotations

import errno

from .. import protocol as p


def processes(family) -> list:
    """The family's live processes: the entry and the members that said BORN and have not ended."""
    return [family, *(m for m in family.members.values() if not m.ended)]


def by_vpid(family, vpid: int, zombies: bool = True):
    """The process `vpid` names, an ended one included (a zombie until its parent waits, as far
    as the Monitor knows: until its vpid is given again) unless `zombies` is False."""
    if vpid == family.vpid:
        return family
    member = family.members.get(vpid)
    if member is not None and not member.ended:
        return member
    return family.ended_members.get(vpid) if zombies else None


def getpgid(family, caller, pid: int) -> int:
    target = caller if pid == 0 else by_vpid(family, pid)
    return -errno.ESRCH if target is None else target.pgid


def getsid(family, caller, pid: int) -> int:
    target = caller if pid == 0 else by_vpid(family, pid)
    return -errno.ESRCH if target is None else target.sid


def setpgid(family, caller, pid: int, pgid: int) -> int:
    if pid == 0:
        pid = caller.vpid
    if pgid == 0:
        pgid = pid
    if pgid < 0:
        return -errno.EINVAL
    target = by_vpid(family, pid, zombies=False) if pid > 0 else None
    if target is None:
        return -errno.ESRCH
    if target is not caller:
        if target.parent is not caller:
            return -errno.ESRCH
        if target.sid != caller.sid:
            return -errno.EPERM
        if target.execed:
            return -errno.EACCES
    if target.sid == target.vpid:  # a session leader stays in its group
        return -errno.EPERM
    if pgid != pid and not any(q.pgid == pgid and q.sid == caller.sid for q in processes(family)):
        return -errno.EPERM
    target.pgid = pgid
    return 0


def setsid(family, caller) -> int:
    if any(q.pgid == caller.vpid for q in processes(family)):  # it leads a group (or one bears its number)
        return -errno.EPERM
    caller.sid = caller.pgid = caller.vpid
    return caller.vpid


def kill_targets(family, caller, chan: int) -> list | None:
    """The processes a KILL at `chan` names: one (a pid), a group (0: the caller's, -pgid), or
    everyone but the caller (-1); None if it names nobody of the family."""
    if chan > 0:
        target = by_vpid(family, chan, zombies=False)
        return None if target is None else [target]
    if chan == -1:
        found = [q for q in processes(family) if q is not caller]
    else:
        pgid = caller.pgid if chan == 0 else -chan
        found = [q for q in processes(family) if q.pgid == pgid]
    return found or None


PGRP_OPS = (p.PGRP_GETPGID, p.PGRP_GETSID, p.PGRP_SETPGID, p.PGRP_SETSID)
