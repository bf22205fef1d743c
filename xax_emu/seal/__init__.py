"""The seal: the seccomp filter built from the allowlist with libseccomp.

The Monitor builds the filter (raw BPF) once and hands it to the trusted boot
block in the BOOT message; the boot block installs it last, after closing
every fd but the channel.

In trace mode the BOOT message also carries the kernel-counting filter
(`notify_filter_bpf`), which the boot block installs just before the seal: it
answers SECCOMP_RET_USER_NOTIF for every allowlisted system call and ALLOW for
the rest.  The kernel runs both filters and takes the most restrictive answer
(KILL > TRAP > ERRNO > USER_NOTIF > TRACE > LOG > ALLOW), so a call the seal
traps or kills still traps or is killed, and only a call the seal allows
becomes a notification, which the Monitor counts and lets continue
(seal/notify.py).  It widens nothing: the set is derived from the allowlist.
"""
from __future__ import annotations

import functools

from ..errors import SealError
from . import _libseccomp as sc
from .allowlist import ALL64, CHANNEL_FD, ALLOWLIST, EXAMPLE_PID, EXAMPLE_SIGACTION_BUFFER, Entry, allowed_names, allowlist_for, entry

__all__ = ["ALLOWLIST", "EXAMPLE_SIGACTION_BUFFER", "Entry", "allowed_names", "allowlist_for", "entry", "filter_bpf",
           "filter_pfc", "allowed_numbers", "notified_numbers", "notify_filter_bpf", "notify_filter_pfc", "syscall_number"]


def syscall_number(name: str) -> int:
    nr = sc.lib().seccomp_syscall_resolve_name(name.encode())
    if nr < 0:
        raise SealError(f"libseccomp does not know the system call {name!r}")
    return nr


def _build(ctx, entries) -> None:
    lib = sc.lib()
    # A call from another ABI (i386 via int 0x80, 32-bit mode) kills the process.
    sc.check(lib.seccomp_attr_set(ctx, sc.ATTR_ACT_BADARCH, sc.ACT_KILL_PROCESS), "setting the bad-arch action")
    # The boot block sets no_new_privs itself (and checks it), before the filter.
    sc.check(lib.seccomp_attr_set(ctx, sc.ATTR_CTL_NNP, 0), "clearing the NNP attribute")
    for e in entries:
        nr = syscall_number(e.syscall)
        for rule in e.rules():
            cmps = sc.ffi.new("struct scmp_arg_cmp[]", max(1, len(rule.checks)))
            for i, c in enumerate(rule.checks):
                cmps[i].arg = c.index
                cmps[i].op = sc.CMP_MASKED_EQ
                cmps[i].datum_a = c.mask
                cmps[i].datum_b = c.value
            sc.check(lib.seccomp_rule_add_exact_array(ctx, sc.ACT_ALLOW, nr, len(rule.checks), cmps),
                     f"adding the rule for {e.syscall}")


def _runtime_only(e: Entry, sigaction_buffer: int) -> bool:
    """Every form of the entry names what only the runtime uses: the channel's fd (which the
    layer never hands out as one of the program's fds: vfs_reserve_fd) or the sigaction buffer
    (a page at a random address that only the PAL writes)."""
    def pins(form) -> bool:
        return any((c.index == 0 and c.value == CHANNEL_FD) or (c.index == 1 and c.value == sigaction_buffer
                                                                and c.mask == ALL64) for c in form)
    return bool(e.forms) and all(pins(form) for form in e.forms)


@functools.lru_cache(maxsize=8)
def allowed_numbers(threads: bool = True, export_ram: bool = False) -> tuple[int, ...]:
    """The system calls the filter allows in some form a program may use, sorted: a site making
    one of them is never rewritten (runtime_c/pal/rewrite.c), since the filter lets such calls
    through to the kernel, which a direct call of the layer would not.  Left out: calls allowed
    only in forms that name what only the runtime uses (read and write on the channel,
    rt_sigaction from the sigaction buffer).  Only hostile code makes those, and a rewritten
    site then answers it from the layer (EBADF; the program's own action installed through the
    buffer) — no more than the filter lets it do anyway."""
    entries = allowlist_for(EXAMPLE_SIGACTION_BUFFER, threads, EXAMPLE_PID, export_ram)
    return tuple(sorted({syscall_number(e.syscall) for e in entries
                         if not _runtime_only(e, EXAMPLE_SIGACTION_BUFFER)}))


@functools.lru_cache(maxsize=64)
def filter_bpf(sigaction_buffer: int = EXAMPLE_SIGACTION_BUFFER, threads: bool = True,
               own_pid: int = EXAMPLE_PID, export_ram: bool = False, processes: bool = False) -> bytes:
    """The filter as raw BPF (struct sock_filter[]), default action TRAP, for a
    picoprocess whose sigaction buffer is at `sigaction_buffer`, which may (or
    may not) start threads, whose pid is `own_pid`, and whose RAM disks are (or
    are not) exported at exit."""
    with sc.filter_context(sc.ACT_TRAP) as ctx:
        _build(ctx, allowlist_for(sigaction_buffer, threads, own_pid, export_ram, processes))
        return sc.export(ctx)


def filter_pfc(sigaction_buffer: int = EXAMPLE_SIGACTION_BUFFER, threads: bool = True,
               own_pid: int = EXAMPLE_PID, export_ram: bool = False, processes: bool = False) -> str:
    """The same filter in libseccomp's readable pseudo-filter-code form."""
    with sc.filter_context(sc.ACT_TRAP) as ctx:
        _build(ctx, allowlist_for(sigaction_buffer, threads, own_pid, export_ram, processes))
        return sc.export(ctx, pfc=True).decode()


def notified_numbers() -> frozenset[int]:
    """The system calls the kernel-counting filter turns into notifications: every
    allowlisted one (by number; the seal's argument checks still decide)."""
    return frozenset(syscall_number(name) for name in allowed_names())


def _build_notify(ctx) -> None:
    lib = sc.lib()
    # Another ABI is killed by the seal anyway; kill it here too rather than let it through.
    sc.check(lib.seccomp_attr_set(ctx, sc.ATTR_ACT_BADARCH, sc.ACT_KILL_PROCESS), "setting the bad-arch action")
    sc.check(lib.seccomp_attr_set(ctx, sc.ATTR_CTL_NNP, 0), "clearing the NNP attribute")
    for nr in sorted(notified_numbers()):
        sc.check(lib.seccomp_rule_add_exact_array(ctx, sc.ACT_NOTIFY, nr, 0, sc.ffi.NULL),
                 f"adding the notify rule for system call {nr}")


@functools.lru_cache(maxsize=1)
def notify_filter_bpf() -> bytes:
    """The kernel-counting filter as raw BPF: USER_NOTIF for the allowlisted system
    calls, ALLOW for every other one (the seal, installed after it, decides those)."""
    with sc.filter_context(sc.ACT_ALLOW) as ctx:
        _build_notify(ctx)
        return sc.export(ctx)


def notify_filter_pfc() -> str:
    with sc.filter_context(sc.ACT_ALLOW) as ctx:
        _build_notify(ctx)
        return sc.export(ctx, pfc=True).decode()
