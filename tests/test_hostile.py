"""The hostile suite: one small C program per attack.  Each test proves that
nothing outside was reached (the canary stays unread and unchanged, the
loopback listener accepts nothing) and that the Monitor stays up.

Results printed by the programs are the values the attempts got back: -38 is
-ENOSYS, the layer's answer to a call it has no handler for; the layer's VFS
answers path and fd calls itself (the default profile has no routes, so every
host path is -ENOENT and every fd but 0-2 is -EBADF).  Where the answer alone
would not prove that the layer gave it, the Monitor's trace (trace_all=True)
shows the call reached the layer."""
import errno
import os
import re
import signal
import socket
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from hostile_support import hostile, parse
from xax_emu import protocol as p
from xax_emu.monitor import Limits, Monitor
from xax_emu.seal import ALLOWLIST
from xax_emu.syscalls import catalogue

ENOSYS = -errno.ENOSYS
EBADF, EINVAL, ENOMEM, EAGAIN = -errno.EBADF, -errno.EINVAL, -errno.ENOMEM, -errno.EAGAIN
ENOENT, ENODEV, EPERM = -errno.ENOENT, -errno.ENODEV, -errno.EPERM
ETIMEDOUT, ENXIO = -errno.ETIMEDOUT, -errno.ENXIO
MISSING, EMULATED, REJECTED, FORWARDED, EMULATED_FAILED = (p.TRACE_MISSING, p.TRACE_EMULATED, p.TRACE_REJECTED,
                                                      p.TRACE_FORWARDED, p.TRACE_EMULATED_FAILED)
TESTS = Path(__file__).resolve().parent
# The kernel's uapi headers (linux/, asm/), for the flag values musl does not define.
UAPI = ["-idirafter", "/usr/include", "-idirafter", "/usr/include/x86_64-linux-gnu"]


def nr(name: str) -> int:
    """A syscall number, from the catalogue generated from the kernel's headers."""
    return catalogue.by_name(name).nr


def folded(trace: Counter) -> Counter:
    """The trace with "emulated, answered an error" counted as emulated: these tests
    ask whether a call reached the layer, and check its answer separately."""
    out = Counter()
    for (n, k), c in trace.items():
        out[(n, EMULATED if k == EMULATED_FAILED else k)] += c
    return out


def traced(r, kind: int) -> dict[str, int]:
    """How many times each named syscall reached the layer with this disposition."""
    return {catalogue.by_number(n).name: c for (n, k), c in folded(r.report.trace).items() if k == kind and n >= 0}


def assert_missing(r, expected: dict[str, int]) -> None:
    """The -ENOSYS answers came from the layer: exactly these calls were trapped and
    found no handler (the program's own libc makes none)."""
    assert traced(r, MISSING) == expected




def test_path_calls_reach_no_host_file(build, tmp_path):
    """open, openat (read, read-write-truncate, create beside it), stat, newfstatat,
    statx, access, readlink, chmod and unlink of the canary's host path: the layer's
    VFS answers -ENOENT (no route covers a host path; the kernel would have opened,
    found or changed the existing file).  Every one of them was trapped: the trace
    shows each reaching the layer."""
    r = hostile(build, tmp_path, "open_host_file.c", trace_all=True)
    assert r.code == 0
    assert parse(r.stdout) == {
        "open": ENOENT, "openat": ENOENT, "openat_rdwr": ENOENT, "creat": ENOENT, "stat": ENOENT,
        "newfstatat": ENOENT, "statx": ENOENT, "access": ENOENT, "readlink": ENOENT, "chmod": ENOENT,
        "unlink": ENOENT,
    }
    emulated = traced(r, EMULATED)
    path_calls = {"open": 1, "openat": 3, "stat": 1, "newfstatat": 1, "statx": 1, "access": 1, "readlink": 1,
                  "chmod": 1, "unlink": 1}
    assert {n: emulated.get(n, 0) for n in path_calls} == path_calls
    assert_missing(r, {})


def test_network_is_unreachable(build, tmp_path):
    """socket of every family, connect/bind/sendto/listen/accept on the channel and fd 0
    (towards the test's loopback listener), socketpair: all -ENOSYS from the layer."""
    r = hostile(build, tmp_path, "network.c")
    assert r.code == 0
    attempts = ["socket_inet", "socket_inet6", "socket_unix", "socket_netlink", "socket_packet", "connect_chan",
                "connect_fd0", "connect_chan_junk", "sendto_chan", "sendmsg_chan", "bind_chan", "bind_inet",
                "listen_chan", "accept_chan", "socketpair"]
    assert parse(r.stdout) == {**{n: ENOSYS for n in attempts}, "pair_untouched": 1}
    assert_missing(r, {"socket": 5, "connect": 3, "sendto": 1, "sendmsg": 1, "bind": 2, "listen": 1, "accept": 1,
                       "socketpair": 1})


def test_exec_is_impossible(build, tmp_path):
    """execve/execveat of /bin/sh (a command that would read the canary and create a
    file beside it), by path, by fd, and with junk above the syscall number."""
    r = hostile(build, tmp_path, "exec.c")
    assert r.code == 0
    assert parse(r.stdout) == {n: ENOSYS for n in
                               ["execve", "execve_junk", "execveat", "execveat_fd0", "execveat_chan"]}
    # The exec family answers ENOSYS itself while processes are not enabled (the default); with
    # them, a host path is not in the image (tests/test_processes.py: ENOENT).
    assert_missing(r, {})


