"""The xaxcalls: one function per request type, and the table that dispatches them.

Each handler gets the picoprocess and its decoded request (protocol.decode_request
has checked the header); it checks the rest (payload sizes, channel ids, state),
raising ProtocolViolation for anything malformed, and replies through
`pico.reply`.  Slow work — HTTP and TCP connects — runs in the host's worker
threads (`pico.host.submit`), and its reply comes back on the loop.
"""
from __future__ import annotations

import errno
import functools
import signal
import struct
import socket
import threading
import time
import weakref
from typing import Callable

from .. import protocol as p
from ..errors import OriginError, ProtocolViolation
from ..limits import channel_for_replies
from ..syscalls.forwarding import FORWARDABLE, Forwarded
from . import mounts, threads
from .channels import CLOSED, BodyChannel, PutChannel, SocketChannel, StreamChannel
from .fetch import FetchError, fetch, fetch_stream
from .origin import check_same_origin, pin_address

MAX_DOWNLOADS = 16       # streamed GETs under way at once, per picoprocess (each has a thread)
CONNECT_TIMEOUT = 10.0


@functools.cache
def _forwardable_by_number() -> dict[int, Forwarded]:
    """FORWARDABLE by syscall number, numbered by libseccomp (loaded for the filter
    anyway; tests/test_syscall_catalogue.py checks it agrees with the kernel's
    numbers): the whole syscall catalogue is not needed to serve a FORWARD."""
    from ..seal import syscall_number
    return {syscall_number(name): f for name, f in FORWARDABLE.items()}


def _no_payload(msg: p.Message) -> None:
    if msg.payload:
        raise ProtocolViolation(f"{msg.type_name} carries no payload")


# -- trivial ones -------------------------------------------------------------------

def null(pico, msg: p.Message) -> None:
    pico.reply(msg, 0)


def listener(pico, msg: p.Message) -> None:
    raise ProtocolViolation("LISTENER is sent once, by the boot block, before anything else")


def runtime_code(pico, msg: p.Message) -> None:
    ranges = p.decode_runtime_code(msg.payload)
    if not pico.count_kernel:
        raise ProtocolViolation("RUNTIME_CODE outside trace mode")
    if pico.runtime_code is not None:
        raise ProtocolViolation("RUNTIME_CODE sent twice")
    pico.runtime_code = ranges
    pico.reply(msg, 0)


def forward(pico, msg: p.Message) -> None:
    """A forwarded system call: served if forwarding.FORWARDABLE lists it, else -ENOSYS."""
    if len(msg.payload) != p.FORWARD.size:
        raise ProtocolViolation(f"FORWARD: payload of {len(msg.payload)} bytes, expected {p.FORWARD.size}")
    nr, *args = p.FORWARD.unpack(msg.payload)
    forwarded = _forwardable_by_number().get(nr)
    if forwarded is None:
        pico.reply(msg, -1, p.FORWARD_RESULT.pack(-errno.ENOSYS))
        return
    result, out = forwarded.serve(tuple(args))
    pico.reply(msg, forwarded.out_arg if out else -1, p.FORWARD_RESULT.pack(result) + out)


# -- channels ---------------------------------------------------------------------------

def accept(pico, msg: p.Message) -> None:
    _no_payload(msg)
    chan = pico.next_incoming()
    pico.reply(msg, -1 if chan is None else pico.new_channel(chan))


_REPLY_MAX: "weakref.WeakKeyDictionary[socket.socket, int]" = weakref.WeakKeyDictionary()


def _reply_max(sock: socket.socket) -> int:
    """The most payload a READ's reply may carry on this channel (the entry's, or a forked
    member's: each its own socket), its send buffer raised for it on the first READ."""
    n = _REPLY_MAX.get(sock)
    if n is None:
        n = _REPLY_MAX[sock] = channel_for_replies(sock)
    return n


