"""One browser connection, HTTP/1.1 parsed by h11 (never by hand).

Reading is bounded: a request head must arrive whole within HEAD_TIMEOUT seconds
(slowloris gets 408) and within HEAD_MAX bytes (431); a request with both
Content-Length and Transfer-Encoding, which two parsers may frame differently
(request smuggling), is refused with 400 rather than forwarded.
"""
from __future__ import annotations

import select
import socket
import time
from dataclasses import dataclass
from typing import Iterable, Iterator

import h11

HEAD_MAX = 16 << 10       # bytes of a request head
HEAD_TIMEOUT = 10.0       # seconds for a whole request head
IDLE_TIMEOUT = 60.0       # seconds a kept-alive connection may wait for its next request
BODY_TIMEOUT = 30.0       # seconds without a byte of a request body
RECV = 64 << 10

# Hop-by-hop headers: they describe one connection, never passed on (RFC 9110 7.6.1).
HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"proxy-authenticate",
                        b"proxy-authorization", b"te", b"trailer", b"transfer-encoding", b"upgrade"})


class ClientError(Exception):
    """The browser's side broke the protocol: answer `status` (if a response can still be
    sent) and close."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


class Gone(Exception):
    """The browser's connection closed or failed."""


@dataclass
class Request:
    method: str
    target: str          # as sent: origin-form, absolute-form, or authority-form (CONNECT)
    headers: list[tuple[bytes, bytes]]
    http_version: bytes

    def header(self, name: bytes) -> bytes | None:
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def has_token(self, name: bytes, token: bytes) -> bool:
        """Whether a comma-separated header (Connection, Upgrade) lists `token`."""
        return any(token in (t.strip().lower() for t in v.split(b",")) for k, v in self.headers if k == name)


def end_to_end(headers: Iterable[tuple[bytes, bytes]], keep: frozenset[bytes] = frozenset()) -> list[tuple[bytes, bytes]]:
    """Headers without the hop-by-hop ones (and those the Connection header names)."""
    headers = list(headers)
    named = {t.strip().lower() for k, v in headers if k == b"connection" for t in v.split(b",")}
    return [(k, v) for k, v in headers if (k not in HOP_BY_HOP and k not in named) or k in keep]


class BrowserConn:
    """The server side of one connection: requests in, responses out."""

    def __init__(self, sock: socket.socket, head_timeout: float = HEAD_TIMEOUT):
        self.sock = sock
        self.head_timeout = head_timeout
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=HEAD_MAX)
        self.closed = False

    # -- reading ----------------------------------------------------------------

    def _fill(self, deadline: float) -> None:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise TimeoutError
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096 if self.h11.their_state is h11.IDLE else RECV)
        except TimeoutError:
            raise
        except OSError as e:
            raise Gone(str(e)) from None
        self.h11.receive_data(data)

    def _readable_within(self, timeout: float) -> bool:
        try:
            ready, _, _ = select.select([self.sock], [], [], timeout)
        except (OSError, ValueError):
            return False
        return bool(ready)

    def _next(self, deadline: float):
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as e:
                raise ClientError(e.error_status_hint, str(e)) from None
            if event is not h11.NEED_DATA:
                return event
            self._fill(deadline)

    def next_request(self) -> Request | None:
        """The next request's head, or None when the browser closed the connection
        between requests."""
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            try:
                self.h11.start_next_cycle()
            except h11.LocalProtocolError:
                return None
        try:
            event = self.h11.next_event()  # a pipelined request may be here already
            if event is h11.NEED_DATA:
                if not self._readable_within(IDLE_TIMEOUT):
                    return None  # an idle kept-alive connection: close it quietly
                event = self._next(time.monotonic() + self.head_timeout)
        except h11.RemoteProtocolError as e:
            raise ClientError(e.error_status_hint, str(e)) from None
        except TimeoutError:
            raise ClientError(408, "the request head did not arrive in time") from None
        except Gone:
            return None
        if isinstance(event, h11.ConnectionClosed):
            return None
        if not isinstance(event, h11.Request):
            raise ClientError(400, f"unexpected {type(event).__name__}")
        headers = list(event.headers)
        names = [k for k, _ in headers]
        if b"transfer-encoding" in names and b"content-length" in names:
            raise ClientError(400, "both Content-Length and Transfer-Encoding: refused (request smuggling)")
        return Request(event.method.decode("ascii"), event.target.decode("ascii", "replace"), headers,
                       event.http_version)

    def body(self) -> Iterator[bytes]:
        """The current request's body, piece by piece as it arrives (nothing once it is read)."""
        while self.h11.their_state is h11.SEND_BODY:
            try:
                event = self._next(time.monotonic() + BODY_TIMEOUT)
            except TimeoutError:
                raise ClientError(408, "the request body stalled") from None
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            elif isinstance(event, h11.ConnectionClosed):
                raise Gone("closed during the request body")
            else:
                raise ClientError(400, f"unexpected {type(event).__name__} in a request body")

    def read_body(self, limit: int) -> bytes:
        out = bytearray()
        for chunk in self.body():
            out += chunk
            if len(out) > limit:
                raise ClientError(413, f"request body over {limit} bytes")
        return bytes(out)

    def drain_body(self) -> None:
        for _ in self.body():
            pass

    # -- writing ----------------------------------------------------------------

    def _send(self, event) -> None:
        try:
            data = self.h11.send(event)
        except h11.LocalProtocolError as e:
            raise Gone(f"cannot send: {e}") from None
        if data:
            self.send_raw(data)

    def send_raw(self, data: bytes) -> None:
        try:
            self.sock.settimeout(BODY_TIMEOUT)
            self.sock.sendall(data)
        except OSError as e:
            raise Gone(str(e)) from None

    def start_response(self, status: int, headers: list[tuple[bytes, bytes]], reason: bytes = b"") -> None:
        if status < 200:
            self._send(h11.InformationalResponse(status_code=status, headers=headers, reason=reason))
        else:
            self._send(h11.Response(status_code=status, headers=headers, reason=reason))

    def send_data(self, data: bytes) -> None:
        if data:
            self._send(h11.Data(data=data))

    def end_response(self) -> None:
        self._send(h11.EndOfMessage())

    def respond(self, status: int, body: bytes = b"", content_type: bytes = b"text/plain; charset=utf-8",
                headers: list[tuple[bytes, bytes]] | None = None) -> None:
        hs = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
              (b"cache-control", b"no-store"), *(headers or [])]
        self.start_response(status, hs)
        self.send_data(body)
        self.end_response()

    def error(self, status: int, text: str) -> None:
        """A plain-text error, if a response can still be sent; then the connection closes."""
        if self.h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            try:
                self.respond(status, (text + "\n").encode(), headers=[(b"connection", b"close")])
            except Gone:
                pass
        self.close()

    @property
    def response_started(self) -> bool:
        return self.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE)

    @property
    def reusable(self) -> bool:
        return self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass
