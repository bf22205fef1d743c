"""One picoprocess as the Monitor sees it: its launch, its channels, its xaxcalls.

Everything that arrives on the channel is hostile until checked: the datagram
is copied, decoded and validated (sizes, channel ids, state) before anything
acts on it, and any violation kills this picoprocess and only this one.

In trace mode the Monitor also counts the calls that reach the kernel: the boot
block sends the listener of its kernel-counting filter (seal/notify.py) as the
first datagram, and every allowlisted call of the picoprocess then waits until
`on_notifications` has counted it and let it continue.  The listener is polled
by the event loop apart from the channel, so the PAL's own channel reads and
writes (allowlisted calls, so notifications too) never wait on channel traffic.
"""
from __future__ import annotations

import errno
import fcntl
import functools
import os
import secrets
import signal
import socket
import struct
import subprocess
import termios
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .. import protocol as p
from ..errors import ProtocolViolation, SealError
from ..limits import channel_for_boot
from ..runtime import pico_binary
from ..seal import allowed_numbers, filter_bpf, notified_numbers, notify_filter_bpf
from .channels import Channel, InputChannel, OutputChannel, SocketChannel
from .failedpaths import FailedPaths
from .origin import Origin
from .stdio import CallableSink, FdWriter, Stdio, StdinRelay
from .xaxcalls import XAXCALLS

if TYPE_CHECKING:
    from .exportram import RamExport
    from .family import Member
    from .host import Host
    from .mounts import Mounts

RECV_SIZE = p.HEADER_SIZE + p.MAX_PAYLOAD
MAX_CHANNELS = 1024
MAX_BATCH = 64                 # datagrams served per wake-up of one picoprocess
MAX_INCOMING = 64              # connections waiting for ACCEPT; more are refused by whoever offers them
EVERY_MEMBER_MAX = 10000      # processes of a family the trace's tree lists (a shell loop forks thousands)
STDIO_FLUSH_AFTER_KILL = 1.0   # seconds the rest of a killed program's output may take to reach a slow reader
LAYER_URL = "xax-local:layer"
SIGBUF_LOW, SIGBUF_PAGES = 0x1000_0000_0000, (0x6000_0000_0000 - 0x1000_0000_0000) // 4096
AUDIT_ARCH_X86_64 = 0xC000003E  # <linux/audit.h>: the only arch a notification may carry


@functools.lru_cache(maxsize=1)
def NOTIFIED() -> frozenset[int]:  # noqa: N802 - a constant, computed when trace mode first needs it
    """The system calls the kernel-counting filter asks about."""
    return notified_numbers()


@dataclass
class Limits:
    memory: int = 4 << 30          # RLIMIT_AS, bytes
    cpu_seconds: int = 0           # RLIMIT_CPU; 0: none
    wall_seconds: float = 0.0      # enforced by the Monitor; 0: none
    threads: int = 64              # threads at once, the first included (RLIMIT_NPROC in its own user namespace); 1: no clone
    processes: int = 1             # processes of the family at once, the entry included; 1: no fork (docs/processes.md)
    download: int = 256 << 20      # bytes per download or upload


@dataclass
class ExitReport:
    exit_code: int                  # the program's, or 128 + signal
    signal: int | None
    reason: str | None              # one line when the picoprocess did not exit by itself
    cpu_seconds: float
    wall_seconds: float
    trace: Counter = field(default_factory=Counter)  # (syscall nr, disposition) -> count
    boot_error: str | None = None   # the boot block failed: the program never started
    # Trace mode: allowed calls that reached the kernel, (syscall nr, "program" or "runtime") -> count;
    # None when they were not counted.
    kernel: Counter | None = None
    xaxcalls: Counter = field(default_factory=Counter)  # requests served, by message type (TRACE included)
    # The paths the program failed to open or look at (TRACE_PATH), when they were asked for.
    failed_paths: FailedPaths | None = None
    # Trace mode: of the calls in `trace`, those that came through a rewritten site instead of
    # a trap (runtime_c/pal/rewrite.c), syscall nr -> count.
    direct: Counter = field(default_factory=Counter)
    rewritten: Counter = field(default_factory=Counter)  # syscall nr -> sites rewritten (trace mode)
    # Once it forked: every process of the family (monitor/familywatch.py tree), else None.
    family: list | None = None

    @property
    def missing(self) -> dict[int, int]:
        return {nr: n for (nr, kind), n in self.trace.items() if kind == p.TRACE_MISSING}