def test_no_second_process_or_thread(build, tmp_path):
    """fork, vfork, clone (process, shared-memory process, a thread without
    pthread_create's exact flags), clone3 (process, thread): refused, all with -ENOSYS
    (a permanent failure: EAGAIN would be retried), and no child ran: it would have set
    the shared flag or sent the Monitor a TRACE for number 1000+i, and the FUTEX_WAIT
    on the flag timed out."""
    r = hostile(build, tmp_path, "spawn.c", extra=UAPI, trace_all=True)
    assert r.code == 0
    assert parse(r.stdout) == {"fork": ENOSYS, "vfork": ENOSYS, "clone_process": ENOSYS, "clone_vm_process": ENOSYS,
                               "clone_thread": ENOSYS, "clone3_process": ENOSYS, "clone3_thread": ENOSYS,
                               "fork_junk": ENOSYS, "wait": ETIMEDOUT, "flag": 0}
    assert_missing(r, {})
    # clone3 is rejected by the profile; fork, vfork and clone are the processes family's, which
    # answers ENOSYS itself while processes are not enabled (--processes 1, the default).
    assert traced(r, REJECTED) == {"clone3": 2}
    assert {k: v for k, v in traced(r, EMULATED).items() if k in ("clone", "fork", "vfork")} == \
        {"clone": 3, "fork": 2, "vfork": 1}
    assert not [key for key in r.report.trace if 1000 <= key[0] < 1008], r.report.trace


@pytest.mark.parametrize("limit", [8, 3])
def test_threads_are_sealed_and_counted(build, tmp_path, limit):
    """The one form of clone the filter lets through (pthread_create's flags) makes a
    thread that is as sealed as its parent: its raw openat of the canary and connect to
    the listener trap to the layer (ENOENT: not in the picoprocess's files; ENOSYS: the
    default profile has no sockets).  The same flags plus any other bit trap and are refused (-ENOSYS, the
    processes family's answer to every clone that is not a fork) with no child run.  A thread bomb stops at the Monitor's limit (the first thread counts):
    the kernel answers EAGAIN from RLIMIT_NPROC in the picoprocess's own user namespace."""
    r = hostile(build, tmp_path, "threads.c", [str(limit)], extra=UAPI, trace_all=True,
                limits=Limits(wall_seconds=30, threads=limit))
    got = parse(r.stdout)
    assert r.code == 0, r.stderr
    assert (got["thread"], got["thread_done"]) == (1, 1)
    assert (got["thread_open"], got["thread_connect"]) == (ENOENT, ENOSYS)
    plus = {k: v for k, v in got.items() if k.startswith(("plus_", "minus_"))}
    assert len(plus) == 14 and set(plus.values()) == {ENOSYS}, plus
    assert got["ran"] == 0
    assert got["bomb_made"] == limit - 1 and got["bomb_stopped_by"] == EAGAIN
    assert traced(r, EMULATED)["clone"] == 14  # the processes family's: ENOSYS for every non-fork form


def test_with_a_thread_limit_of_one_clone_never_reaches_the_kernel(build, tmp_path):
    """--threads 1: the filter has no clone entry at all; pthread_create's flags trap too, and
    get the profile's answer to a trapped clone (-ENOSYS)."""
    r = hostile(build, tmp_path, "threads.c", ["1"], extra=UAPI, trace_all=True,
                limits=Limits(wall_seconds=30, threads=1))
    got = parse(r.stdout)
    assert (got["thread"], got["bomb_made"], got["bomb_stopped_by"], got["ran"]) == (0, 0, ENOSYS, 0)
    assert traced(r, EMULATED)["clone"] == 1 + 14 + 1


def test_other_processes_are_out_of_reach(build, tmp_path):
    """ptrace, process_vm_readv/writev, kill/tkill/tgkill/rt_sigqueueinfo, pidfd_* at the
    Monitor (the test process: kill(monitor, 0) is a permission probe), at a sacrificial
    `sleep` (SIGKILL) and at everyone (kill(-1)): the victim lives.  kill and tgkill reach
    the kernel only at the picoprocess's own pid (allowlist), so these trap: the layer
    answers ESRCH (nobody else exists for it); tkill becomes tgkill in its own thread
    group, where the kernel finds no such thread (ESRCH); the rest -ENOSYS."""
    victim = subprocess.Popen(["sleep", "60"])
    try:
        r = hostile(build, tmp_path, "other_processes.c", [str(os.getpid()), str(victim.pid)], trace_all=True)
        assert victim.poll() is None, "the victim was killed"
    finally:
        victim.kill()
        victim.wait()
    assert r.code == 0
    attempts = ["ptrace_attach_monitor", "ptrace_seize_victim", "ptrace_traceme", "process_vm_readv",
                "process_vm_writev", "rt_sigqueueinfo_victim", "pidfd_open_monitor", "pidfd_send_signal",
                "pidfd_getfd"]
    signals = ["kill_monitor_probe", "kill_victim", "kill_group", "kill_everyone", "kill_victim_junk",
               "tkill_victim", "tgkill_victim"]
    # getppid is the processes family's: the entry program's parent is outside, answered 1 (init's
    # number), never the Monitor's host pid.
    assert parse(r.stdout) == {**{n: ENOSYS for n in attempts}, **{n: -errno.ESRCH for n in signals},
                               "getppid": 1}
    assert_missing(r, {"ptrace": 3, "process_vm_readv": 1, "process_vm_writev": 1, "rt_sigqueueinfo": 1,
                       "pidfd_open": 1, "pidfd_send_signal": 1, "pidfd_getfd": 1})
    assert {k: v for k, v in traced(r, EMULATED).items() if "kill" in k} == {"kill": 5, "tkill": 1, "tgkill": 1}


def test_no_privilege_and_no_way_to_loosen_the_seal(build, tmp_path):
    """unshare, setns, io_uring, memfd, prctl (dumpable, seccomp, parent-death signal),
    personality, seccomp (allow-all filter, strict), bpf, perf_event_open, userfaultfd,
    mount, chroot, pivot_root, reboot, set*id, capset; then the canary again."""
    r = hostile(build, tmp_path, "privileged.c", trace_all=True, extra=UAPI)
    assert r.code == 0
    attempts = ["unshare_user", "unshare_files", "setns", "io_uring_setup", "memfd_create", "personality",
                "personality_query", "seccomp_filter", "seccomp_strict", "bpf", "perf_event_open", "userfaultfd",
                "mount", "umount2", "chroot", "pivot_root", "reboot", "capset"]
    # prctl is the layer's: setting anything is EINVAL; PR_GET_SECCOMP tells the truth (filter mode).
    # open_after: the canary's host path, -ENOENT from the layer's VFS (no route covers it).
    # set*id are the layer's (sys_ids.c): the virtual user is fixed, uid 0 is not one of its ids: EPERM.
    assert parse(r.stdout) == {**{n: ENOSYS for n in attempts}, "open_after": ENOENT, "prctl_get_seccomp": 2,
                               **{n: EPERM for n in ("setuid", "setresuid", "setgid")},
                               **{n: EINVAL for n in ("prctl_dumpable", "prctl_seccomp_strict",
                                                      "prctl_seccomp_filter", "prctl_pdeathsig")}}
    assert traced(r, EMULATED)["prctl"] == 5  # errors included (folded)
    assert_missing(r, {"unshare": 2, "setns": 1, "io_uring_setup": 1, "memfd_create": 1,
                       "personality": 2, "seccomp": 2, "bpf": 1, "perf_event_open": 1, "userfaultfd": 1, "mount": 1,
                       "umount2": 1, "chroot": 1, "pivot_root": 1, "reboot": 1, "capset": 1})
    assert {n: traced(r, EMULATED)[n] for n in ("setuid", "setresuid", "setgid")} == \
        {"setuid": 1, "setresuid": 1, "setgid": 1}
    assert traced(r, EMULATED)["openat"] == 1  # the last openat still reached the layer


def test_no_fd_but_the_channel_and_stdio(build, tmp_path):
    """read/write on fds that do not exist and on stdio in the wrong direction: -EBADF
    from the layer (the trace proves every read and write was trapped: none is on the channel's fd).
    Junk above an fd is truncated as the kernel does: 1|(1<<32) is stdout, 2|(..) is
    stderr, 0|(..) is stdin.  Copying or reconfiguring the channel (dup*, fcntl,
    ioctl, close, close_range, pread/pwrite, sendfile, splice) fails, and the
    channel still works afterwards: the layer's VFS knows no fd of its number (-EBADF, where the
    kernel would have copied the socket or said -ESPIPE, and for sendfile), close_range over it
    closes nothing (0: no fd of the program is open there) and splice has no handler (-ENOSYS);
    the trace shows each one trapped."""
    r = hostile(build, tmp_path, "fds.c", stdin=b"hello-stdin", trace_all=True)
    assert r.code == 0
    assert parse(r.stdout) == {
        "write_fd4": EBADF, "write_fd_minus1": EBADF, "read_fd5_junk": EBADF, "read_fd1": EBADF, "write_fd0": EBADF,
        "write_stdout_junk": 29, "write_stderr_junk": 34, "read_stdin_junk": len(b"hello-stdin"),
        "readv_chan": EBADF, "writev_chan": EBADF, "pread_chan": EBADF, "pwrite_chan": EBADF, "sendfile": EBADF,
        "splice": ENOSYS, "dup_chan": EBADF, "dup2_chan": EBADF, "dup3_chan": EBADF, "fcntl_dupfd_chan": EBADF,
        "fcntl_setfl_chan": EBADF, "ioctl_fionbio_chan": EBADF, "close_chan": EBADF, "close_range": 0,
        "still_served": 1,
    }
    assert b"written through fd 1|(1<<32)\n" in r.stdout
    assert b"stdin said: hello-stdin\n" in r.stdout
    assert r.stderr == b"written through fd 2|(0xdead<<32)\n"
    emulated = traced(r, EMULATED)
    assert (emulated["write"], emulated["read"]) == (5, 3)  # every raw write and read of the program
    assert (emulated["close"], emulated["fcntl"]) == (1, 2) and emulated["ioctl"] >= 1
    assert {n: emulated.get(n, 0) for n in ("readv", "pread64", "pwrite64", "dup", "dup2", "dup3")} == {
        "readv": 1, "pread64": 1, "pwrite64": 1, "dup": 1, "dup2": 1, "dup3": 1}
    assert emulated["writev"] >= 1  # the program's writev(3), among libc's writev(1) of its stdout
    assert emulated.get("sendfile") == 1 and emulated.get("close_range") == 1
    assert_missing(r, {"splice": 1})


def test_garbage_on_the_channel_is_a_protocol_violation(build, tmp_path):
    """write(3|(junk<<32), garbage): the fd truncates to the channel, so the Monitor
    receives bytes that are not a message: it kills this picoprocess (and serves the
    next one: hostile() checks)."""
    r = hostile(build, tmp_path, "channel_garbage.c")
    assert (r.report.signal, r.code) == (signal.SIGKILL, 128 + signal.SIGKILL), r.report
    assert r.report.reason.startswith("protocol violation"), r.report.reason
    assert r.stdout == b"before = 1\n"


def test_mmap_only_private_anonymous_memory(build, tmp_path):
    """File mappings of the channel and of stdin: the layer's VFS knows no fd of the channel's number
    (-EBADF, for private and shared mappings alike: as Linux, the fd is checked
    first), stdin is no regular file (-ENODEV); huge pages: -ENOMEM; unknown
    flag or prot bits (upper 32 bits too), MAP_LOCKED, unknown shared-validate flags:
    -EINVAL.  Shared anonymous memory (even naming the channel's fd) becomes private memory that
    works.  Every mmap but the plain private one was trapped (14 reached the layer)."""
    r = hostile(build, tmp_path, "mmap.c", trace_all=True, extra=UAPI)
    assert r.code == 0
    assert parse(r.stdout) == {
        "file_chan_private": EBADF, "file_chan_shared": EBADF, "file_stdin_private": ENODEV,
        "file_stdin_shared_validate": ENODEV, "hugetlb": ENOMEM, "hugetlb_2mb": ENOMEM, "flags_upper_bit": EINVAL,
        "flags_upper_bits_shared": EINVAL, "prot_upper_bit": EINVAL, "prot_sem": EINVAL, "locked": EINVAL,
        "shared_validate_unknown": EINVAL, "shared_anon_ok": 1, "shared_anon_zeroed": 1, "shared_anon_usable": 1,
        "shared_anon_munmap": 0, "shared_validate_anon_ok": 1, "private_anon_ok": 1, "mremap": ENOSYS,
        "remap_file_pages": ENOSYS, "mbind": ENOSYS, "mlock": ENOSYS,
    }
    assert traced(r, EMULATED)["mmap"] == 14
    assert_missing(r, {"mremap": 1, "remap_file_pages": 1, "mbind": 1, "mlock": 1})


def test_futex_only_wait_and_wake(build, tmp_path):
    """PI futex operations are trapped (-ENOSYS; the PI word is untouched), junk above
    the op included.  Wait, wake, requeue and wake-op give the kernel's answers:
    -EAGAIN on a non-matching value, -ETIMEDOUT after the timeout, 0 woken or
    requeued, wake-op's store in the program's own word, -EFAULT for a kernel address.
    Only their private forms reach the kernel: the seven shared ones trap, and the PAL
    answers them (tests/test_hostile_shared.py shows why)."""
    r = hostile(build, tmp_path, "futex.c", extra=UAPI, trace_all=True)
    assert r.code == 0
    trapped = ["lock_pi", "lock_pi_private", "lock_pi_junk", "lock_pi2", "trylock_pi", "unlock_pi",
               "cmp_requeue_pi", "wait_requeue_pi"]
    assert parse(r.stdout) == {**{n: ENOSYS for n in trapped}, "pi_word": 0, "wait_nonmatching": EAGAIN,
                               "wait_matching_timeout": ETIMEDOUT, "wait_bitset_nonmatching": EAGAIN,
                               "wake_junk": 0, "requeue": 0, "requeue_kernel_address": -errno.EFAULT,
                               "cmp_requeue": 0, "cmp_requeue_nonmatching": EAGAIN, "wake_op": 0, "word2": 7,
                               "wake_op_kernel_address": -errno.EFAULT}
    assert_missing(r, {})
    assert traced(r, REJECTED) == {"futex": len(trapped)}  # the profile's ENOSYS, as without PI futexes
    shared = ["requeue", "cmp_requeue", "cmp_requeue_nonmatching", "wake_op", "wait_nonmatching",
              "wait_bitset_nonmatching", "wake_junk"]
    assert traced(r, EMULATED)["futex"] == len(shared)  # made private by the PAL


def test_no_sigsys_of_its_own_swallows_a_trap(build, tmp_path):
    """The kernel queues one SIGSYS per thread: one the program sent itself, pending when a
    call traps, would swallow the trap's, and the call would return its own number
    unanswered (before this was closed: tens of thousands of wrong answers out of 100000).
    A thread makes trapped getpid calls (100 each) while another sends it SIGSYS through
    the layer and by hand at the host pid.  The filter refuses kill and tgkill of SIGSYS
    (by hand they trap, and the layer finds no such pid: -ESRCH); the layer delivers the
    program's SIGSYS itself (ignored here, as the program asked).  Every call is answered."""
    r = hostile(build, tmp_path, "self_sigsys.c", extra=UAPI)
    assert (r.code, r.report.reason) == (0, None)
    assert parse(r.stdout) == {"ignore": 0, "host_pid_found": 1, "direct_tgkill": -errno.ESRCH,
                               "direct_kill": -errno.ESRCH, "layer_tgkill": 0, "layer_tkill": 0, "layer_kill": 0,
                               "made": 100000, "wrong": 0}


