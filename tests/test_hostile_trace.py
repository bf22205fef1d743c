"""Trace mode's kernel counting against hostile programs.

In trace mode the boot block installs, in front of the seal, a filter that
answers SECCOMP_RET_USER_NOTIF for every allowlisted call and ALLOW for the rest,
and sends its listener to the Monitor, which lets each notified call continue
(xax_emu/seal/notify.py).  The seal and the allowlist are the same, so a
picoprocess in trace mode must be able to do nothing more than a sealed one:
the hostile programs give the same answers in both modes, with the canary and
the loopback listener untouched.  The Monitor must survive a picoprocess that
floods it with notifications, one that dies while its call waits, and forged
copies of the messages only the trusted side sends in trace mode."""
import os
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile_support import assert_dies_with_its_monitor, children, hostile, parse
from trace_support import UAPI, split_kernel
from xax_emu import protocol as p
from xax_emu.errors import ProtocolViolation
from xax_emu.launch.layers import layer_for
from xax_emu.monitor import Limits, Monitor, Stdio
from xax_emu.monitor.picoprocess import Picoprocess
from xax_emu.launch.program import resolve
from xax_emu.runtime import pico_binary
from xax_emu.seal import filter_bpf, notified_numbers, notify_filter_bpf
from xax_emu.seal.notify import AUDIT_ARCH_X86_64, Listener, Notification
from xax_emu.syscalls import catalogue


REPO = Path(__file__).resolve().parent.parent

# (program, its arguments after the canary and the port, extra compiler flags, stdin)
PARITY = [
    ("network.c", [], None, b""),
    ("exec.c", [], None, b""),
    ("spawn.c", [], UAPI, b""),
    ("privileged.c", [], UAPI, b""),
    ("open_host_file.c", [], None, b""),
    ("fds.c", [], None, b"hello-stdin"),
    ("channel_garbage.c", [], None, b""),
    ("mmap.c", [], UAPI, b""),
    ("futex.c", [], UAPI, b""),
    ("madvise.c", [], UAPI, b""),
    ("arch_prctl.c", [], UAPI, b""),
    ("munmap_mprotect.c", ["keep"], UAPI, b""),
    ("munmap_mprotect.c", ["unmap_all"], UAPI, b""),
    ("exit.c", ["exit_group"], None, b""),
    ("sigreturn_privilege.c", ["iopl"], None, b""),
    ("b_int80.c", ["write"], None, b""),
    ("b_x32.c", ["write"], None, b""),
    ("b_compat.c", ["int80_exit"], None, b""),
    ("b_sigreturn.c", ["none"], None, b""),
]


def outcome(r) -> tuple:
    return r.code, r.report.signal, r.report.reason, parse(r.stdout), r.stdout.count(b"\n")


@pytest.mark.parametrize("source, args, extra, stdin", PARITY,
                         ids=[f"{s[:-2]}-{'-'.join(a)}" if a else s[:-2] for s, a, _, _ in PARITY])
def test_trace_mode_gives_a_hostile_program_nothing_more(build, tmp_path, source, args, extra, stdin):
    """The same attack, sealed and in trace mode: the same answers, the same end, the
    witnesses untouched in both (hostile() checks them); in trace mode the calls that
    reached the kernel were counted, and every one of them is on the allowlist."""
    (tmp_path / "plain").mkdir()
    (tmp_path / "traced").mkdir()
    plain = hostile(build, tmp_path / "plain", source, args, extra=extra, stdin=stdin)
    traced = hostile(build, tmp_path / "traced", source, args, extra=extra, stdin=stdin, trace_all=True)
    assert plain.report.kernel is None
    assert outcome(traced) == outcome(plain)
    program, runtime = split_kernel(traced.report)
    assert runtime["write"] >= 1 and runtime["read"] >= 1  # the PAL's channel, counted as the runtime's


def test_flood_of_allowed_calls_leaves_the_monitor_serving(build):
    """A picoprocess that makes allowed calls as fast as it can, each one waiting for
    the Monitor: a well-behaved traced picoprocess on the same Monitor is served to its
    end meanwhile, the flood is counted (in bounded memory: one counter per syscall)
    and ended by its wall-clock limit."""
    flood_prog, good_prog = build("hostile/notify_flood.c", extra=UAPI), build("programs/filter.c")
    flood_out, good_out = bytearray(), bytearray()
    with Monitor(log=lambda line: None) as monitor:
        def start(prog, args, stdio, wall):
            pr = resolve(str(prog), None)
            return monitor.start(image_url=pr.image_url, argv=[str(prog), *args], env=[], origin=None,
                                 limits=Limits(wall_seconds=wall), local_files=pr.local_files, stdio=stdio,
                                 layer=layer_for(), trace_all=True)
        flood = start(flood_prog, ["unused", "0", "flood"], Stdio(stdout=flood_out.extend, stderr=lambda b: None), 3)
        while b"flooding\n" not in flood_out:
            monitor.step()
        good = start(good_prog, [], Stdio(stdout=good_out.extend, stderr=lambda b: None, stdin_bytes=b"a\nb\n"), 20)
        (good_report,) = monitor.run_until_done([good])
        assert flood.report is None  # still flooding while the other one ran
        (flood_report,) = monitor.run_until_done([flood])
    assert (good_report.exit_code, good_report.reason, bytes(good_out)) == (2, None, b"A\nB\n")
    assert flood_report.reason == "wall-clock limit of 3 s reached"
    program, _ = split_kernel(flood_report)
    assert min(program["clock_gettime"], program["futex"], program["munmap"]) > 100
    assert len(flood_report.kernel) <= 2 * len(notified_numbers())  # (syscall, program or runtime): bounded