def read(pico, msg: p.Message) -> None:
    _no_payload(msg)
    if not 0 <= msg.arg <= p.MAX_READ:
        raise ProtocolViolation(f"READ of {msg.arg} bytes is outside 0..{p.MAX_READ}")
    chan = pico.channels.get(msg.chan)
    if chan is None:
        pico.reply(msg, CLOSED)
        return
    if msg.arg == 0:
        pico.reply(msg, 0)
        return
    n = min(msg.arg, _reply_max(pico.sock))
    if isinstance(chan, StreamChannel):  # a download's pieces, gathered into the reply as they are
        parts = chan.read_parts(n)
        if isinstance(parts, int):
            pico.reply(msg, parts)
        else:
            pico.reply_parts(msg, sum(map(len, parts)), parts)
        return
    out = chan.read(n)
    if isinstance(chan, SocketChannel):
        pico.resume_socket(chan)
    if isinstance(out, int):
        pico.reply(msg, out)
    else:
        pico.reply(msg, len(out), out)


def write(pico, msg: p.Message) -> None:
    chan = pico.channels.get(msg.chan)
    if chan is None:
        pico.reply(msg, CLOSED)
        return
    pico.reply(msg, chan.write(msg.payload) if msg.payload else 0)


def close(pico, msg: p.Message) -> None:
    """arg 0: the channel closes; arg 1: the picoprocess writes no more on it (a socket's
    shutdown(SHUT_WR)), and its reading goes on."""
    _no_payload(msg)
    if msg.arg not in (0, 1):
        raise ProtocolViolation(f"CLOSE: arg must be 0 or 1, not {msg.arg}")
    if msg.arg == 1:
        chan = pico.channels.get(msg.chan)
        if chan is not None:
            chan.end_output()
        pico.reply(msg, -1 if chan is None else 0)
        return
    if msg.chan in pico.channels and pico.release(pico, msg.chan):
        pico.reply(msg, 0)  # another process of the family still holds it (across fork, as Linux's fds)
        return
    chan = pico.channels.pop(msg.chan, None)
    if chan is None:
        pico.reply(msg, -1)
        return
    pico.drop_channel(chan)
    pico.reply(msg, 0)


def poll(pico, msg: p.Message) -> None:
    entries = p.decode_poll_entries(msg.payload)
    if msg.arg not in (p.POLL_NOW, p.POLL_BLOCK, p.POLL_SLICED, p.POLL_TIMED):
        raise ProtocolViolation(f"POLL: arg must be 0, 1, 2 or 3, not {msg.arg}")
    if msg.arg == p.POLL_TIMED and not 0 <= msg.chan <= p.POLL_TIMEOUT_MAX:
        raise ProtocolViolation(f"POLL: a timeout of {msg.chan} ms")
    if not pico.answer_poll(msg, entries) and msg.arg != p.POLL_NOW:
        pico.parked_poll = (msg, entries)
        wait = {p.POLL_SLICED: p.POLL_SLICE, p.POLL_TIMED: msg.chan / 1000}.get(msg.arg)
        pico.parked_poll_until = None if wait is None else time.monotonic() + wait


# -- the origin -------------------------------------------------------------------------

def _address(pico) -> Callable[[], str]:
    """For a worker thread: the picoprocess's origin's IP address, pinned at its first
    answer (DNS rebinding).  An image's was pinned when it was fetched; a bare program's
    --origin is looked up on first use, once, and kept."""
    def address() -> str:
        if pico.origin_address is None:
            pico.origin_address = pin_address(pico.origin)
        return pico.origin_address
    return address


def open_url(pico, msg: p.Message) -> None:
    method, url = p.split_open_url(msg.payload)
    if method not in ("get", "put", "connect"):
        pico.log(f"open_url: unknown method {method!r}")
        pico.reply(msg, -1)
        return
    if method == "get" and url in pico.local_files:
        pico.reply(msg, pico.new_channel(BodyChannel(pico.local_files[url])))
        return
    try:
        parsed = check_same_origin(url, pico.origin)
    except OriginError as e:
        pico.log(f"open_url {method} refused: {e}")
        pico.reply(msg, -1)
        return
    if method == "get":
        pico.pending = msg
        _get(pico, msg, str(parsed))
    elif method == "put":
        chan = PutChannel(pico.limits.download, lambda c: _put(pico, c, str(parsed)))
        pico.reply(msg, pico.new_channel(chan))
    else:
        pico.pending = msg
        _connect(pico, msg, parsed.origin.host, parsed.origin.port)