def test_madvise_only_own_paging(build, tmp_path):
    """MADV_HWPOISON (also with junk above the int), MADV_SOFT_OFFLINE, MADV_MERGEABLE
    and other advice not on the list are trapped, and the page is intact; MADV_DONTNEED
    is the kernel's: 0 and the page reads back as zeros, junk above the int included."""
    r = hostile(build, tmp_path, "madvise.c", extra=UAPI)
    assert r.code == 0
    trapped = ["hwpoison", "hwpoison_junk", "soft_offline", "mergeable", "remove", "dontfork", "wipeonfork",
               "pageout", "collapse", "process_madvise"]
    assert parse(r.stdout) == {**{n: ENOSYS for n in trapped}, "page_intact": 1, "dontneed": 0,
                               "dontneed_zeroed": 1, "other_page_intact": 1, "dontneed_junk": 0,
                               "dontneed_junk_zeroed": 1}
    assert_missing(r, {"madvise": 9, "process_madvise": 1})


def test_clock_gettime_only_own_clocks(build, tmp_path):
    """Another process's CPU clock (init's, the Monitor's), the own thread's CPU clock,
    CLOCK_TAI and a process clock id with junk above the int are trapped and the
    buffer untouched; CLOCK_MONOTONIC and CLOCK_REALTIME work (with junk above too)."""
    r = hostile(build, tmp_path, "clocks.c", [str(os.getpid())])
    assert r.code == 0
    trapped = ["init_cpu", "monitor_cpu", "monitor_cpu_prof", "self_thread_cpu", "monitor_cpu_junk", "tai"]
    assert parse(r.stdout) == {
        **{n: ENOSYS for n in trapped}, "untouched": 1,
        "getres_monitor": EINVAL,  # the layer's clock_getres: own clocks only
        "settime": ENOSYS, "adjtime": ENOSYS,
        "nanosleep": 0,  # the layer's clock_nanosleep (a futex wait), zero timeout
        "monotonic": 0, "monotonic_set": 1, "monotonic_junk": 0, "monotonic_advances": 1, "realtime": 0,
        "realtime_plausible": 1,
    }
    assert_missing(r, {"clock_gettime": len(trapped), "clock_settime": 1, "clock_adjtime": 1})


def test_arch_prctl_only_fs_and_gs(build, tmp_path):
    """CPUID faulting, vDSO mapping, AMX permissions, shadow stacks, LAM, code 0 and a
    code with junk above the int are trapped; GET_FS (junk above included), SET_FS to
    the same value and GET_GS are the kernel's."""
    r = hostile(build, tmp_path, "arch_prctl.c", extra=UAPI)
    assert r.code == 0
    trapped = ["get_cpuid", "set_cpuid", "map_vdso_64", "map_vdso_32", "map_vdso_x32", "get_xcomp_supp",
               "req_xcomp_perm", "shstk_enable", "lam_enable", "code_junk", "code_zero"]
    assert parse(r.stdout) == {**{n: ENOSYS for n in trapped}, "untouched": 1, "get_fs": 0, "fs_is_tp": 1,
                               "get_fs_junk": 0, "fs_junk_is_tp": 1, "set_fs_same": 0, "get_gs": 0,
                               "gs_is_zero": 1}
    assert_missing(r, {"arch_prctl": len(trapped)})


MUNMAP_MPROTECT = {
    "mprotect_rwx": 0, "ran_own_code": 1, "mprotect_unknown_bit": EINVAL, "mprotect_upper_bit": EINVAL,
    "mprotect_growsdown": EINVAL, "mprotect_unaligned": EINVAL, "mprotect_sem": 0, "munmap_unaligned": EINVAL,
    "munmap_zero_len": EINVAL, "munmap_noncanonical": EINVAL, "munmap_second_page": 0, "first_page_intact": 1,
    "pkey_mprotect": ENOSYS,
}


def test_munmap_mprotect_only_touch_own_memory(build, tmp_path):
    """munmap and mprotect are allowed outright: they answer as the kernel does (never
    trapped: no trace), pkey_mprotect is not allowed."""
    r = hostile(build, tmp_path, "munmap_mprotect.c", ["keep"], trace_all=True, extra=UAPI)
    assert r.code == 0
    assert parse(r.stdout) == MUNMAP_MPROTECT
    assert not {nr("munmap"), nr("mprotect")} & {n for n, _ in r.report.trace}
    assert_missing(r, {"pkey_mprotect": 1})


def test_unmapping_everything_only_kills_itself(build, tmp_path):
    """munmap of the whole address space (program, PAL, layer, stacks): SIGSEGV."""
    r = hostile(build, tmp_path, "munmap_mprotect.c", ["unmap_all"], extra=UAPI)
    assert (r.report.signal, r.code) == (signal.SIGSEGV, 128 + signal.SIGSEGV), r.report
    assert r.report.reason == "killed by SIGSEGV"
    assert parse(r.stdout) == {**MUNMAP_MPROTECT, "unmapping": 1}


@pytest.mark.parametrize("mode, code", [("exit", 0x07), ("exit_group", 0x29)])
def test_exit_status_is_truncated_like_the_kernel(build, tmp_path, mode, code):
    """exit and exit_group with junk above the int status: the low 8 bits are the code."""
    r = hostile(build, tmp_path, "exit.c", [mode])
    assert (r.code, r.report.signal, r.report.reason) == (code, None, None)
    assert r.stdout == b"exiting = 1\n"


