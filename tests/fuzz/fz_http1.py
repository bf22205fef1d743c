"""Fuzz target `http1`: bytes from a browser into serve's HTTP front (serve/http1.py).

The input is what the browser sends on one connection (then it half-closes): a
BrowserConn reads it over a real socketpair as serve does — request after request,
each body read up to a limit or drained, each answered — until the connection is
done.  Half the inputs are a well-formed request head with fuzzed parts (method,
target, headers, body framing) and the rest appended; the others are raw bytes.
Allowed: ClientError (answered with its status, 400-431, then closed) and Gone.
Checked: a request is an ASCII method and a target with its headers; a body never
exceeds its limit; an error status is 4xx or 5xx (h11 answers 501 for a transfer coding it lacks); at most HEAD_MAX + one read of bytes
wait unparsed in h11 (bounded memory, whatever the input).
"""
from __future__ import annotations

import socket

from fuzzlib import Reader, check

from xax_emu.serve.http1 import HEAD_MAX, RECV, BrowserConn, ClientError, Gone, end_to_end

NAME = "http1"
INSTRUMENT = ("xax_emu.serve.http1", "h11")

METHODS = (b"GET", b"POST", b"PUT", b"CONNECT", b"HEAD", b"OPTIONS", b"G T", b"")
TARGETS = (b"/", b"/.xax/0123/run?dpi=72", b"http://127.0.0.1:8000/a.tar?xax", b"127.0.0.1:443", b"*", b"",
           b"/\x00", b"/" + b"a" * 20000)
VERSIONS = (b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b"HTTP/1.1 x", b"")
HEADERS = (b"Host: a", b"Content-Length: 5", b"Content-Length: -1", b"Content-Length: 5, 6",
           b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip, chunked", b"Connection: close",
           b"Connection: keep-alive, Upgrade", b"Upgrade: websocket", b"Expect: 100-continue", b" folded",
           b"X: " + b"v" * 17000, b"Bad Header: x", b"X:\x00", b"Content-Length: 99999999999999999999")
BODY_LIMIT = 64


def _request(r: Reader) -> bytes:
    head = [r.choose(METHODS) + b" " + (r.choose(TARGETS) if r.u8() % 4 else r.blob(64)) + b" "
            + r.choose(VERSIONS)]
    for _ in range(r.u8() % 5):
        head.append(r.choose(HEADERS) if r.u8() % 4 else r.blob(64))
    body = b"5\r\nhello\r\n0\r\n\r\n" if r.u8() & 1 else b"hello"
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def one_input(data: bytes) -> None:
    r = Reader(data)
    if r.u8() & 1:
        wire = b"".join(_request(r) for _ in range(1 + r.u8() % 3)) + r.rest()
    else:
        wire = r.rest()
    server, browser = socket.socketpair()
    try:
        browser.setblocking(False)
        try:
            browser.sendall(wire)  # the socket's buffer holds the largest input libFuzzer makes
        except BlockingIOError:
            return
        browser.shutdown(socket.SHUT_WR)
        conn = BrowserConn(server, head_timeout=5.0)
        for i in range(64):
            try:
                req = conn.next_request()
                if req is None:
                    break
                check(req.method.isascii() and req.method != "", f"method {req.method!r}")
                end_to_end(req.headers)
                req.has_token(b"connection", b"upgrade")
                if i % 2:
                    body = conn.read_body(BODY_LIMIT)
                    check(len(body) <= BODY_LIMIT, f"a body of {len(body)} bytes over its limit")
                else:
                    conn.drain_body()
                conn.respond(200, b"ok")
            except ClientError as e:
                check(400 <= e.status < 600, f"a ClientError with status {e.status}")
                conn.error(e.status, str(e))
                break
            except Gone:
                break
            finally:
                pending = len(conn.h11.trailing_data[0])
                check(pending <= HEAD_MAX + RECV, f"{pending} unparsed bytes held")
                try:  # the browser reads what it was sent (the server's writes never wait)
                    while browser.recv(1 << 16):
                        pass
                except BlockingIOError:
                    pass
                except ConnectionResetError:  # the server closed with input unread: the browser is told so
                    pass
            if not conn.reusable:
                break
        conn.close()
    finally:
        server.close()
        browser.close()


def seeds() -> list[bytes]:
    return [b"\0GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"\0POST /.xax/0123/run HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"\0POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            b"\0CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n",
            bytes([1, 0, 1, 2, 1, 0, 1])]
