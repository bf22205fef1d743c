"""The hostile suite, at the boundary itself: other architectures and x32
numbers, the signal mask and SIGSYS disposition, jumps into the PAL, hostile
bytes on the channel, the Monitor's death, and the limits.

Each attack is one small C program in tests/hostile/b_*.c.  Where it fits, the
program runs through `hostile(...)`, which also proves that nothing outside was
reached (the canary stays unread and unchanged, the loopback listener accepts
nothing) and that the same Monitor still serves a well-behaved program after.
Programs print "name = value" lines; -38 is -ENOSYS, the layer's answer to a
call it has no handler for.  openat of the canary's host path is answered by the
layer's VFS: -ENOENT (the default profile has no route covering it; the kernel
would have opened the existing file), and the trace (trace_all=True) shows it
reaching the layer as an emulated call.
"""
from __future__ import annotations

import errno
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile_support import assert_dies_with_its_monitor, children, gone, hostile, parse
from xax_emu import protocol as p
from xax_emu.errors import ProtocolViolation
from xax_emu.launch.layers import layer_for
from xax_emu.monitor import Limits, Monitor, Stdio
from xax_emu.launch.program import resolve
from xax_emu.seal import syscall_number

ENOSYS, ENOMEM, ENOENT = -errno.ENOSYS, -errno.ENOMEM, -errno.ENOENT
SIGSYS_EXIT = 128 + signal.SIGSYS
SIGSYS_REASON = "killed by SIGSYS"
REPO = Path(__file__).resolve().parent.parent
SYS_OPENAT = syscall_number("openat")  # from libseccomp's tables
SYS_RT_SIGACTION = syscall_number("rt_sigaction")
EMULATED = p.TRACE_EMULATED




EMULATED_FAILED = p.TRACE_EMULATED_FAILED


def reached_layer(r, number: int) -> dict[int, int]:
    """How many times this syscall number reached the layer, by trace kind (needs trace_all=True);
    "emulated, answered an error" counts as emulated (the answer is checked separately)."""
    out: dict[int, int] = {}
    for (n, k), c in r.report.trace.items():
        if n == number:
            k = EMULATED if k == EMULATED_FAILED else k
            out[k] = out.get(k, 0) + c
    return out


def assert_killed_by_sigsys(r, first_line: bytes) -> None:
    assert (r.report.signal, r.code) == (signal.SIGSYS, SIGSYS_EXIT), (r.report, r.stdout)
    assert r.report.reason.startswith(SIGSYS_REASON)
    assert r.stdout == first_line  # the attempt was made, and nothing came back from it


# -- 1. i386 system calls through int $0x80 and sysenter --------------------------------------

@pytest.mark.parametrize("mode", ["exit", "read", "write", "open", "unlink", "execve"])
def test_int80_i386_calls_are_killed(build, tmp_path, mode):
    """i386 1 exit, 3 read, 4 write, 5 open, 10 unlink, 11 execve; as x86-64 numbers
    these are write, close, stat, fstat, mprotect and munmap, three of them allowed.
    The arch check comes first: killed, whatever the number."""
    r = hostile(build, tmp_path, "b_int80.c", [mode])
    assert_killed_by_sigsys(r, f"trying {mode}\n".encode())


def test_sysenter_is_killed(build, tmp_path):
    """sysenter from 64-bit mode: an i386 call on Intel (killed by the arch check);
    an invalid instruction in long mode on AMD.  Never a return."""
    r = hostile(build, tmp_path, "b_int80.c", ["sysenter_open"])
    assert r.report.signal in (signal.SIGSYS, signal.SIGILL, signal.SIGSEGV), r.report
    assert r.code == 128 + r.report.signal
    assert r.stdout == b"trying sysenter_open\n"


# -- 2. x32 numbers ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["write", "open", "execve", "execve64"])
def test_x32_numbers_are_killed(build, tmp_path, mode):
    r = hostile(build, tmp_path, "b_x32.c", [mode])
    assert_killed_by_sigsys(r, f"trying {mode}\n".encode())