@pytest.mark.parametrize("mode", ["plain", "iopl"])
def test_forged_sigreturn_frame_gains_no_privilege(build, tmp_path, mode):
    """rt_sigreturn with a forged frame resumes where the frame says, but eflags keep
    only user flags: no IOPL (port I/O, cli), no NT, VM or VIF."""
    r = hostile(build, tmp_path, "sigreturn_privilege.c", [mode])
    assert r.code == 0
    assert parse(r.stdout) == {"forging": 1, "resumed": 1, "iopl": 0, "nt_vm_vif": 0, "if": 1}


def test_forged_sigreturn_frame_cannot_load_the_kernel_code_segment(build, tmp_path):
    r = hostile(build, tmp_path, "sigreturn_privilege.c", ["kernel_cs"])
    assert (r.report.signal, r.report.reason) == (signal.SIGSEGV, "killed by SIGSEGV"), r.report
    assert r.stdout == b"forging = 1\n"


# Linux (x86-64) runs these without consulting seccomp at all: uretprobe since 6.11,
# uprobe since 6.18.  Outside the kernel's uprobe trampoline they SIGILL the caller
# or fail.  Neither libseccomp 2.5 nor the headers the catalogue comes from (6.1)
# name them, hence the numbers.
KERNEL_PASSTHROUGH = {"uretprobe": 335, "uprobe": 336}


def test_kernel_passthrough_numbers_are_unknown_to_the_catalogue():
    for name, number in KERNEL_PASSTHROUGH.items():
        if name in catalogue.names():
            assert nr(name) == number  # newer headers: the catalogue must agree
        else:
            with pytest.raises(catalogue.UnknownSyscall):
                catalogue.by_number(number)


@pytest.mark.parametrize("name", sorted(KERNEL_PASSTHROUGH))
def test_kernel_passthrough_calls_are_harmless(build, tmp_path, name):
    """Either trapped (an older kernel: -ENOSYS from the layer), or the kernel's own
    answer, which outside the trampoline is SIGILL or -ENOSYS/-ENXIO: never a success."""
    number = KERNEL_PASSTHROUGH[name]
    r = hostile(build, tmp_path, "kernel_passthrough.c", [str(number)], trace_all=True)
    results = parse(r.stdout)
    assert results["calling"] == number
    reached_layer = {k for (n, k) in r.report.trace if n == number}
    if r.report.signal is not None:
        assert (r.report.signal, r.report.reason) == (signal.SIGILL, "killed by SIGILL"), r.report
        assert "survived" not in results and not reached_layer
    else:
        assert r.code == 0
        if reached_layer:
            assert (reached_layer, results["survived"]) == ({MISSING}, ENOSYS)
        else:
            assert results["survived"] in (ENOSYS, ENXIO)


PROBE_LIMIT = 1024  # tests/hostile/every_syscall.c: PROBE_MAX


def test_every_syscall_number_is_trapped_unless_allowed(build, tmp_path):
    """Every number 0..1023 with six junk arguments, then again with junk above the
    number, then -1, 0xffffffff and 0x3fffffff: the Monitor's trace must show each
    one reaching the layer exactly twice (plain and junk-numbered), except the calls
    the allowlist allows for exactly these arguments (computed from ALLOWLIST), which
    must never reach it.  The difference from a run that probes nothing is exactly
    the probe.  Calls answered without a handler return -ENOSYS; the allowed ones
    return the kernel's answer; junk above the number changes no answer."""
    assert catalogue.MAX_NR < PROBE_LIMIT  # the probe covers every number the headers know
    skip = ",".join(str(n) for n in sorted(KERNEL_PASSTHROUGH.values()))
    runs = {}
    for mode in ("baseline", "probe"):
        (tmp_path / mode).mkdir()
        runs[mode] = hostile(build, tmp_path / mode, "every_syscall.c", [mode, skip], trace_all=True)
        assert runs[mode].code == 0, runs[mode].report
    probe = runs["probe"]
    diff = folded(probe.report.trace) - folded(runs["baseline"].report.trace)
    assert sum((folded(runs["baseline"].report.trace) - folded(probe.report.trace)).values()) == 0

    results = parse(probe.stdout)
    args = (results.pop("arg"),) * 6  # the program's one argument value, for all six
    assert args[0] >> 32 and args[0] & 0xFFFF_FFFF  # junk in both halves
    allowed = {nr(e.syscall) for e in ALLOWLIST if e.allows(args)}
    skipped = {nr("exit"), nr("exit_group"), nr("rt_sigreturn"), *KERNEL_PASSTHROUGH.values()}
    probed = set(range(PROBE_LIMIT)) - skipped
    must_trap = probed - allowed
    assert allowed & probed, "the probe should also reach calls the filter allows"

    calls = {}  # number -> calls that reached the layer (an emulation may also report a missing part)
    for (n, kind), count in diff.items():
        calls[n] = max(calls.get(n, 0), count)
    assert set(calls) == must_trap | {-1}, (sorted(set(calls) ^ (must_trap | {-1})))
    assert {n: c for n, c in calls.items() if c != 2 and n != -1} == {}
    assert calls[-1] == 3

    assert (results.pop("done"), results.pop("minus1"), results.pop("ffffffff"), results.pop("3fffffff")) == (
        1, ENOSYS, ENOSYS, ENOSYS)
    plain = {int(k[1:]): v for k, v in results.items() if k[0] == "r"}
    junk = {int(k[1:]): v for k, v in results.items() if k[0] == "j"}
    assert len(plain) + len(junk) == len(results)
    handled = {n for (n, kind) in diff if kind in (EMULATED, REJECTED, FORWARDED)}
    # Only emulated, rejected (with the profile's fixed answer), forwarded (answered by the Monitor) and
    # allowed calls answer anything but -ENOSYS ...
    assert set(plain) <= handled | allowed
    # ... and the allowed ones answer as the kernel does to these arguments (unaligned address).
    assert {n: plain.get(n, ENOSYS) for n in allowed & {nr("munmap"), nr("mprotect")}} == {
        n: EINVAL for n in allowed & {nr("munmap"), nr("mprotect")}}
    assert set(junk) == set(plain)
    # Left out of the equality only: answers that depend on the earlier call, not on
    # the number's junk.  time is the clock; umask returns the previous mask, which
    # the plain call just set to ARG & 0777 (so both answers are checked exactly);
    # eventfd and epoll_create make a new fd each time (the next free number).
    stateful = {nr("time"), nr("umask"), nr("eventfd"), nr("epoll_create")}
    assert {n: v for n, v in junk.items() if n not in stateful} == {
        n: v for n, v in plain.items() if n not in stateful}
    assert (plain[nr("umask")], junk[nr("umask")]) == (0o022, args[0] & 0o777)


