"""A picoprocess's family: the processes its entry program forks (docs/processes.md).

Every process of the family runs under the seal it inherited and talks to the Monitor on a
channel of its own, which SPAWN made for it.  The family shares one table of channel ids (the
entry's `channels`: stdio, connections, downloads), counted per holder so that a channel closes
when the last process holding it closes it or exits, as a pipe's end does across fork.  A
`Member` serves one forked process's channel; everything that is the family's (channels,
limits, origin, counters, the report) stays on the entry `Picoprocess`, which it reaches through
`family`.

Who a process is, the Monitor learns from the kernel, never from the process: the first datagram
on a new channel carries SCM_CREDENTIALS (the sender's pid, which an unprivileged process cannot
forge), and that pid must be a child of the process whose SPAWN made the channel.

The family ends with its entry program: every member is killed through its pidfd, and then every
process left in the entry's session (a member cannot leave it: setsid traps) — a child that a raw
clone made without a channel included.  The Monitor is their subreaper, so it reaps them all.
"""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import struct
import time
from collections import Counter

from .. import protocol as p
from ..errors import ProtocolViolation
from .channels import CLOSED, NOT_READY, Channel

PR_SET_CHILD_SUBREAPER = 36
UCRED = struct.Struct("iII")  # struct ucred: pid, uid, gid
PIPE_BUF = 4096               # a write of at most this many bytes goes into a pipe whole or not at all (Linux)
SWEEP_ROUNDS = 50             # kill-and-reap rounds at the family's end (a forking process races the sweep)


# What the Monitor's process (serve runs many families in it) reaps through the objects that
# keep their statuses — an entry picoprocess (Picoprocess.finish), a member (Member.on_exit) —
# and never as an orphan of someone else's (reap_orphans).
OWNED_PIDS: set[int] = set()


def adopted_zombies(sid: int) -> list[int]:
    """Zombies among this process's children in session `sid` (a family's: its entry's pid)."""
    found = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/children", "rb") as f:
                children = f.read().split()
        except OSError:
            continue
        for pid in map(int, children):
            st = proc_stat(pid)
            if st is not None and st[0] == "Z" and st[2] == sid and pid not in OWNED_PIDS:
                found.append(pid)
    return found


def reap_orphans(sid: int) -> list[int]:
    """Reap the zombies that came to the Monitor as the subreaper from family `sid` (a raw
    clone's child, a grandchild whose parent ended first) and that no member or entry object
    waits for; each is the family's own (its session), never another family's.  Returns their
    pids."""
    reaped = []
    for pid in adopted_zombies(sid):
        if reap(pid) is not None:
            reaped.append(pid)
    return reaped


def become_subreaper() -> None:
    """Orphans of the family (their parent killed first) come to the Monitor to be reaped,
    never to the host's init, which may not reap them."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, session) of a host process from /proc, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return fields[0].decode(), int(fields[1]), int(fields[3])


def session_members(sid: int) -> list[int]:
    """Host pids of the processes in session `sid` (zombies included)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st is not None and st[2] == sid:
                found.append(int(name))
    return found


def reap(pid: int) -> int | None:
    """The wait status if `pid` is the Monitor's child and has exited, else None."""
    try:
        got, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    return status if got == pid else None