def test_picoprocess_killed_while_its_call_waits(build, tmp_path, monkeypatch):
    """The picoprocess dies after the Monitor received its call and before the answer:
    the answer finds no call (ENOENT), the Monitor goes on (hostile() then serves another
    program on it), and the call that never ran is not counted."""
    futex = catalogue.by_name("futex").nr
    answers, killed = [], []
    receive, let_continue = Listener.receive, Listener.let_continue

    def receive_then_kill(self):
        n = receive(self)
        if n is not None and n.nr == futex and not killed:
            killed.append(n.id)
            pidfd = os.pidfd_open(n.pid)
            try:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                assert select.select([pidfd], [], [], 10)[0], "the picoprocess did not die"
            finally:
                os.close(pidfd)
        return n

    def let_continue_recorded(self, notification_id):
        answers.append((notification_id, let_continue(self, notification_id)))
        return answers[-1][1]

    monkeypatch.setattr(Listener, "receive", receive_then_kill)
    monkeypatch.setattr(Listener, "let_continue", let_continue_recorded)
    r = hostile(build, tmp_path, "notify_flood.c", ["once"], extra=UAPI, trace_all=True)
    assert (r.report.signal, r.report.reason) == (signal.SIGKILL, "killed by SIGKILL")
    assert r.stdout == b""  # the futex call never returned
    assert (killed[0], False) in answers and all(ok for nid, ok in answers if nid != killed[0])
    program, _ = split_kernel(r.report)
    assert program["futex"] == 0