def _get(pico, msg: p.Message, url: str) -> None:
    """A GET, streamed: OPEN_URL is answered once the response's head is here, and the
    body reaches the program's reads as it arrives (StreamChannel), through a thread of
    its own that waits on the program's reading as long as the download lasts."""
    if pico.downloads >= MAX_DOWNLOADS:
        pico.log(f"open_url get refused: {MAX_DOWNLOADS} downloads are under way already")
        pico.reply(msg, -1)
        return
    cache, origin, limit, address = pico.host.cache, pico.origin, pico.limits.download, _address(pico)
    chan = StreamChannel(wake=lambda: pico.host.call_soon_threadsafe(pico.retry_parked_poll))
    pico.downloads += 1

    def later(fn: Callable[[], None]) -> None:
        pico.host.call_soon_threadsafe(fn)

    def done() -> None:
        pico.downloads -= 1

    def download() -> None:
        line, stream = None, None
        try:
            stream = fetch_stream("GET", url, origin, limit=limit, cache=cache, address=address())
            if stream.status != 200:
                line = f"GET {url}: HTTP {stream.status}"
                stream.close()
                stream = None
        except (FetchError, OriginError) as e:
            line = f"GET failed: {e}"
        except Exception as e:  # a bug here must not leave the picoprocess waiting forever
            line = f"GET failed unexpectedly: {e!r}"
        got = stream

        def answer() -> None:
            if line:
                pico.log(line)
            if pico.report is not None or pico.pending is not msg:
                chan.close()
                return
            pico.reply(msg, -1 if got is None else pico.new_channel(chan))
        later(answer)
        if stream is None:
            later(done)
            return
        ok = True
        try:
            for piece in stream.pieces:
                if not chan.push(piece):
                    break  # the program closed it (or is gone): stop reading the origin
        except FetchError as e:
            ok, failure = False, f"GET {url}: {e}"
            later(lambda: pico.log(failure))
        except Exception as e:  # noqa: BLE001 - a bug: the program sees the body fail, never a hang
            ok, failure = False, f"GET {url} failed unexpectedly: {e!r}"
            later(lambda: pico.log(failure))
        finally:
            stream.close()
            chan.finish(ok)
            later(done)

    threading.Thread(target=download, name="xax-get", daemon=True).start()


def _put(pico, chan: PutChannel, url: str) -> None:
    origin, limit, request, address = pico.origin, pico.limits.download, bytes(chan.request), _address(pico)

    def work() -> Callable[[], None]:
        line = None
        try:
            resp = fetch("PUT", url, origin, body=request, limit=limit, address=address())
            ok = 200 <= resp.status < 300
        except Exception as e:  # FetchError, or a bug: either way the program sees -1, never a hang
            resp, ok, line = None, False, f"PUT failed: {e}"

        def deliver() -> None:
            if line:
                pico.log(line)
            if ok:
                chan.body = resp.body
            else:
                chan.failed = True
        return deliver

    pico.host.submit(work)


def _connect(pico, msg: p.Message, host: str, port: int) -> None:
    address = _address(pico)

    def work() -> Callable[[], None]:
        line = None
        try:
            sock = socket.create_connection((address(), port), timeout=CONNECT_TIMEOUT)
            sock.setblocking(False)
        except (OSError, OriginError) as e:
            sock, line = None, f"connect {host}:{port} failed: {e}"

        def deliver() -> None:
            if line:
                pico.log(line)
            _connected(pico, msg, sock)
        return deliver

    pico.host.submit(work)


def _connected(pico, msg: p.Message, sock: socket.socket | None) -> None:
    if pico.report is not None or pico.pending is not msg:
        if sock:
            sock.close()
        return
    if sock is None:
        pico.reply(msg, -1)
        return
    chan = SocketChannel(sock)
    cid = pico.new_channel(chan)
    if cid < 0:
        sock.close()
    else:
        pico.resume_socket(chan)
    pico.reply(msg, cid)


# -- the RAM disks at exit (run --export-ram) ---------------------------------------------

