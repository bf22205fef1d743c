"""A browser request to an app that serves HTTP itself (an "http" instance).

The request becomes one connection the program receives from xabi_accept: the
Monitor writes it there with the instance prefix removed and `Connection: close`
(framed by h11 as a client would), and reads the program's response with h11 —
the program's bytes are parsed by a well-kept library, never trusted as framed —
then streams it to the browser as it arrives, re-framed for the browser's own
connection.  A response h11 refuses, or none in time, is a 502/504; once the head
has gone to the browser, a broken body closes the browser's connection.

An `Upgrade: websocket` request whose response is 101 becomes a raw two-way relay.
"""
from __future__ import annotations

import threading

import h11

from ..monitor.channels import PipeChannel
from .http1 import BrowserConn, Gone, Request, end_to_end

HEAD_TIMEOUT = 60.0     # seconds for the program's response head
SEND_TIMEOUT = 30.0     # seconds the program may leave the request unread
POLL = 5.0              # seconds between checks that the browser is still there, while a body is quiet
PIECE = 64 << 10


class AppError(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


def _request_head(req: Request, target: str, upgrade: bool) -> h11.Request:
    keep = frozenset({b"upgrade"}) if upgrade else frozenset()
    headers = end_to_end(req.headers, keep)
    if not any(k == b"host" for k, _ in headers):
        headers.append((b"host", b"localhost"))
    headers.append((b"connection", b"upgrade" if upgrade else b"close"))
    return h11.Request(method=req.method, target=target, headers=headers)


def exchange(browser: BrowserConn, req: Request, target: str, chan: PipeChannel,
             head_timeout: float = HEAD_TIMEOUT) -> None:
    """Relay one request and its response through `chan` (already offered to the program)."""
    upgrade = req.has_token(b"connection", b"upgrade") and req.header(b"upgrade") is not None
    client = h11.Connection(h11.CLIENT)

    def to_app(event) -> None:
        if not chan.send(client.send(event), SEND_TIMEOUT):
            raise AppError(502, "the app closed the connection or stopped reading the request")

    to_app(_request_head(req, target, upgrade))
    if not upgrade:
        for piece in browser.body():
            to_app(h11.Data(data=piece))
        to_app(h11.EndOfMessage())
    else:
        browser.drain_body()
        to_app(h11.EndOfMessage())
    _relay_response(browser, client, chan, upgrade, head_timeout)


def _next_from_app(client: h11.Connection, chan: PipeChannel, browser: BrowserConn, head: float | None):
    """The next event of the program's response; `head`: seconds allowed for it (the
    response head), or None (a body, which may be quiet while the browser is there)."""
    while True:
        try:
            event = client.next_event()
        except h11.RemoteProtocolError as e:
            raise AppError(502, f"the app's response is malformed: {e}") from None
        if event is not h11.NEED_DATA:
            return event
        data = chan.receive(PIECE, head if head is not None else POLL)
        if data is None:
            if head is not None:
                raise AppError(504, f"the app sent no response in {head:g} s")
            if browser_gone(browser):
                raise Gone("the browser left")
            continue
        client.receive_data(data)


def _relay_response(browser: BrowserConn, client: h11.Connection, chan: PipeChannel, upgrade: bool,
                    head_timeout: float) -> None:
    event = _next_from_app(client, chan, browser, head=head_timeout)
    while isinstance(event, h11.InformationalResponse) and event.status_code != 101:
        event = _next_from_app(client, chan, browser, head=head_timeout)  # 100 Continue and the like: not passed on
    if isinstance(event, h11.ConnectionClosed):
        raise AppError(502, "the app closed the connection without a response")
    if isinstance(event, h11.InformationalResponse):  # 101: the app took the upgrade
        if not upgrade:
            raise AppError(502, "the app switched protocols unasked")
        browser.start_response(101, end_to_end(event.headers, frozenset({b"upgrade"}))
                               + [(b"connection", b"upgrade")], event.reason)
        leftover, _ = client.trailing_data
        splice(browser, chan, bytes(leftover))
        return
    headers = end_to_end(event.headers)  # a Content-Length stays: h11 holds both sides to it
    browser.start_response(event.status_code, headers, event.reason)
    while True:
        event = _next_from_app(client, chan, browser, head=None)
        if isinstance(event, h11.Data):
            browser.send_data(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            browser.end_response()
            return
        else:
            raise Gone("the app's response ended early")


def browser_gone(browser: BrowserConn) -> bool:
    """Whether the browser has closed its side (readable with nothing to read)."""
    import select
    import socket
    try:
        ready, _, _ = select.select([browser.sock], [], [], 0)
        if not ready:
            return False
        return browser.sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def splice(browser: BrowserConn, chan: PipeChannel, first: bytes) -> None:
    """After a 101: the bytes of both sides relayed as they are, until either side closes."""
    leftover, _ = browser.h11.trailing_data
    sock = browser.sock
    sock.settimeout(None)

    def upward() -> None:
        data = bytes(leftover)
        try:
            while True:
                if data and not chan.send(data, None):
                    return
                data = sock.recv(PIECE)
                if not data:
                    chan.end_input()
                    return
        except OSError:
            chan.abandon()

    up = threading.Thread(target=upward, name="xax-splice", daemon=True)
    up.start()
    try:
        if first:
            sock.sendall(first)
        while True:
            data = chan.receive(PIECE, POLL)
            if data is None:
                if not up.is_alive() and chan.app_closed:
                    return
                continue
            if not data:
                return
            sock.sendall(data)
    except OSError:
        pass
    finally:
        browser.close()
        chan.abandon()