# -- 3. 32-bit compatibility mode -------------------------------------------------------------

def test_compat_mode_switch_itself_works(build, tmp_path):
    """The control: a far return to selector 0x23 and back, with no system call,
    runs normally; so the kills below are the system calls', not the switch's."""
    r = hostile(build, tmp_path, "b_compat.c", ["noop"])
    assert (r.code, r.report.signal, r.report.reason) == (0, None, None)
    assert parse(r.stdout) == {"noop": 1234}


@pytest.mark.parametrize("mode", ["int80_open", "int80_exit", "syscall_open", "syscall_exit"])
def test_compat_mode_calls_are_killed(build, tmp_path, mode):
    r = hostile(build, tmp_path, "b_compat.c", [mode])
    if mode.startswith("int80"):
        assert_killed_by_sigsys(r, f"trying {mode}\n".encode())
    else:
        # SYSCALL from compatibility mode: an i386 call on AMD (killed by the arch
        # check), an invalid instruction on Intel.  Never a return, never an exit.
        assert r.report.signal in (signal.SIGSYS, signal.SIGILL), r.report
        assert r.code == 128 + r.report.signal
        assert r.stdout == f"trying {mode}\n".encode()


# -- 4. rt_sigprocmask blocking SIGSYS --------------------------------------------------------

def test_sigprocmask_cannot_block_sigsys(build, tmp_path):
    r = hostile(build, tmp_path, "b_sigprocmask.c", trace_all=True)
    assert (r.code, r.report.signal, r.report.reason) == (0, None, None)
    # SIGSEGV and SIGBUS too: the PAL must be able to take a fault in a system call (-EFAULT)
    never_blocked = sum(1 << (s - 1) for s in (signal.SIGSYS, signal.SIGSEGV, signal.SIGBUS, signal.SIGKILL,
                                                signal.SIGSTOP))
    assert parse(r.stdout) == {
        "block": 0,
        "old": 0,
        "getppid": 1,                   # trapped and answered by the layer (the entry's parent is outside)
        "getpid": p.VIRTUAL_PID,        # the layer's virtual pid
        "sigsys_blocked": 0,
        "sigusr1_blocked": 1,           # the rest of the request was honoured
        "setmask_all": 0,
        "getpid_after_all": p.VIRTUAL_PID,
        "mask_all_but": never_blocked,  # everything blocked but SIGSYS, SIGSEGV, SIGBUS, SIGKILL, SIGSTOP
        "openat": ENOENT,               # the layer's VFS: still trapped after SIG_SETMASK of every bit
    }
    assert reached_layer(r, SYS_OPENAT) == {EMULATED: 1}


# -- 5. a forged rt_sigreturn frame blocking SIGSYS -------------------------------------------

def test_forged_sigreturn_frame_works(build, tmp_path):
    """The control: the same forged frame with an empty mask resumes the program,
    and its openat reaches the layer (-ENOENT from the VFS, an emulated trace)."""
    r = hostile(build, tmp_path, "b_sigreturn.c", ["none"], trace_all=True)
    assert (r.code, r.report.signal) == (0, None)
    assert r.stdout == f"forging none\nopenat = {ENOENT}\n".encode()
    assert reached_layer(r, SYS_OPENAT) == {EMULATED: 1}


@pytest.mark.parametrize("mode", ["sigsys", "all"])
def test_sigreturn_mask_blocking_sigsys_is_killed(build, tmp_path, mode):
    r = hostile(build, tmp_path, "b_sigreturn.c", [mode], trace_all=True)
    assert_killed_by_sigsys(r, f"forging {mode}\n".encode())
    assert reached_layer(r, SYS_OPENAT) == {}  # the openat never reached the layer, under any disposition


# -- 6. rt_sigaction on SIGSYS ----------------------------------------------------------------