def test_every_allowlist_entry_has_a_hostile_test():
    """Each allowed system call is called by name (raw*(SYS_<name>, ...)) in a hostile
    program that a hostile test runs: a new entry without its test fails here."""
    used = set()
    for test_file in TESTS.glob("test_hostile*.py"):
        used |= set(re.findall(r'"([\w.-]+\.c)"', test_file.read_text()))
    used.discard("every_syscall.c")  # calls every number, none by name
    sources = "\n".join((TESTS / "hostile" / name).read_text() for name in sorted(used)
                        if (TESTS / "hostile" / name).exists())
    untested = [e.syscall for e in ALLOWLIST
                if not re.search(rf"raw\d\(\s*SYS_{e.syscall}\b|\"a\"\(SYS_{e.syscall}\)", sources)]
    assert untested == []


def test_rt_sigaction_only_through_the_buffer_and_never_for_sigsys(build, tmp_path):
    """The program knows the buffer's address (fixed here; random per picoprocess
    otherwise) and writes SIG_IGN into it: SIGSYS (also with junk above the signal
    number) and SIGKILL still trap to the layer.  It refuses SIGKILL (-EINVAL) and
    takes SIGSYS as the program's own, virtual action (0), never installed: the next
    trapped call still reaches the layer.  The allowed form works for SIGSEGV (the
    kernel's 0) without reaching the layer; the program's own struct goes through the
    layer (emulated)."""
    buf = 0x3A5A_0000_0000
    r = hostile(build, tmp_path, "sigaction_buffer.c", [hex(buf)], trace_all=True, sigaction_buffer=buf)
    assert r.code == 0, r.report
    assert parse(r.stdout) == {
        "sigsys_via_buffer": 0, "sigsys_junk_high": 0, "sigkill_via_buffer": EINVAL,
        "getpid_after": p.VIRTUAL_PID, "segv_via_buffer": 0, "segv_own_struct": 0, "openat": ENOENT}
    # the three attempts that trap and the program's own struct reached the layer; the allowed form did not
    assert traced(r, EMULATED)["rt_sigaction"] == 4
    assert traced(r, EMULATED)["openat"] == 1


# -- speaking as the runtime: FATAL ---------------------------------------------------------------

def test_a_programs_own_exit_124_is_not_a_runtime_failure(build, tmp_path):
    r = hostile(build, tmp_path, "fatal.c", ["plain"])
    assert r.code == p.EXIT_RUNTIME_FAILED and r.report.reason is None


def test_a_forged_fatal_speaks_only_of_itself_in_one_clean_line(build, tmp_path):
    r = hostile(build, tmp_path, "fatal.c", ["forged"])
    assert r.code == p.EXIT_RUNTIME_FAILED
    assert r.report.reason == "the runtime failed: \\x1b[2Jforged\\r\\nsecond line"


@pytest.mark.parametrize("mode, why", [("badkind", "FATAL: unknown failure 99"),
                                       ("huge", "FATAL: reason of 600 bytes exceeds 256")])
def test_a_malformed_fatal_is_a_protocol_violation(build, tmp_path, mode, why):
    r = hostile(build, tmp_path, "fatal.c", [mode])
    assert r.report.reason == f"protocol violation: {why}" and r.report.signal == 9


# -- sockets (issue 12): emulated, never the host's ---------------------------------------

NET_PROFILE = """\
from xax_emu.profiles import load
from xax_emu.syscalls.profile import Profile, emulate_all
APP = Profile("net", extends=[load("static-libc")], syscalls={**emulate_all("sockets")})
"""