def export_ram(pico, msg: p.Message) -> None:
    """A piece of the RAM disks' tar; refused (-1) when the run did not ask for it, past
    the limit, or after the last piece (exportram.py)."""
    if msg.arg not in (p.EXPORT_MORE, p.EXPORT_LAST, p.EXPORT_FAILED):
        raise ProtocolViolation(f"EXPORT_RAM: arg must be EXPORT_MORE, EXPORT_LAST or EXPORT_FAILED, not {msg.arg}")
    if msg.arg == p.EXPORT_FAILED and msg.payload:
        raise ProtocolViolation("EXPORT_RAM: EXPORT_FAILED carries no payload")
    from .family import Member
    # The entry's exit exports the family's RAM disks; a member (forked) asking is refused,
    # so that no child sends pieces of a tar the entry is still changing.
    sink = None if isinstance(pico, Member) else pico.export_ram
    if sink is None:
        pico.reply(msg, -1)
    elif msg.arg == p.EXPORT_FAILED:
        sink.abandon("the layer could not write its RAM disks as a tar (a path over 4095 bytes, or no memory)")
        pico.reply(msg, 0)
    else:
        pico.reply(msg, 0 if sink.take(msg.payload, msg.arg == p.EXPORT_LAST) else -1)


# -- processes (family.py, docs/processes.md) ------------------------------------------

def spawn(pico, msg: p.Message) -> None:
    _no_payload(msg)
    pico.family_of().spawn_member(pico, msg)


def pipe(pico, msg: p.Message) -> None:
    """PIPE: a pipe of the family, holding what the process's own pipe held."""
    from .family import FamilyPipe
    if pico.limits.processes <= 1:
        raise ProtocolViolation("PIPE: processes are not enabled")
    if not _pipe_size_valid(msg.arg):
        raise ProtocolViolation(f"PIPE: capacity {msg.arg} is not a power of two from {p.PIPE_MIN_SIZE} to {p.PIPE_MAX_SIZE}")
    if len(msg.payload) > msg.arg:
        raise ProtocolViolation(f"PIPE: {len(msg.payload)} buffered bytes exceed its capacity {msg.arg}")
    fp = FamilyPipe(msg.payload, msg.arg)
    rchan = pico.new_channel(fp.read_end)
    wchan = pico.new_channel(fp.write_end) if rchan >= 0 else -1
    if rchan >= 0 and wchan < 0:
        pico.drop_channel(pico.channels.pop(rchan))
        rchan = -1
    pico.reply(msg, rchan, struct.pack("<i", wchan))


def _pipe_size_valid(size: int) -> bool:
    return p.PIPE_MIN_SIZE <= size <= p.PIPE_MAX_SIZE and size & (size - 1) == 0


def pipe_size(pico, msg: p.Message) -> None:
    """PIPE_SIZE: F_GETPIPE_SZ (arg 0) or F_SETPIPE_SZ (arg the new capacity, which the layer
    rounded as Linux does) of a family pipe one of whose ends the process holds."""
    _no_payload(msg)
    if msg.arg != 0 and not _pipe_size_valid(msg.arg):
        raise ProtocolViolation(f"PIPE_SIZE: capacity {msg.arg} is not a power of two from {p.PIPE_MIN_SIZE} "
                                f"to {p.PIPE_MAX_SIZE}")
    end = pico.channels.get(msg.chan)
    fp = getattr(end, "pipe", None) if getattr(end, "kind", None) == "pipe" else None
    if fp is None:
        pico.reply(msg, -errno.EBADF)
        return
    if msg.arg and len(fp.buf) > msg.arg:
        pico.reply(msg, -errno.EBUSY)
        return
    if msg.arg:
        fp.capacity = msg.arg
    pico.reply(msg, fp.capacity)


def born(pico, msg: p.Message) -> None:
    raise ProtocolViolation("BORN comes once, first, on a new channel")


def kill(pico, msg: p.Message) -> None:
    """A signal to a process of the family by virtual pid, or to a group of it (0: the caller's,
    -pgid, -1: every other member); never outside it.  The caller, when a group holds it, is not
    signalled here: KILL_SELF_TOO tells it to signal itself, after the others, as the call returns."""
    from . import groups
    _no_payload(msg)
    if not 0 <= msg.arg <= 64:
        pico.reply(msg, -errno.EINVAL)
        return
    family = pico.family_of()
    if family.report is not None:
        pico.reply(msg, -errno.ESRCH)
        return
    targets = groups.kill_targets(family, pico, msg.chan)
    if targets is None:
        pico.reply(msg, -errno.ESRCH)
        return
    if msg.arg == signal.SIGSYS:  # the seal's own: a real one pending would swallow the target's next trap
        pico.reply(msg, -errno.EINVAL)
        return
    self_too = msg.chan <= 0 and pico in targets
    pico.reply(msg, p.KILL_SELF_TOO if self_too else 0)  # first: the signal may end the sender itself
    if msg.arg:
        for target in targets:
            if target is not pico or not self_too:
                target.signal(msg.arg)