def test_sigaction_cannot_take_sigsys(build, tmp_path):
    r = hostile(build, tmp_path, "b_sigaction.c", trace_all=True)
    assert (r.code, r.report.signal, r.report.reason) == (0, None, None)
    # The layer takes each as the program's own SIGSYS action (0, and read back as set: old
    # is overwritten), which only a SIGSYS the program sends itself would meet; the real
    # SIGSYS stays the PAL's: the trapped calls after each are answered (100), and the
    # program's handler (exit 99) never runs.
    assert parse(r.stdout) == {
        "sigaction_ign": 0,
        "getpid_after_ign": p.VIRTUAL_PID,
        "sigaction_handler": 0,
        "getpid_after_handler": p.VIRTUAL_PID,
        "sigaction_read": 0,
        "old_untouched": 0,
        "openat": ENOENT,  # the layer's VFS: SIGSYS still goes to the layer
    }
    assert reached_layer(r, SYS_OPENAT) == {EMULATED: 1}
    assert reached_layer(r, SYS_RT_SIGACTION) == {EMULATED: 3}  # every attempt trapped to the layer


# -- 7. jumping to the PAL's own syscall instruction ------------------------------------------

def test_pal_syscall_instruction_is_trapped_like_any_other(build, tmp_path):
    # After the trapped call returns into the middle of the PAL, its code goes on
    # with our registers (it may crash, exit or loop); the wall limit ends a loop.
    r = hostile(build, tmp_path, "b_pal_syscall.c", limits=Limits(wall_seconds=3), trace_all=True)
    out = parse(r.stdout)
    assert out["site_in_program"] == 0 and out["site_offset"] >= 0  # the site is the PAL's, not ours
    # The openat made from the PAL's instruction reached the layer's dispatcher
    # (an EMULATED trace event for it: the VFS answers openat) instead of the kernel.
    assert reached_layer(r, SYS_OPENAT) == {EMULATED: 1}, r.report.trace
    # Whatever happens after the return into the middle of the PAL, no fd came back.
    assert out.get("returned", ENOSYS) < 0


# -- 8. hostile bytes on the channel ----------------------------------------------------------

CHANNEL_ATTACKS = {
    "bad_magic": "bad magic 0xdeadbeef",
    "bad_version": f"protocol version {p.VERSION + 1}, expected {p.VERSION}",
    "unknown_type": "unknown or forbidden message type 77",
    "boot_type": "unknown or forbidden message type 1",
    "reply_type": f"unknown or forbidden message type {p.TYPES['NULL'] | p.REPLY}",
    "len_over": "WRITE: header says 5 payload bytes, datagram holds 0",
    "len_under": "WRITE: header says 0 payload bytes, datagram holds 10",
    "short10": "message of 10 bytes is shorter than the 24-byte header",
    "empty": "empty message on the channel",
    "oversize": "message larger than",
    "read_negative": "READ of -1 bytes is outside",
    "read_huge": f"READ of {p.MAX_READ + 1} bytes is outside",
    "read_payload": "READ carries no payload",
    "poll_10000": "message larger than",      # 10000 entries do not fit in one message
    "poll_257": "POLL: 257 entries exceed 256",
    "poll_ragged": "POLL: payload of 12 bytes is not a whole number of entries",
    "poll_arg_4": "POLL: arg must be 0, 1, 2 or 3, not 4",
    "open_url_no_nul": "OPEN_URL: payload must be",
    "open_url_one_nul": "OPEN_URL: payload must be",
    "open_url_long": "OPEN_URL: URL of 5000 bytes exceeds 4096",
    "trace_payload": "TRACE carries no payload",
    "trace_kind": "TRACE: unknown disposition 9",
    "close_payload": "CLOSE carries no payload",
    "close_arg_2": "CLOSE: arg must be 0 or 1, not 2",
    "wake_payload": "WAKE carries no payload",
    "poll_timed_negative": "POLL: a timeout of -5 ms",
    "accept_payload": "ACCEPT carries no payload",
    "second_while_parked": "NULL sent while another request awaits its reply",
    "pipelined": "NULL sent before the reply to the previous request was read",
    "flood": "NULL sent before the reply to the previous request was read",
}