def sweep_session(sid: int) -> None:
    """Kill every process of session `sid` and reap those that are (or become) the Monitor's."""
    for _ in range(SWEEP_ROUNDS):
        pids = session_members(sid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in pids:
            reap(pid)
        time.sleep(0.01)


class Member:
    """One forked process of the family: its channel, its own request in flight, its pid."""

    def __init__(self, family, sock: socket.socket, vpid: int, parent) -> None:
        self.family = family
        self.sock = sock
        self.vpid = vpid
        self.parent = parent                 # the Member (or the entry Picoprocess) that forked it
        self.pid: int | None = None          # host pid, from BORN's credentials
        self.pidfd: int | None = None
        self.name = f"{family.name}/{vpid}"
        self.pending: p.Message | None = None
        self.parked_poll = None
        self.parked_poll_until: float | None = None
        self.wake_pending = False
        self.holds: set[int] = set(parent.holds)
        self.status: int | None = None       # its wait status, when the Monitor could read it
        self.ended = False
        self.report = None
        self.early_signals: list[int] = []   # sent before it said BORN (its parent's fork has returned)
        self.pgid, self.sid = parent.pgid, parent.sid  # the family's own (groups.py)
        self.execed = False
        self.programs: list[str] = []        # what it exec'd, in order (EXEC)
        self.first_program = parent.programs[-1] if parent.programs else parent.first_program
        self.calls: Counter = Counter()      # trace mode: its system calls, by number

    def __getattr__(self, name):
        """What is not the member's own is its family's (channels, limits, origin, counters)."""
        return getattr(self.family, name)

    # -- the channel ------------------------------------------------------------

    def on_readable(self) -> None:
        if self.ended:
            return
        if self.pid is None:
            self._born()
            return
        for _ in range(64):
            if self.ended or self.family.report is not None:
                return
            try:
                data, _, flags, _ = self.sock.recvmsg(p.HEADER_SIZE + p.MAX_PAYLOAD, socket.CMSG_SPACE(UCRED.size))
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.host.unwatch(self.sock)
                return
            if flags & socket.MSG_TRUNC:
                self.kill("protocol violation: message too large")
                return
            if not data:
                self.host.unwatch(self.sock)  # EOF: it is exiting (its pidfd will say)
                return
            try:
                self.family.serve_for(self, p.decode_request(data))
            except ProtocolViolation as e:
                self.kill(f"protocol violation: {e}")
                return

    def _born(self) -> None:
        """The first datagram: BORN, from a child of the process that asked for this channel."""
        try:
            data, anc, flags, _ = self.sock.recvmsg(p.HEADER_SIZE + p.MAX_PAYLOAD, socket.CMSG_SPACE(UCRED.size))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, anc, flags = b"", [], 0
        if not data:  # the fork failed, or the child died before it spoke: its vpid is free
            self.end(None)
            return
        pid = None
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and len(cdata) >= UCRED.size:
                pid = UCRED.unpack_from(cdata)[0]
        try:
            msg = p.decode_request(data)
        except ProtocolViolation as e:
            msg, why = None, str(e)
        else:
            why = "the first message on a new channel must be BORN"
        st = proc_stat(pid) if pid else None
        if msg is None or msg.type_name != "BORN" or msg.payload:
            self._refuse(pid, f"protocol violation: {why}")
            return
        if st is None or st[1] != self.parent.pid or self.parent.pidfd is None:
            self._refuse(pid, "its parent is gone, or it is not the child of the process that asked for it")
            return
        try:
            self.pidfd = os.pidfd_open(pid)
        except OSError:
            self.end(None)
            return
        self.pid = pid
        OWNED_PIDS.add(pid)
        self.name = f"{self.family.name}/{self.vpid}({pid})"
        self.host.watch(self.pidfd, self.on_exit)
        self.send(p.reply(msg, 0))
        for sig in self.early_signals:
            self.signal(sig)

    def _refuse(self, pid: int | None, reason: str) -> None:
        self.family.log(f"process {self.vpid}: {reason}: killed")
        if pid is not None:
            st = proc_stat(pid)
            if st is not None and st[2] == self.family.pid:  # only a process of this family's session
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.end(None)

    def send(self, data: bytes | list) -> None:
        """One datagram: bytes, or buffers gathered into one (protocol.reply_parts)."""
        try:
            if isinstance(data, list):
                self.sock.sendmsg(data)
            else:
                self.sock.send(data)
        except BlockingIOError:
            self.kill("protocol violation: the process does not read its replies")
        except OSError:
            pass

    def reply(self, msg: p.Message, arg: int, payload: bytes = b"") -> None:
        self.pending = None
        self.send(p.reply(msg, arg, payload))

    def reply_parts(self, msg: p.Message, arg: int, parts: list) -> None:
        self.pending = None
        self.send(p.reply_parts(msg, arg, parts))

    def answer_poll(self, msg, entries) -> bool:
        return type(self.family).answer_poll(self, msg, entries)

    def retry_parked_poll(self) -> None:
        if self.parked_poll is not None and not self.ended:
            self.answer_poll(*self.parked_poll)

    def new_channel(self, chan) -> int:
        cid = self.family.new_channel(chan, holder=self)
        return cid

    def kill(self, reason: str) -> None:
        self.family.log(f"process {self.vpid}: {reason}")
        if self.pidfd is not None and not self.ended:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def signal(self, sig: int) -> None:
        if self.ended:
            return
        if self.pidfd is None:
            self.early_signals.append(sig)
            return
        try:
            signal.pidfd_send_signal(self.pidfd, sig)
        except ProcessLookupError:
            pass

    # -- the end ----------------------------------------------------------------

    def on_exit(self) -> None:
        status = reap(self.pid) if self.pid else None
        OWNED_PIDS.discard(self.pid)
        if status is None and self.pid:
            st = proc_stat(self.pid)
            status = None if st is None else status
        self.end(status)

    def end(self, status: int | None) -> None:
        """It has exited (or never started): its channels released, its children killed (orphans
        die with their parent in a family), its place freed."""
        if self.ended:
            return
        self.ended = True
        self.status = status
        self.host.unwatch(self.sock)
        if self.pidfd is not None:
            from .familywatch import keep_for_status
            self.host.unwatch(self.pidfd)
            keep_for_status(self.family, self, self.pidfd)  # its status, once its parent reaps it
            self.pidfd = None  # its children's BORN now finds their parent gone
        self.sock.close()
        self.family.member_ended(self)


class FamilyPipe:
    """A pipe the family's processes share (PIPE, before a fork): one bounded buffer, its two
    ends channels of the family.  An end is closed when no process holds it (release)."""

    def __init__(self, buffered: bytes, capacity: int = p.PIPE_CAPACITY) -> None:
        self.buf = bytearray(buffered)
        self.capacity = capacity
        self.read_end = _PipeEnd(self, reading=True)
        self.write_end = _PipeEnd(self, reading=False)


class _PipeEnd(Channel):
    kind = "pipe"

    def __init__(self, pipe: FamilyPipe, reading: bool) -> None:
        self.pipe, self.reading, self.closed = pipe, reading, False

    def _other_closed(self) -> bool:
        return (self.pipe.write_end if self.reading else self.pipe.read_end).closed

    def read(self, n: int) -> bytes | int:
        if not self.reading or self.closed:
            return CLOSED
        if self.pipe.buf:
            out = bytes(self.pipe.buf[:n])
            del self.pipe.buf[:n]
            return out
        return CLOSED if self._other_closed() else NOT_READY

    def write(self, data: bytes) -> int:
        if self.reading or self.closed or self._other_closed():
            return CLOSED
        room = self.pipe.capacity - len(self.pipe.buf)
        if room <= 0 or (len(data) <= PIPE_BUF and room < len(data)):  # atomic, as Linux's
            return NOT_READY
        self.pipe.buf += data[:room]
        return min(room, len(data))

    def poll(self, events: int) -> int:
        revents = 0
        if self.reading:
            if events & p.POLLIN and (self.pipe.buf or self._other_closed()):
                revents |= p.POLLIN
            if self._other_closed() and not self.pipe.buf:
                revents |= p.POLLHUP
        else:
            if self._other_closed():
                revents |= p.POLLERR
            elif events & p.POLLOUT and self.pipe.capacity - len(self.pipe.buf) >= PIPE_BUF:  # as a write of PIPE_BUF fits
                revents |= p.POLLOUT
        return revents

    def close(self) -> None:
        self.closed = True