def pgrp(pico, msg: p.Message) -> None:
    """PGRP: the family's process groups and sessions (groups.py)."""
    from . import groups
    if msg.arg not in groups.PGRP_OPS:
        raise ProtocolViolation(f"PGRP: arg must be one of PGRP_GETPGID, PGRP_GETSID, PGRP_SETPGID, PGRP_SETSID, "
                                f"not {msg.arg}")
    if msg.arg == p.PGRP_SETPGID:
        if len(msg.payload) != 4:
            raise ProtocolViolation(f"PGRP_SETPGID: the payload is one int32 (the group), not {len(msg.payload)} bytes")
    else:
        _no_payload(msg)
    if pico.limits.processes <= 1:
        raise ProtocolViolation("PGRP: processes are not enabled")
    family = pico.family_of()
    if msg.arg == p.PGRP_GETPGID:
        r = groups.getpgid(family, pico, msg.chan)
    elif msg.arg == p.PGRP_GETSID:
        r = groups.getsid(family, pico, msg.chan)
    elif msg.arg == p.PGRP_SETPGID:
        r = groups.setpgid(family, pico, msg.chan, struct.unpack("<i", msg.payload)[0])
    else:
        r = -errno.EINVAL if msg.chan else groups.setsid(family, pico)
    pico.reply(msg, r)


def exec_(pico, msg: p.Message) -> None:
    """EXEC: the process runs another program from now on (its parent's setpgid of it is EACCES;
    the trace names the program)."""
    if pico.limits.processes <= 1:
        raise ProtocolViolation("EXEC: processes are not enabled")
    if msg.arg == p.EXEC_AGAIN:
        if msg.payload or not pico.execed:
            raise ProtocolViolation("EXEC again: only after an EXEC, and without a payload")
    elif msg.arg != 0:
        raise ProtocolViolation(f"EXEC: arg must be 0 or EXEC_AGAIN, not {msg.arg}")
    elif not 1 <= len(msg.payload) <= p.EXEC_PATH_MAX or b"\0" in msg.payload:
        raise ProtocolViolation(f"EXEC: the path must be 1 .. {p.EXEC_PATH_MAX} bytes without NUL, "
                                f"not {len(msg.payload)} bytes")
    else:
        pico.execed = True
        pico.programs.append(msg.payload.decode("utf-8", "backslashreplace"))
    pico.reply(msg, threads.end_threads(pico.pid) if pico.pid else 1)


# The table, by message type: every request a picoprocess may send (TRACE and TRACE_PATH are
# one-way and counted by the picoprocess itself; BOOT goes the other way).
XAXCALLS: dict[int, Callable[..., None]] = {
    p.TYPES["OPEN_URL"]: open_url,
    p.TYPES["READ"]: read,
    p.TYPES["WRITE"]: write,
    p.TYPES["POLL"]: poll,
    p.TYPES["CLOSE"]: close,
    p.TYPES["ACCEPT"]: accept,
    p.TYPES["NULL"]: null,
    p.TYPES["FORWARD"]: forward,
    p.TYPES["LISTENER"]: listener,
    p.TYPES["RUNTIME_CODE"]: runtime_code,
    p.TYPES["EXPORT_RAM"]: export_ram,
    p.TYPES["SPAWN"]: spawn,
    p.TYPES["BORN"]: born,
    p.TYPES["KILL"]: kill,
    p.TYPES["PIPE"]: pipe,
    p.TYPES["PIPE_SIZE"]: pipe_size,
    p.TYPES["PGRP"]: pgrp,
    p.TYPES["EXEC"]: exec_,
    **mounts.HANDLERS,  # host directories (run --mount)
}