@pytest.mark.parametrize("mode", list(CHANNEL_ATTACKS))
def test_channel_violation_kills_only_that_picoprocess(build, tmp_path, mode):
    r = hostile(build, tmp_path, "b_channel.c", [mode], limits=Limits(wall_seconds=20))
    assert r.report.reason.startswith("protocol violation: "), r.report
    assert CHANNEL_ATTACKS[mode] in r.report.reason, r.report.reason
    assert (r.report.signal, r.code) == (signal.SIGKILL, 128 + signal.SIGKILL)
    assert r.stdout == f"sending {mode}\n".encode()  # no reply ever came back (the reason says the
    # violation ended it, not the 20 s wall limit)


def test_violation_leaves_a_concurrent_picoprocess_served(build):
    """A well-behaved picoprocess, parked mid-call (reading a stdin that has no data
    yet) while another on the same Monitor is killed for a violation, is then served
    to its normal end."""
    good_prog, bad_prog = build("programs/filter.c"), build("hostile/b_channel.c")
    r, w = os.pipe()
    out = bytearray()
    try:
        with Monitor(log=lambda line: None) as monitor:
            def start(prog, args, stdio):
                pr = resolve(str(prog), None)
                return monitor.start(image_url=pr.image_url, argv=[str(prog), *args], env=[], origin=None,
                                     limits=Limits(wall_seconds=20), local_files=pr.local_files, stdio=stdio,
                                     layer=layer_for())
            good = start(good_prog, [], Stdio(stdout=out.extend, stderr=lambda b: None, stdin_fd=r,
                                              stdin_bytes=None))
            bad = start(bad_prog, ["unused", "0", "bad_magic"], Stdio(stdout=lambda b: None, stderr=lambda b: None))
            (bad_report,) = monitor.run_until_done([bad])
            assert good.report is None  # still alive, waiting for its input
            os.write(w, b"abc\n")
            os.close(w)
            w = None
            (good_report,) = monitor.run_until_done([good])
    finally:
        os.close(r)
        if w is not None:
            os.close(w)
    assert bad_report.reason == "protocol violation: bad magic 0xdeadbeef"
    assert (good_report.exit_code, good_report.reason, bytes(out)) == (1, None, b"ABC\n")


@settings(max_examples=2000, deadline=None)
@given(st.one_of(
    st.binary(max_size=200),
    # Mostly-valid headers, so the later checks are reached too.
    st.builds(lambda t, chan, arg, n, seq, payload, magic, version: p.HEADER.pack(
        magic, version, t, chan, arg, n, seq) + payload,
        st.integers(0, 0xFFFF), st.integers(-2**31, 2**31 - 1), st.integers(-2**31, 2**31 - 1),
        st.integers(0, 2**32 - 1) | st.integers(0, 80), st.integers(0, 2**32 - 1), st.binary(max_size=80),
        st.just(p.MAGIC) | st.integers(0, 2**32 - 1), st.just(p.VERSION) | st.integers(0, 0xFFFF)),
))
def test_decode_request_returns_a_message_or_raises_protocol_violation(data):
    try:
        msg = p.decode_request(data)
    except ProtocolViolation:
        return
    assert isinstance(msg, p.Message)
    assert msg.type in p.TYPE_NAMES and msg.type != p.TYPES["BOOT"]
    assert msg.payload == data[p.HEADER_SIZE:] and len(msg.payload) <= p.MAX_PAYLOAD


# -- 9. the Monitor's death -------------------------------------------------------------------

