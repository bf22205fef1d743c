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
import socket
import time
from typing import Callable

from .. import protocol as p
from ..errors import OriginError, ProtocolViolation
from ..syscalls.forwarding import FORWARDABLE, Forwarded
from .channels import CLOSED, BodyChannel, PutChannel, SocketChannel
from .fetch import FetchError, fetch
from .origin import check_same_origin, pin_address

BODY_BUDGET_FACTOR = 4   # downloaded bytes held at once: this many download limits
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


def read(pico, msg: p.Message) -> None:
    _no_payload(msg)
    if not 0 <= msg.arg <= p.MAX_PAYLOAD:
        raise ProtocolViolation(f"READ of {msg.arg} bytes is outside 0..{p.MAX_PAYLOAD}")
    chan = pico.channels.get(msg.chan)
    if chan is None:
        pico.reply(msg, CLOSED)
        return
    if msg.arg == 0:
        pico.reply(msg, 0)
        return
    out = chan.read(msg.arg)
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
    cache, origin, limit, address = pico.host.cache, pico.origin, pico.limits.download, _address(pico)

    def work() -> Callable[[], None]:
        line = None
        try:
            resp = fetch("GET", url, origin, limit=limit, cache=cache, address=address())
            body = resp.body if resp.status == 200 else None
            if body is None:
                line = f"GET {url}: HTTP {resp.status}"
        except (FetchError, OriginError) as e:
            body, line = None, f"GET failed: {e}"
        except Exception as e:  # a bug here must not leave the picoprocess waiting forever
            body, line = None, f"GET failed unexpectedly: {e!r}"

        def deliver() -> None:
            if line:
                pico.log(line)
            _fetched(pico, msg, body)
        return deliver

    pico.host.submit(work)


def _fetched(pico, msg: p.Message, body: bytes | None) -> None:
    """A GET finished (body) or failed (None): answer the deferred OPEN_URL."""
    if pico.report is not None or pico.pending is not msg:
        return
    held = sum(len(c.body or b"") for c in pico.channels.values() if isinstance(c, BodyChannel))
    if body is not None and held + len(body) > BODY_BUDGET_FACTOR * pico.limits.download:
        pico.log(f"open_url refused: {held + len(body)} downloaded bytes would be held at once, "
                 f"over {BODY_BUDGET_FACTOR} x the download limit")
        body = None
    pico.reply(msg, -1 if body is None else pico.new_channel(BodyChannel(body)))


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


# The table, by message type: every request a picoprocess may send (TRACE is
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
}
