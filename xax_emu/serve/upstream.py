"""Requests that are not for an app: passed to their origin unchanged and streamed
both ways, a piece at a time (never held whole).

The Monitor adds nothing and caches nothing here: the browser's conditional
headers go to the origin and the origin's caching headers come back, so the
browser's own HTTP cache applies end to end.  (The Monitor's cache holds what it
fetches for itself: images, and what picoprocesses open.)  Only hop-by-hop
headers are dropped, as any proxy does.
"""
from __future__ import annotations

import http.client
import socket
import ssl
from typing import Iterator

from ..monitor.origin import Origin
from .http1 import BrowserConn, Gone, Request, end_to_end

TIMEOUT = 30.0
PIECE = 64 << 10


class UpstreamError(Exception):
    """The origin could not be reached or answered badly (502/504 to the browser)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


def connect(origin: Origin) -> http.client.HTTPConnection:
    if origin.scheme == "https":
        return http.client.HTTPSConnection(origin.host, origin.port, timeout=TIMEOUT,
                                           context=ssl.create_default_context())
    return http.client.HTTPConnection(origin.host, origin.port, timeout=TIMEOUT)


def host_header(origin: Origin) -> bytes:
    host = f"[{origin.host}]" if ":" in origin.host else origin.host
    return (host if origin.port == {"http": 80, "https": 443}[origin.scheme] else f"{host}:{origin.port}").encode()


def _send_body(conn: http.client.HTTPConnection, body: Iterator[bytes], chunked: bool) -> None:
    for piece in body:
        if not piece:
            continue
        conn.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
    if chunked:
        conn.send(b"0\r\n\r\n")


def pass_through(browser: BrowserConn, req: Request, origin: Origin, path: str, rewrite_host: bool,
                 location_from: str | None = None) -> None:
    """Forward `req` to `origin` + `path` and stream the answer back.  `rewrite_host`:
    the Host header becomes the origin's (gateway mode).  `location_from`: a redirect to
    this prefix is rewritten to the gateway's own namespace."""
    headers = end_to_end(req.headers)
    if rewrite_host:
        headers = [(k, v) for k, v in headers if k != b"host"] + [(b"host", host_header(origin))]
    has_body = req.header(b"content-length") not in (None, b"0") or req.header(b"transfer-encoding") is not None
    conn = connect(origin)
    try:
        try:
            conn.putrequest(req.method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k.decode("latin-1"), v.decode("latin-1"))
            chunked = has_body and req.header(b"content-length") is None
            if has_body:
                if chunked:
                    conn.putheader("Transfer-Encoding", "chunked")
                else:
                    conn.putheader("Content-Length", req.header(b"content-length").decode("ascii"))
            conn.endheaders()
            if has_body:
                _send_body(conn, browser.body(), chunked)
            else:
                browser.drain_body()
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            raise UpstreamError(504 if isinstance(e, (socket.timeout, TimeoutError)) else 502,
                                f"{origin}: {e or type(e).__name__}") from None
        out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in resp.getheaders()]
        out = end_to_end(out)
        if location_from:
            out = [(k, _rewrite_location(v, location_from)) if k == b"location" else (k, v) for k, v in out]
        if resp.chunked or resp.length is None:
            out = [(k, v) for k, v in out if k != b"content-length"]
        browser.start_response(resp.status, out, resp.reason.encode("latin-1", "replace"))
        while True:
            try:
                piece = resp.read1(PIECE) if req.method != "HEAD" else b""
            except (OSError, http.client.HTTPException) as e:
                raise Gone(f"the origin's body failed: {e}") from None
            if not piece:
                break
            browser.send_data(piece)
        browser.end_response()
    finally:
        conn.close()


def _rewrite_location(value: bytes, prefix: str) -> bytes:
    text = value.decode("latin-1")
    if text.startswith(prefix):
        rest = text[len(prefix):]
        return ("/" + rest.lstrip("/")).encode("latin-1")
    return value