def test_monitor_sigkill_mid_call_ends_the_picoprocess(build, tmp_path):
    prog = build("hostile/b_block.c")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    monitor = subprocess.Popen([sys.executable, "-m", "xax_emu", "run", str(prog), "--", "stdin"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=tmp_path, env=env)
    try:
        # "ready" has been relayed: the program is now blocked in read(0), which is
        # a POLL the Monitor holds parked (stdin is a pipe we keep open and silent).
        ready, _, _ = select.select([monitor.stdout], [], [], 30)
        assert ready and monitor.stdout.readline() == b"ready\n"
        (pico,) = children(monitor.pid)
        assert not gone(pico)
        assert Path(f"/proc/{pico}/comm").read_text() == "xax-pico\n"
        time.sleep(0.2)
        assert not gone(pico)  # still blocked, mid-call
        assert_dies_with_its_monitor(monitor, pico)
    finally:
        if monitor.poll() is None:
            monitor.kill()
            monitor.wait()
        for f in (monitor.stdin, monitor.stdout, monitor.stderr):
            f.close()


# -- 10. CPU and wall-clock limits ------------------------------------------------------------

@pytest.mark.parametrize("mode", ["plain", "masked"])
def test_cpu_spin_is_ended_by_the_cpu_limit(build, tmp_path, mode):
    """plain: SIGXCPU at the soft limit.  masked: SIGXCPU blocked by a forged frame,
    so the hard limit's SIGKILL one second later ends it."""
    r = hostile(build, tmp_path, "b_spin.c", [mode], limits=Limits(cpu_seconds=1, wall_seconds=30))
    assert r.stdout == b"spinning\n"
    assert r.report.reason == "CPU time limit of 1 s reached", r.report
    expected = signal.SIGXCPU if mode == "plain" else signal.SIGKILL
    assert (r.report.signal, r.code) == (expected, 128 + expected)  # the reason: the CPU limit, not the wall


@pytest.mark.parametrize("mode", ["stdin", "poll"])
def test_blocked_forever_is_ended_by_the_wall_clock_limit(build, tmp_path, mode):
    # stdin=None: stdin never sees data nor EOF.
    r = hostile(build, tmp_path, "b_block.c", [mode], stdin=None, limits=Limits(wall_seconds=1))
    assert r.stdout == b"ready\n"
    assert r.report.reason == "wall-clock limit of 1 s reached", r.report
    assert (r.report.signal, r.code) == (signal.SIGKILL, 128 + signal.SIGKILL)
    # Blocked, not spinning: a handful of waits for the Monitor (the layer's sliced polls, 50 ms
    # each, or one parked poll), where a busy loop would make thousands.
    assert r.report.xaxcalls["POLL"] < 100, r.report.xaxcalls


# -- 11. memory ------------------------------------------------------------------------------

def test_memory_bomb_is_stopped_by_the_memory_limit(build, tmp_path):
    r = hostile(build, tmp_path, "b_membomb.c", limits=Limits(memory=256 << 20, wall_seconds=30))
    out = parse(r.stdout)
    assert (r.code, r.report.signal, r.report.reason) == (0, None, None), r.report
    # The address-space limit covers the PAL, the program and its stack too: the
    # program got a good part of 256 MiB, never all of it, then malloc failed.
    assert 128 <= out["got_mib"] < 256, out
    assert out["mmap_1g"] == ENOMEM  # and no reason: it ended by itself, not by the wall limit


def test_a_wake_flood_costs_the_monitor_nothing(build, tmp_path):
    """100,000 WAKE messages, then a poll that would wait a minute: answered at once (0 ready:
    a pending WAKE answers the next poll that would wait), then a NULL xaxcall; the Monitor
    serves it and the picoprocess ends normally, long before its wall limit."""
    r = hostile(build, tmp_path, "wake_flood.c", limits=Limits(wall_seconds=30))
    assert (r.code, r.report.reason) == (0, None), r.report
    assert parse(r.stdout) == {"wakes_sent": 1, "poll_answered": 0, "null": 0}