def test_monitor_killed_while_a_call_waits_ends_the_picoprocess(build, tmp_path):
    """`xax-emu trace` SIGKILLed while its picoprocess floods it with notifications (so
    one of its calls is almost always waiting for the Monitor): the parent-death signal
    ends the picoprocess; the wait does not keep it alive."""
    prog = build("hostile/notify_flood.c", extra=UAPI)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    monitor = subprocess.Popen([sys.executable, "-m", "xax_emu", "trace", str(prog), "--", "x", "0", "flood"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    try:
        ready, _, _ = select.select([monitor.stdout], [], [], 30)
        assert ready and monitor.stdout.readline() == b"flooding\n"
        (pico,) = children(monitor.pid)
        assert Path(f"/proc/{pico}/comm").read_text() == "xax-pico\n"
        assert_dies_with_its_monitor(monitor, pico)
    finally:
        if monitor.poll() is None:
            monitor.kill()
            monitor.wait()
        monitor.stdout.close()
        monitor.stderr.close()


TRACE_MESSAGE_ATTACKS = {
    "listener": "LISTENER is sent once, by the boot block, before anything else",
    "runtime_code_again": "RUNTIME_CODE sent twice",
    "runtime_code_empty": "RUNTIME_CODE: range [0x1000, 0x1000) is empty or outside user space",
    "runtime_code_many": "RUNTIME_CODE: payload of 80 bytes is not 1..4 ranges",
}


@pytest.mark.parametrize("mode", list(TRACE_MESSAGE_ATTACKS))
def test_forged_trace_messages_are_protocol_violations(build, tmp_path, mode):
    """The program cannot hand the Monitor a listener of its own or claim its code is
    the runtime's: a LISTENER after the boot, a second RUNTIME_CODE, or a malformed one
    kills it; no reply comes back."""
    r = hostile(build, tmp_path, "notify_channel.c", [mode], trace_all=True)
    assert r.report.reason == f"protocol violation: {TRACE_MESSAGE_ATTACKS[mode]}", r.report
    assert r.report.signal == signal.SIGKILL and r.stdout == f"sending {mode}\n".encode()


def test_runtime_code_outside_trace_mode_is_a_protocol_violation(build, tmp_path):
    r = hostile(build, tmp_path, "notify_channel.c", ["runtime_code_again"])
    assert r.report.reason == "protocol violation: RUNTIME_CODE outside trace mode", r.report


def test_a_listener_cannot_be_sent_by_the_program(build, tmp_path):
    """sendmsg with SCM_RIGHTS is not on the allowlist: it traps, the layer has no
    handler (-ENOSYS), and nothing reaches the Monitor, which serves the program on."""
    r = hostile(build, tmp_path, "notify_channel.c", ["sendmsg_listener"], trace_all=True)
    assert (r.code, r.report.reason) == (0, None)
    assert parse(r.stdout) == {"sendmsg": -38}
    assert r.report.missing == {catalogue.by_name("sendmsg").nr: 1}


# -- the boot block's side ---------------------------------------------------------------------

def boot_with(channel: socket.socket | int, writer) -> subprocess.CompletedProcess:
    """Start xax-pico on `channel` (a socket or a pipe's read end) after `writer`
    has put a trace-mode BOOT message there; return how it ended."""
    fd = channel if isinstance(channel, int) else channel.fileno()
    boot = p.encode_boot(monitor_pid=os.getpid(), limit_as=1 << 30, limit_cpu=0, limit_threads=1,
                         flags=p.BOOT_FLAG_TRACE | p.BOOT_FLAG_COUNT_KERNEL, bpf=filter_bpf(),
                         notify_bpf=notify_filter_bpf(), args=[b"xax-local:none"], env=[], random=bytes(32))
    writer(boot)
    return subprocess.run([str(pico_binary()), str(fd)], pass_fds=(fd,), capture_output=True, timeout=30,
                          start_new_session=True, env={})


def test_boot_refuses_to_send_the_listener_over_a_pipe():
    r, w = os.pipe()
    try:
        res = boot_with(r, lambda data: os.write(w, data))
    finally:
        os.close(r)
        os.close(w)
    assert res.returncode == p.EXIT_BOOT_FAILED
    assert res.stderr == b"xax-boot: the channel is not a socket (errno 88)\n"  # ENOTSOCK


def test_boot_refuses_to_send_the_listener_over_a_stream_socket():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with a:
        with b:
            res = boot_with(b, a.sendall)
        a.settimeout(10)
        assert a.recv(100) == b""  # nothing was sent back, no fd either: EOF
    assert res.returncode == p.EXIT_BOOT_FAILED
    assert res.stderr == b"xax-boot: the channel is not a unix seqpacket socket\n"


def test_boot_that_cannot_send_the_listener_kills_itself():
    """The filter is in but the Monitor's end is gone, so the listener cannot be sent:
    with no listener every allowed call, exit_group too, would fail with ENOSYS, so the
    boot block ends itself with SIGKILL, which no filter sees (never a spin or a hang)."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with b:
        res = boot_with(b, lambda data: (a.sendall(data), a.close()))
    assert res.returncode == -signal.SIGKILL and res.stderr == b""


def test_boot_message_must_pair_the_flag_with_the_filter():
    with pytest.raises(ValueError):
        p.encode_boot(monitor_pid=1, limit_as=0, limit_cpu=0, limit_threads=1, flags=p.BOOT_FLAG_COUNT_KERNEL, bpf=filter_bpf(),
                      args=[b"x"], env=[], random=bytes(32))
    with pytest.raises(ValueError):
        p.encode_boot(monitor_pid=1, limit_as=0, limit_cpu=0, limit_threads=1, flags=0, bpf=filter_bpf(), notify_bpf=notify_filter_bpf(),
                      args=[b"x"], env=[], random=bytes(32))


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=100) | st.lists(st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1)),
                                          max_size=6).map(lambda rs: b"".join(p.RANGE.pack(*r) for r in rs)))
def test_decode_runtime_code_returns_ranges_or_raises_protocol_violation(data):
    try:
        ranges = p.decode_runtime_code(data)
    except ProtocolViolation:
        return
    assert 1 <= len(ranges) <= p.MAX_RUNTIME_RANGES and len(data) == 16 * len(ranges)
    assert all(0 <= start < end <= 1 << 47 for start, end in ranges)


class FakeListener:
    """Hands out given notifications, records the answers."""

    def __init__(self, notifications):
        self.notifications = list(notifications)
        self.continued = []

    def receive(self):
        return self.notifications.pop(0) if self.notifications else None

    def state(self):
        return "pending" if self.notifications else "idle"

    def let_continue(self, notification_id):
        self.continued.append(notification_id)
        return True


@pytest.mark.parametrize("nr, arch", [(catalogue.by_name("execve").nr, AUDIT_ARCH_X86_64),
                                      (catalogue.by_name("write").nr, 0x40000003),  # i386
                                      (-1, AUDIT_ARCH_X86_64), (1 << 30 | 1, AUDIT_ARCH_X86_64)])
def test_a_notification_the_filter_never_asks_for_kills_the_picoprocess(nr, arch):
    """The filter asks only about allowlisted x86-64 calls; a notification of anything
    else is not ours to let through: it is not answered, and the picoprocess is killed."""
    pico = Picoprocess(None, image_url="xax-local:none", argv=[], env=[], origin=None, limits=Limits(), layer=None,
                       trace_all=True)
    killed = []
    pico.kill = killed.append
    write = catalogue.by_name("write").nr
    pico.listener = FakeListener([Notification(1, 7, write, AUDIT_ARCH_X86_64, 0x1000),
                                  Notification(2, 7, nr, arch, 0x1000),
                                  Notification(3, 7, write, AUDIT_ARCH_X86_64, 0x1000)])
    pico.on_notifications()
    assert killed == [f"unexpected seccomp notification: system call {nr}, arch {arch:#x}"]
    assert pico.listener.continued == [1]
    assert dict(pico.kernel) == {(write, "runtime"): 1}