class Picoprocess:
    def __init__(self, host: "Host | None", *, image_url: str, argv: list[str], env: dict[str, str] | list[str],
                 origin: Origin | None, limits: Limits, layer: bytes | None,
                 local_files: dict[str, bytes] | None = None, stdio: Stdio | None = None, trace_all: bool = False,
                 image=None, pal_settings: list[str] | None = None,
                 sigaction_buffer: int | None = None, count_kernel: bool | None = None,
                 on_exit: Callable[["ExitReport"], None] | None = None, origin_address: str | None = None,
                 mounts: "Mounts | None" = None, export_ram: "RamExport | None" = None, accepts: bool = False,
                 trace_paths: bool | None = None, rewrite: bool = True):
        self.host = host
        self.on_exit = on_exit  # called on the loop with the report, once the process has exited
        self.image_url = image_url
        self.argv = list(argv)
        self.env = [f"{k}={v}" for k, v in env.items()] if isinstance(env, dict) else list(env)
        self.origin = origin
        # Where the origin is reached: the address its name had when the program was fetched
        # (never looked up again: DNS rebinding), or, for a bare program's --origin, its first answer.
        self.origin_address = origin_address
        self.limits = limits
        self.local_files = dict(local_files or {})
        self.pal_settings = list(pal_settings or [])  # entry=, cwd= for an app image
        if layer is not None:  # a bare program: the layer the PAL loads first (an image carries its own)
            self.local_files[LAYER_URL] = layer
            self.pal_settings.append(f"layer={LAYER_URL}")
        # Host directories the user granted (mounts.py: the caller opens and closes them),
        # and where the RAM disks go at exit if the run asked for them (exportram.py).
        self.mounts = mounts
        self.export_ram = export_ram
        if mounts is not None:
            self.pal_settings += mounts.settings()
        if export_ram is not None:
            self.pal_settings.append("export_ram=1")
        self.image = image  # an app image, or the tar a bare program's Tar routes read (an ImageFile): its fd is handed over
        if origin is not None:
            self.pal_settings.append(f"origin={origin}")
        # The one page rt_sigaction may name (see seal/allowlist.py): a random address per picoprocess.
        self.sigaction_buffer = sigaction_buffer or SIGBUF_LOW + secrets.randbelow(SIGBUF_PAGES) * 4096
        self.pal_settings.append(f"sigbuf={self.sigaction_buffer:#x}")
        # Rewrite the program's system call sites into direct calls of the layer at their
        # first trap (runtime_c/pal/rewrite.c, docs/rewrite.md); off: every call traps.
        # Families too (docs/rewrite.md, "Processes").
        self.rewrite = rewrite
        self.stdio = stdio
        self.trace_all = trace_all
        # Counting the calls that reach the kernel goes with trace mode unless asked otherwise.
        self.count_kernel = trace_all if count_kernel is None else count_kernel
        # The paths it fails to open (TRACE_PATH): with trace mode unless asked otherwise (run --report json).
        self.failed_paths = FailedPaths() if (trace_all if trace_paths is None else trace_paths) else None
        self.listener = None  # trace mode: the kernel-counting filter's listener (seal.notify.Listener)
        self.awaiting_listener = self.count_kernel
        self.runtime_code: list[tuple[int, int]] | None = None  # from RUNTIME_CODE
        self.kernel: Counter = Counter()  # (syscall nr, "program" | "runtime") -> count
        self.channels: dict[int, Channel] = {}
        self.next_chan = 3
        self.pending: p.Message | None = None   # a request whose reply is deferred
        self.parked_poll: tuple[p.Message, list[tuple[int, int]]] | None = None
        self.parked_poll_until: float | None = None  # a sliced poll's end
        self.messages = 0
        self.trace: Counter = Counter()
        self.direct: Counter = Counter()  # syscall nr -> calls that came through a rewritten site
        self.rewritten: Counter = Counter()  # syscall nr -> sites rewritten
        self.xaxcalls: Counter = Counter()  # requests served, by message type
        self.kill_reason: str | None = None
        self.runtime_failure: str | None = None  # from FATAL: what the PAL said before exiting
        self.first_message_at: float | None = None  # time.monotonic() of the first datagram served
        self.exited_at: float | None = None         # when the Monitor saw the exit (pidfd readable)
        self.report: ExitReport | None = None
        self.closing_deadline: float | None = None
        self.stdin: InputChannel | None = None
        self.stdin_relay: StdinRelay | None = None
        self.sinks: list = []  # stdout's and stderr's (stdio.FdWriter or CallableSink)
        self.incoming: list[Channel] = []  # connections offered, waiting for ACCEPT
        self.downloads = 0  # streamed GETs under way (xaxcalls.MAX_DOWNLOADS)
        self.accepts = accepts  # it is offered connections (serve's http instances): BOOT_FLAG_ACCEPT
        self.wake_pending = False  # a WAKE came with no poll waiting: the next one answers at once
        self.name = "picoprocess"  # in log lines until it has a pid
        # The family (family.py): the entry program is VIRTUAL_PID; its forked processes, by virtual pid.
        self.vpid = p.VIRTUAL_PID
        self.members: dict[int, "Member"] = {}
        self.ended_members: dict[int, "Member"] = {}  # by vpid until the vpid is given again: at most VIRTUAL_PIDS_MAX
        self.next_vpid = p.VIRTUAL_PID + 1
        self.holds: set[int] = set()   # channel ids the entry program holds, once it has forked
        self.forked = False
        self.pgid = self.sid = p.VIRTUAL_PID  # the entry leads its group and session (groups.py)
        self.parent = None
        self.execed = False
        self.programs: list[str] = []  # what it exec'd, in order (EXEC)
        self.first_program = next((s[6:] for s in self.pal_settings if s.startswith("entry=")),
                                  self.argv[0] if self.argv else image_url)
        self.calls: Counter = Counter()  # trace mode: its own system calls, by number (the family's tree)
        # The family as a whole (familywatch.py): sampled usage, ended members' pidfds kept for
        # their statuses, every member it had (for the trace's tree; at most EVERY_MEMBER_MAX).
        self.family_cpu = 0.0
        self.family_resident_peak = 0
        self.next_sample: float | None = None
        self.orphans_reaped = 0  # zombies of its session the Monitor reaped as their subreaper
        self.status_pidfds: dict = {}
        self.every_member: list = []
        self.pidfd: int | None = None
        if limits.processes > 1:
            self.pal_settings.append("processes=1")

    # -- launch ---------------------------------------------------------------

    @property
    def traps_exit(self) -> bool:
        """Whether the program's exit_group traps (seal/allowlist.py's EXPORT_EXIT_ENTRY): so that
        the layer first exports the RAM disks, or lets go of the family's shared files."""
        return self.export_ram is not None or self.limits.processes > 1

    def spawn(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        # The boot block moves the channel to p.CHANNEL_FD and the image (read-only) to p.IMAGE_FD.
        fds = (child.fileno(),) + ((self.image.fd,) if self.image is not None else ())
        self.spawn_started = time.monotonic()  # --stats-json: spawn to exit includes the fork and exec
        try:
            self.proc = subprocess.Popen(
                [str(pico_binary()), *map(str, fds)],
                pass_fds=fds, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, start_new_session=True, env={},
            )
        finally:
            child.close()
        self.started = time.monotonic()
        self.sock = parent
        self.pid = self.proc.pid
        self.name = str(self.pid)
        self.pidfd = os.pidfd_open(self.pid)
        flags = p.BOOT_FLAG_STDIO if self.stdio else 0
        if self.trace_all:
            flags |= p.BOOT_FLAG_TRACE
        if self.count_kernel:
            flags |= p.BOOT_FLAG_COUNT_KERNEL
        if self.failed_paths is not None:
            flags |= p.BOOT_FLAG_TRACE_PATHS
        if self.accepts:
            flags |= p.BOOT_FLAG_ACCEPT
        if self.rewrite:  # the numbers the filter may allow are never rewritten: the PAL must know them
            nrs = allowed_numbers(threads=self.limits.threads > 1, export_ram=self.traps_exit)
            self.pal_settings.append("rewrite=" + ",".join(map(str, nrs)))
        try:
            boot = p.encode_boot(
                monitor_pid=os.getpid(), limit_as=self.limits.memory, limit_cpu=self.limits.cpu_seconds,
                limit_threads=self.limits.threads, flags=flags,
                bpf=filter_bpf(self.sigaction_buffer, threads=self.limits.threads > 1, own_pid=self.pid,
                               export_ram=self.traps_exit, processes=self.limits.processes > 1),
                notify_bpf=notify_filter_bpf() if self.count_kernel else b"",
                # os.fsencode: the program gets the very bytes the command line gave, UTF-8 or not
                args=[os.fsencode(a) for a in [self.image_url, *self.argv]],
                env=[os.fsencode(e) for e in self.env], random=os.urandom(32),
                pal=[os.fsencode(setting) for setting in self.pal_settings],
            )
        except BaseException:  # (its filter needs the child's pid, so it is made after the fork)
            self._abandon_child()
            raise
        channel_for_boot(self.sock)  # a datagram is capped at the send buffer: make room for the largest BOOT
        try:
            self.sock.sendall(boot)
        except OSError as e:
            self.kill(f"could not send the boot message: {e}")
        self.sock.setblocking(False)
        if self.stdio:
            self._open_stdio()
        self.host.watch(self.sock, self.on_readable)
        self.host.watch(self.pidfd, self.finish)
        if self.stdin_relay is not None:
            self.stdin_relay.update()

    def _abandon_child(self) -> None:
        """The child was forked but cannot be booted: it ends now (it waits for BOOT, sealed by nothing)."""
        self.proc.kill()
        self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        os.close(self.pidfd)
        self.sock.close()

    def _open_stdio(self) -> None:
        self.stdin = InputChannel()
        if self.stdio.stdin_fd is not None:
            self.stdin_relay = StdinRelay(self.stdio.stdin_fd, self.stdin, self.host)
        elif self.stdio.stdin_bytes is not None:
            self.stdin.feed(self.stdio.stdin_bytes)
            self.stdin.feed(b"")
        self.channels[p.STDIN_CHAN] = self.stdin
        for chan, target, name in ((p.STDOUT_CHAN, self.stdio.stdout, "stdout"),
                                   (p.STDERR_CHAN, self.stdio.stderr, "stderr")):
            if isinstance(target, int):
                sink = FdWriter(target, name, wake=lambda: self.host.call_soon_threadsafe(self.retry_parked_poll),
                                failed=self._stdio_failed)
            elif hasattr(target, "offer"):  # a sink of the caller's own (serve's WebSocket messages)
                sink = target
            else:
                sink = CallableSink(target)
            self.sinks.append(sink)
            self.channels[chan] = OutputChannel(sink)

    def _stdio_failed(self, line: str) -> None:
        """From a writer's thread: the Monitor's own stdout or stderr failed."""
        self.host.call_soon_threadsafe(lambda: self.log(line))

    def _flush_output(self) -> None:
        """What the program wrote reaches the Monitor's stdio before its report does;
        after a kill (a limit), a reader that does not read gets a second, then the rest is dropped."""
        for sink in self.sinks:
            if sink.flush(STDIO_FLUSH_AFTER_KILL if self.kill_reason else None) is False:
                self.log(f"{sink.name}: the reader is not reading; the program's last output there is dropped")

    def log(self, line: str) -> None:
        if self.host is not None:
            self.host.log(self.name, line)

    @property
    def deadline(self) -> float | None:
        deadlines = [d for d in (self.closing_deadline,
                                 self.started + self.limits.wall_seconds if self.limits.wall_seconds else None,
                                 self.parked_poll_until, self.next_sample,
                                 *(m.parked_poll_until for m in self.members.values()))
                     if d is not None]
        return min(deadlines) if deadlines else None

    def kill(self, reason: str) -> None:
        if self.report is None and self.kill_reason is None:
            self.kill_reason = reason
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def on_deadline(self) -> None:
        now = time.monotonic()
        if self.closing_deadline is not None and now >= self.closing_deadline:
            self.kill("protocol violation: empty message on the channel")
        elif self.limits.wall_seconds and now >= self.started + self.limits.wall_seconds:
            self.kill(f"wall-clock limit of {self.limits.wall_seconds:g} s reached")
        elif self.next_sample is not None and now >= self.next_sample and self.report is None:
            from .familywatch import SAMPLE_SECONDS, sample
            self.next_sample = now + SAMPLE_SECONDS
            reason = sample(self)
            if reason is not None:
                self.kill(reason)
            from .family import reap_orphans
            for pid in reap_orphans(self.pid):  # its own session's only: another family's are theirs
                self.orphans_reaped += 1
                self.log(f"reaped an orphan of the family, host pid {pid}")
        self.retry_parked_poll()  # a sliced poll whose slice is over

    def _stop_watching(self) -> None:
        if self.host is None:
            return
        self.host.unwatch(self.sock)
        self.host.unwatch(self.pidfd)
        if self.listener is not None:
            self.host.unwatch(self.listener)
        if self.stdin_relay is not None:
            self.stdin_relay.close()
        for chan in self.channels.values():
            if isinstance(chan, SocketChannel):
                self.host.unwatch(chan.sock)

    # -- the channel ------------------------------------------------------------

    def on_readable(self) -> None:
        """Serve the datagrams waiting on the channel, a bounded number at a time
        so that a flood from one picoprocess cannot starve the others."""
        if self.awaiting_listener and not self._receive_listener():
            return
        for _ in range(MAX_BATCH):
            if self.report is not None or self.kill_reason is not None:
                return
            try:
                data, _, flags, _ = self.sock.recvmsg(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.closing_deadline = self.closing_deadline or time.monotonic() + 1.0
                return
            if flags & socket.MSG_TRUNC:
                self.kill(f"protocol violation: message larger than {RECV_SIZE} bytes")
                return
            if not data:
                # EOF (the process is exiting) or a zero-length datagram (hostile):
                # give the exit a second to show on the pidfd, then kill.
                self.closing_deadline = self.closing_deadline or time.monotonic() + 1.0
                self.host.unwatch(self.sock)
                return
            try:
                self.serve(p.decode_request(data))
            except ProtocolViolation as e:
                self.kill(f"protocol violation: {e}")
                return

    def _receive_listener(self) -> bool:
        """The first datagram in trace mode: the boot block's LISTENER, carrying exactly
        one fd, a seccomp notification listener.  True once it is here and watched."""
        try:
            data, ancdata, flags, _ = self.sock.recvmsg(RECV_SIZE, socket.CMSG_SPACE(4 * 4))
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            self.closing_deadline = self.closing_deadline or time.monotonic() + 1.0
            return False
        fds = []
        for level, kind, cdata in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds += list(struct.unpack(f"{len(cdata) // 4}i", cdata[:len(cdata) - len(cdata) % 4]))
        try:
            if not data:  # EOF: the boot block failed before it could send it
                self.closing_deadline = self.closing_deadline or time.monotonic() + 1.0
                self.host.unwatch(self.sock)
                return False
            msg = p.decode_request(data) if not flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) else None
            if msg is None or msg.type_name != "LISTENER" or msg.payload or len(fds) != 1:
                self.kill("protocol violation: the first message in trace mode must be the boot block's "
                          "LISTENER with one fd")
                return False
            from ..seal.notify import Listener  # trace mode only: its cffi declarations cost start-up time
            self.listener = Listener(fds.pop())  # checks that it is a seccomp listener
        except (ProtocolViolation, SealError) as e:
            self.kill(f"protocol violation: LISTENER: {e}")
            return False
        finally:
            for fd in fds:
                os.close(fd)
        self.awaiting_listener = False
        self.host.watch(self.listener, self.on_notifications)
        return True

    def on_notifications(self) -> None:
        """Count the allowed calls waiting in the kernel and let each continue, a
        bounded number at a time (a flood from one picoprocess cannot starve others)."""
        for _ in range(MAX_BATCH):
            listener = self.listener
            if listener is None or self.report is not None:
                return
            try:
                n = listener.receive()
                if n is None:
                    if listener.state() == "gone":  # no process left to ask: stop polling it
                        self.host.unwatch(listener)
                    return
                if n.arch != AUDIT_ARCH_X86_64 or n.nr not in NOTIFIED():
                    # The filter asks only about allowlisted x86-64 calls; anything else means it is not ours.
                    self.kill(f"unexpected seccomp notification: system call {n.nr}, arch {n.arch:#x}")
                    return
                if listener.let_continue(n.id):
                    self.kernel[(n.nr, self._origin(n.ip))] += 1
            except SealError as e:
                self.kill(f"counting the kernel calls failed: {e}")
                self.host.unwatch(listener)
                return

    def _origin(self, ip: int) -> str:
        """Whose call: the runtime's (everything before RUNTIME_CODE, and code in its
        ranges after) or the program's.  By instruction pointer: accounting, not a boundary."""
        if self.runtime_code is None or any(start <= ip < end for start, end in self.runtime_code):
            return "runtime"
        return "program"

    def send(self, data: bytes | list) -> None:
        """One datagram: bytes, or buffers gathered into one (protocol.reply_parts)."""
        try:
            if isinstance(data, list):
                self.sock.sendmsg(data)
            else:
                self.sock.send(data)
        except BlockingIOError:
            self.kill("protocol violation: the picoprocess does not read its replies")
        except OSError:
            pass  # it is gone; the pidfd will tell

    def reply(self, msg: p.Message, arg: int, payload: bytes = b"") -> None:
        self.pending = None
        self.send(p.reply(msg, arg, payload))

    def reply_parts(self, msg: p.Message, arg: int, parts: list) -> None:
        self.pending = None
        self.send(p.reply_parts(msg, arg, parts))

    # -- xaxcalls ---------------------------------------------------------------

    def serve(self, msg: p.Message) -> None:
        self.serve_for(self, msg)

    def serve_for(self, proc, msg: p.Message) -> None:
        """Serve one request of the entry program (proc is self) or of a member of its family."""
        if self.first_message_at is None:
            self.first_message_at = time.monotonic()
        self.messages += 1
        self.xaxcalls[msg.type_name] += 1
        name = msg.type_name
        if name == "TRACE":
            if msg.payload:
                raise ProtocolViolation("TRACE carries no payload")
            if msg.chan not in p.TRACE_KIND_NUMBERS and msg.chan not in p.TRACE_NOT_CLASSES:
                raise ProtocolViolation(f"TRACE: unknown disposition {msg.chan}")
            self._count_trace(proc, msg)
            return
        if name == "TRACE_PATH":  # one-way, like TRACE
            self._trace_path(msg)
            return
        if name == "FATAL":  # one-way, and may come while another request awaits its reply
            self._fatal(msg)
            return
        if name == "WAKE":  # one-way, and comes while a POLL waits: that is what it is for
            if msg.payload:
                raise ProtocolViolation("WAKE carries no payload")
            proc.wake_pending = True
            proc.retry_parked_poll()
            return
        if proc.pending is not None or proc.parked_poll is not None:
            raise ProtocolViolation(f"{name} sent while another request awaits its reply")
        if self._reply_unread(proc.sock):
            raise ProtocolViolation(f"{name} sent before the reply to the previous request was read")
        XAXCALLS[msg.type](proc, msg)

    def _trace_path(self, msg: p.Message) -> None:
        if self.failed_paths is None:
            raise ProtocolViolation("TRACE_PATH sent though the Monitor did not ask for paths")
        self.failed_paths.add(msg.arg, msg.chan, msg.payload)

    def _count_trace(self, proc, msg: p.Message) -> None:
        nr = msg.arg if 0 <= msg.arg < 1024 else -1
        if msg.chan == p.TRACE_DIRECT:
            self.direct[nr] += 1
        elif msg.chan == p.TRACE_REWRITTEN:
            self.rewritten[nr] += 1
        else:
            self.trace[(nr, msg.chan)] += 1
            if self.forked or proc is not self:  # the family's tree: each process's own (the entry's: from its fork on, plus its trace before)
                proc.calls[nr] += 1

    def _fatal(self, msg: p.Message) -> None:
        """The PAL's last words: remembered, and said only if the process then exits with
        the runtime's status (a program may send this too; it speaks only of itself)."""
        if msg.arg not in p.FAILURE_NAMES:
            raise ProtocolViolation(f"FATAL: unknown failure {msg.arg}")
        if len(msg.payload) > p.MAX_FATAL_REASON:
            raise ProtocolViolation(f"FATAL: reason of {len(msg.payload)} bytes exceeds {p.MAX_FATAL_REASON}")
        from .logbook import clip
        why = clip(msg.payload.decode("utf-8", "replace")) or "no reason given"
        self.runtime_failure = why if msg.arg == p.FAILURES[0][1] else f"the runtime failed: {why}"

    def _reply_unread(self, sock: socket.socket) -> bool:
        """A reply still queued on the process's side (SIOCOUTQ: bytes we sent
        that it has not read): requests come one at a time, each after its reply."""
        try:
            return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0] > 0
        except OSError:
            return False

    # -- channels, for the xaxcalls ------------------------------------------------

    def answer_poll(self, msg: p.Message, entries: list[tuple[int, int]]) -> bool:
        """Reply if any entry is ready (or the poll does not block, or its slice is
        over); True if replied."""
        results, ready = [], 0
        for chan_id, events in entries:
            if chan_id == p.ACCEPT_CHAN:
                revents = events & p.POLLIN if self.incoming else 0
            else:
                chan = self.channels.get(chan_id)
                revents = p.POLLERR if chan is None else chan.poll(events)
            ready += revents != 0
            results.append((chan_id, events, revents))
        expired = self.parked_poll_until is not None and time.monotonic() >= self.parked_poll_until
        timed = msg.arg in (p.POLL_SLICED, p.POLL_TIMED) and self.parked_poll is not None and expired
        if ready or msg.arg == p.POLL_NOW or timed or self.wake_pending:
            self.parked_poll = None
            self.parked_poll_until = None
            self.wake_pending = False
            self.reply(msg, ready, p.encode_poll_entries(results))
            return True
        return False

    def retry_parked_poll(self) -> None:
        if self.parked_poll is not None and self.report is None:
            self.answer_poll(*self.parked_poll)
        for member in list(self.members.values()):
            member.retry_parked_poll()

    def new_channel(self, chan: Channel, holder=None) -> int:
        """A channel id for `chan`, or -1 (and `chan` closed) when the picoprocess holds too many;
        once the family has forked, `holder` (the entry by default) holds it."""
        if len(self.channels) >= MAX_CHANNELS:
            chan.close()
            return -1
        while self.next_chan in self.channels:
            self.next_chan += 1
        cid = self.next_chan
        self.next_chan += 1
        self.channels[cid] = chan
        (holder or self).holds.add(cid)
        return cid

    # -- the family (family.py, docs/processes.md) ---------------------------------------

    def signal(self, sig: int) -> None:
        """KILL from the family: a signal to the entry program."""
        try:
            signal.pidfd_send_signal(self.pidfd, sig)
        except (ProcessLookupError, OSError):
            pass

    def family_of(self) -> "Picoprocess":
        return self

    def processes(self) -> list:
        """The family's live processes: the entry and its members that have not ended."""
        return [self, *self.members.values()]

    def spawn_member(self, parent, msg: p.Message) -> None:
        """SPAWN: a channel for `parent`'s next child, or why not (-ENOSYS, -EAGAIN)."""
        from .family import OWNED_PIDS, Member, become_subreaper
        if self.limits.processes <= 1:
            parent.reply(msg, -errno.ENOSYS)
            return
        if len(self.members) + 1 >= self.limits.processes or len(self.members) >= p.VIRTUAL_PIDS_MAX - 1:
            parent.reply(msg, -errno.EAGAIN)
            return
        if not self.forked:
            from .familywatch import SAMPLE_SECONDS
            self.forked = True
            self.holds = set(self.channels)
            self.calls = Counter({nr: n for (nr, _), n in self.trace.items()})  # its calls before the fork
            self.next_sample = time.monotonic() + SAMPLE_SECONDS
            become_subreaper()
            OWNED_PIDS.add(self.pid)
        vpid = self.next_vpid
        while vpid in self.members or vpid > p.VIRTUAL_PID + p.VIRTUAL_PIDS_MAX:
            vpid = vpid + 1 if vpid <= p.VIRTUAL_PID + p.VIRTUAL_PIDS_MAX else p.VIRTUAL_PID + 1
        self.next_vpid = vpid + 1
        self.ended_members.pop(vpid, None)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        try:
            ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            ours.setblocking(False)
            member = Member(self, ours, vpid, parent)
            self.members[vpid] = member
            if len(self.every_member) < EVERY_MEMBER_MAX:
                self.every_member.append(member)
            parent.pending = None
            try:
                parent.sock.sendmsg([p.reply(msg, vpid)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                                             struct.pack("i", theirs.fileno()))])
            except OSError:
                pass  # it is gone: the new channel sees EOF, and the member ends
        finally:
            theirs.close()
        self.host.watch(ours, member.on_readable)

    def release(self, proc, cid: int) -> bool:
        """proc closes channel `cid`: True if another process of the family still holds it."""
        if not self.forked:
            return False
        proc.holds.discard(cid)
        return any(cid in other.holds for other in self.processes() if other is not proc)

    def member_ended(self, member) -> None:
        self.members.pop(member.vpid, None)
        self.ended_members[member.vpid] = member  # a zombie to its parent: its group still answers (groups.py)
        for cid in list(member.holds):
            if not self.release(member, cid):
                chan = self.channels.pop(cid, None)
                if chan is not None:
                    self.drop_channel(chan)
        for other in list(self.members.values()):  # orphans die with their parent
            if other.parent is member:
                other.kill(f"its parent, process {member.vpid}, ended")
        self.retry_parked_poll()

    def end_family(self) -> None:
        """The entry program has exited: every process of its family ends now."""
        from .family import sweep_session
        for member in list(self.members.values()):
            member.kill("the entry program ended")
        if self.forked:
            sweep_session(self.pid)
        for member in list(self.members.values()):
            member.end(None)

    def drop_channel(self, chan: Channel) -> None:
        chan.close()
        if isinstance(chan, SocketChannel) and self.host is not None:
            self.host.unwatch(chan.sock)

    def resume_socket(self, chan: SocketChannel) -> None:
        """Read a relay's socket again if its buffer has room (after a read, or when it is new)."""
        if chan.wants_input() and not self.host.is_watched(chan.sock):
            self.host.watch(chan.sock, lambda: self._pump(chan))

    def _pump(self, chan: SocketChannel) -> None:
        chan.pump()
        if not chan.wants_input():
            self.host.unwatch(chan.sock)

    def offer_connection(self, chan: Channel) -> bool:
        """An incoming connection for ACCEPT; False (the caller closes it) when too many wait."""
        if self.report is not None or self.kill_reason is not None or len(self.incoming) >= MAX_INCOMING:
            return False
        self.incoming.append(chan)
        self.retry_parked_poll()
        return True

    def next_incoming(self) -> Channel | None:
        return self.incoming.pop(0) if self.incoming else None

    # -- the end ----------------------------------------------------------------

    def finish(self) -> ExitReport:
        """The process has exited (pidfd readable): collect its status and explain it."""
        self.exited_at = time.monotonic()
        self._stop_watching()
        _, status, rusage = os.wait4(self.pid, 0)
        self.end_family()
        if self.forked:
            from .family import OWNED_PIDS
            OWNED_PIDS.discard(self.pid)
        family_tree = None
        if self.forked:
            from .familywatch import close_statuses, tree
            close_statuses(self)
            family_tree = tree(self, status)
        self.proc.returncode = status
        self.on_readable_after_exit()
        boot_err = b""
        if self.proc.stderr is not None:
            boot_err = self.proc.stderr.read(4096)
            self.proc.stderr.close()
        cpu = rusage.ru_utime + rusage.ru_stime
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        code = 128 + sig if sig is not None else os.WEXITSTATUS(status)
        reason = self.kill_reason
        boot_error = None
        if sig is None and self.messages == 0 and code in (p.EXIT_BOOT_FAILED, p.EXIT_SEAL_FAILED):
            detail = boot_err.decode(errors="replace").strip() or "could not install the seccomp filter"
            boot_error = reason = f"the picoprocess did not start: {detail}"
        elif sig is None and code == p.EXIT_RUNTIME_FAILED and self.runtime_failure and reason is None:
            reason = self.runtime_failure
        elif self.awaiting_listener and reason is None and sig == signal.SIGKILL:
            boot_error = reason = ("the picoprocess did not start: its boot block could not send the "
                                   "notification listener")
        if reason is None and sig is not None:
            if sig == signal.SIGXCPU or (sig == signal.SIGKILL and self.limits.cpu_seconds
                                         and cpu >= self.limits.cpu_seconds):
                reason = f"CPU time limit of {self.limits.cpu_seconds} s reached"
            elif sig == signal.SIGSYS:
                reason = ("killed by SIGSYS: a forbidden system call (another architecture, "
                          "an x32 number, or one made with SIGSYS blocked), or its own SIGSYS unhandled")
            else:
                reason = f"killed by {signal.Signals(sig).name}"
        for chan in [*self.channels.values(), *self.incoming]:
            chan.close()
        self._flush_output()
        if self.listener is not None:
            self.listener.close()
        self.sock.close()
        os.close(self.pidfd)
        self.report = ExitReport(code, sig, reason, cpu, time.monotonic() - self.started, self.trace, boot_error,
                                 self.kernel if self.count_kernel else None, self.xaxcalls, self.failed_paths,
                                 self.direct, self.rewritten, family_tree)
        if self.host is not None:
            self.host.exited(self)
        if self.on_exit is not None:
            self.on_exit(self.report)
        return self.report

    def stats(self) -> dict:
        """What `run --stats-json` writes: the Monitor's own clock (time.monotonic, seconds)
        from just before the fork to the exit it saw, and the xaxcalls it served."""
        r, t0 = self.report, self.spawn_started
        return {
            "exit_code": r.exit_code, "signal": r.signal, "reason": r.reason, "cpu_seconds": r.cpu_seconds,
            "spawn_to_exit_seconds": self.exited_at - t0,
            "spawn_seconds": self.started - t0,  # fork + exec of the picoprocess binary (Popen)
            "spawn_to_first_xaxcall_seconds": None if self.first_message_at is None else self.first_message_at - t0,
            "messages": self.messages, "xaxcalls": dict(sorted(self.xaxcalls.items())),
        }

    def on_readable_after_exit(self) -> None:
        """Count the trace events still queued on the channel; reply to nothing."""
        while True:
            try:
                data, _, flags, _ = self.sock.recvmsg(RECV_SIZE)
            except OSError:
                return
            if not data or flags & socket.MSG_TRUNC:
                return
            try:
                msg = p.decode_request(data)
            except ProtocolViolation:
                return
            if msg.type_name == "TRACE" and (msg.chan in p.TRACE_KIND_NUMBERS or msg.chan in p.TRACE_NOT_CLASSES):
                self._count_trace(self, msg)
            elif msg.type_name == "TRACE_PATH":
                try:
                    self._trace_path(msg)
                except ProtocolViolation:
                    return
            elif msg.type_name == "FATAL":
                try:
                    self._fatal(msg)
                except ProtocolViolation:
                    return