def _origin_server():
    """A loopback HTTP server the picoprocess may reach (its origin): 200 for every GET."""
    import http.server
    import threading

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok\n")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_sockets_reach_nothing_but_the_origin(build, tmp_path):
    """With sockets in its profile, a program connects to the test's listener (IPv4, the
    wildcard, 127.0.0.2, IPv6 and its mapped form), to another server on this machine, to the
    Internet and a private network, sends UDP to the test's socket and to broadcast, listens on
    a port the test then connects to from outside, makes raw, packet and netlink sockets and
    passes the channel's and the image's fds with SCM_RIGHTS: only its origin answers (its
    connect goes through the Monitor, which checked it), nothing the test owns sees a byte,
    and the seal's allowlist has nothing for sockets (every one of these calls trapped)."""
    import threading
    import time
    from browser_support import free_port
    from xax_emu.monitor.origin import parse_origin

    (tmp_path / "net.py").write_text(NET_PROFILE)
    origin = _origin_server()
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen(4)
    other.setblocking(False)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    try:
        v6 = socket.socket(socket.AF_INET6)
        v6.bind(("::1", 0))
        v6.listen(4)
        v6.setblocking(False)
        v6_port = v6.getsockname()[1]
    except OSError:
        v6, v6_port = None, 0
    mine = free_port()
    outside: list = []
    stop = threading.Event()

    def knock():  # from outside: the picoprocess's listening port is no host port
        while not stop.is_set():
            try:
                socket.create_connection(("127.0.0.1", mine), timeout=0.2).close()
                outside.append("connected")
            except OSError:
                pass
            time.sleep(0.05)

    knocker = threading.Thread(target=knock, daemon=True)
    knocker.start()
    try:
        r = hostile(build, tmp_path, "sockets.c",
                    [str(origin.server_address[1]), str(other.getsockname()[1]), str(udp.getsockname()[1]),
                     str(v6_port), str(mine)],
                    profile=f"{tmp_path}/net.py:APP",
                    origin=parse_origin(f"http://127.0.0.1:{origin.server_address[1]}"), trace_all=True)
    finally:
        stop.set()
        knocker.join()
        origin.shutdown()
    got = parse(r.stdout)
    assert r.code == 0, r.stderr
    expected = {"listener": -errno.ECONNREFUSED, "listener_any": -errno.ECONNREFUSED,
                "listener_127_2": -errno.ECONNREFUSED, "other_server": -errno.ECONNREFUSED,
                "internet": -errno.ENETUNREACH, "private": -errno.ENETUNREACH, "origin": 200,
                "udp_loopback": 1, "udp_broadcast": -errno.ENETUNREACH,
                "udp_broadcast_allowed": -errno.ENETUNREACH, "udp_loopback_net": 1,
                "raw": -errno.EPERM, "packet": -errno.EAFNOSUPPORT, "netlink": -errno.EAFNOSUPPORT,
                "scm_rights_unix": -errno.EOPNOTSUPP, "scm_rights_dgram": -errno.EOPNOTSUPP,
                "scm_rights_tcp": -errno.EINVAL, "getsockname_chan": -errno.EBADF,
                "shutdown_chan": -errno.EBADF, "bind_mine": 0, "listen_mine": 0, "accepted_from_outside": 0,
                "done": 1}
    if v6 is not None:
        expected |= {"listener_v6": -errno.ECONNREFUSED, "listener_mapped": -errno.ECONNREFUSED}
    assert got == expected
    assert outside == []
    with pytest.raises(BlockingIOError):
        other.accept()
    with pytest.raises(BlockingIOError):
        udp.recvfrom(16)
    if v6 is not None:
        with pytest.raises(BlockingIOError):
            v6.accept()
        v6.close()
    other.close()
    udp.close()
    emulated = traced(r, EMULATED) | traced(r, EMULATED_FAILED)
    for name in ("socket", "connect", "sendto", "sendmsg", "bind", "listen", "socketpair", "accept"):
        assert name in emulated, name  # trapped and answered by the layer, never the kernel's
    assert not {n for (n, where) in (r.report.kernel or {}) if catalogue.by_number(n).name in
                ("socket", "connect", "sendto", "bind", "listen", "accept", "sendmsg", "socketpair")}


def test_one_picoprocess_sockets_are_not_anothers(build, tmp_path):
    """Two picoprocesses of one Monitor: the second's connects to the first's abstract unix
    name and TCP port are refused and its datagram never arrives (each vfs is a namespace)."""
    from browser_support import free_port
    from xax_emu.launch.program import resolve
    from xax_emu.launch.request import Request, start_kwargs
    from xax_emu.monitor import Stdio

    (tmp_path / "net.py").write_text(NET_PROFILE)
    port = str(free_port())
    prog = build("hostile/sockets_two.c")
    monitor = Monitor(log=lambda line: None)
    outs = {}
    try:
        picos = []
        for mode in ("listen", "connect"):
            out = bytearray()
            outs[mode] = out
            req = Request(resolve(str(prog), None, None), ["canary", "0", mode, port], [],
                          f"{tmp_path}/net.py:APP", {"wall_seconds": 30}, None)
            picos.append(monitor.start(**start_kwargs(req), stdio=Stdio(stdout=out.extend, stderr=out.extend)))
        reports = monitor.run_until_done(picos)
    finally:
        monitor.close()
    assert [rep.exit_code for rep in reports] == [0, 0], outs
    assert parse(bytes(outs["listen"])) == {"bind_unix": 0, "listen_unix": 0, "bind_tcp": 0, "listen_tcp": 0,
                                            "bind_udp": 0, "arrived": 0}
    assert parse(bytes(outs["connect"])) == {"connect_unix": -errno.ECONNREFUSED,
                                             "connect_tcp": -errno.ECONNREFUSED, "send_udp": 1}
