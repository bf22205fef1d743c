"""HTTP for picoprocesses: GET through a validating cache, PUT, redirects re-checked.

Runs in the Monitor's worker threads, never on its event loop.  Every hop of a
redirect chain is checked against the picoprocess's origin; bodies are capped
at the download limit.

http.client and ssl are imported on the first request, not with this module:
`xax-emu run` of a local image needs the cache object but no HTTP.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import OriginError
from .origin import Origin, Url, check_same_origin, resolve_redirect

if TYPE_CHECKING:
    import http.client

MAX_REDIRECTS = 5
TIMEOUT = 30.0


class FetchError(Exception):
    """A fetch failed; the message says why (shown in the Monitor's log)."""


@dataclass
class Response:
    status: int
    body: bytes
    file: int | None = None  # with want_file, a body from the cache: an open fd of its file (the caller closes it)
    sha256: str | None = None  # a body from the cache: its sha256, which the cache checked against the body


def _connect(u: Url, address: str | None = None) -> http.client.HTTPConnection:
    """A connection to u's origin; with `address`, to that IP address whatever the host
    name resolves to now (the pinned first answer: DNS rebinding), the name still used for
    Host and for TLS (SNI, the certificate)."""
    import http.client
    if u.origin.scheme == "https":
        import ssl
        conn = http.client.HTTPSConnection(u.origin.host, u.origin.port, timeout=TIMEOUT,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(u.origin.host, u.origin.port, timeout=TIMEOUT)
    if address is not None:
        import socket

        def to_pinned(where, timeout, source_address=None):
            return socket.create_connection((address, where[1]), timeout, source_address)
        conn._create_connection = to_pinned  # http.client's own hook for making the socket
    return conn


def _read_capped(resp: http.client.HTTPResponse, limit: int, url: Url) -> bytes:
    import http.client
    declared = resp.getheader("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise FetchError(f"{url}: {declared} bytes exceed the download limit of {limit}")
    chunks, total = [], 0
    while True:
        try:
            chunk = resp.read(min(1 << 20, limit + 1 - total))
        except (OSError, ValueError, http.client.HTTPException) as e:
            raise FetchError(f"{url}: the body could not be read: {e!r}") from None
        if not chunk:
            if resp.length:  # http.client returns a short body quietly when the server closes early
                raise FetchError(f"{url}: the body ended {resp.length} bytes short of its Content-Length")
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise FetchError(f"{url}: body exceeds the download limit of {limit} bytes")
        chunks.append(chunk)


class HttpCache:
    """A small validating cache on disk: fresh entries are served as they are,
    stale ones revalidated with If-None-Match / If-Modified-Since."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self._lock = threading.Lock()

    @staticmethod
    def default_directory() -> Path:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base) / "xax-emu" / "http"

    def _paths(self, key: str) -> tuple[Path, Path]:
        assert self.directory is not None
        h = hashlib.sha256(key.encode()).hexdigest()
        return self.directory / f"{h}.body", self.directory / f"{h}.json"

    def lookup(self, key: str, want_file: bool = False) -> tuple[dict, bytes, int | None] | None:
        """The entry's metadata and body; with want_file, also the open fd the body
        was read (and checked) through, else None.  Bodies are only ever replaced by
        a rename (store), so that fd's file keeps the bytes checked here."""
        if self.directory is None:
            return None
        body_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text())
            fd = os.open(body_path, os.O_RDONLY | os.O_CLOEXEC)
        except (OSError, ValueError):
            return None
        try:
            with os.fdopen(os.dup(fd), "rb") as f:
                body = f.read()
        except OSError:
            os.close(fd)
            return None
        if (not isinstance(meta, dict) or meta.get("url") != key
                or hashlib.sha256(body).hexdigest() != meta.get("sha256")
                or not isinstance(meta.get("expires"), (int, float))
                or not all(meta.get(k) is None or (isinstance(meta[k], str) and meta[k].isprintable())
                           for k in ("etag", "last_modified"))):
            os.close(fd)
            return None
        if not want_file:
            os.close(fd)
            fd = None
        return meta, body, fd

    def store(self, key: str, headers: http.client.HTTPMessage, body: bytes) -> None:
        if self.directory is None:
            return
        cache_control = (headers.get("Cache-Control") or "").lower()
        if "no-store" in cache_control or "private" in cache_control:
            return
        max_age = 0
        for part in cache_control.split(","):
            name, _, value = part.strip().partition("=")
            if name == "max-age" and value.isdigit():
                max_age = int(value)
        if "no-cache" in cache_control:
            max_age = 0
        meta = {
            "url": key,
            "sha256": hashlib.sha256(body).hexdigest(),
            "etag": headers.get("ETag"),
            "last_modified": headers.get("Last-Modified"),
            "expires": time.time() + max_age,
        }
        if not meta["etag"] and not meta["last_modified"] and max_age == 0:
            return  # nothing to revalidate with: caching would only serve stale data
        with self._lock:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                body_path, meta_path = self._paths(key)
                tmp = body_path.with_suffix(f".tmp{threading.get_ident()}")
                tmp.write_bytes(body)
                os.replace(tmp, body_path)
                tmp = meta_path.with_suffix(f".tmp{threading.get_ident()}")
                tmp.write_text(json.dumps(meta))
                os.replace(tmp, meta_path)
            except OSError:
                pass  # the cache is best effort; the download itself succeeded

    def touch(self, key: str, meta: dict, headers: http.client.HTTPMessage) -> None:
        """A 304 revalidated the entry: extend its freshness if the server says so."""
        if self.directory is None:
            return
        cache_control = (headers.get("Cache-Control") or "").lower()
        if "no-cache" in cache_control or "no-store" in cache_control:
            return
        for part in cache_control.split(","):
            name, _, value = part.strip().partition("=")
            if name == "max-age" and value.isdigit():
                meta["expires"] = time.time() + int(value)
                _, meta_path = self._paths(key)
                try:
                    meta_path.write_text(json.dumps(meta))
                except OSError:
                    pass


def _request(method: str, u: Url, body: bytes | None, headers: dict[str, str],
             address: str | None = None) -> http.client.HTTPResponse:
    import http.client
    conn = _connect(u, address)
    try:
        conn.request(method, u.path, body=body, headers={"Host": u.host_header, "User-Agent": "xax-emu", **headers})
        return conn.getresponse()
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        raise FetchError(f"{u}: {e}") from None


def fetch(method: str, url: str, origin: Origin | None, *, body: bytes | None = None,
          limit: int, cache: HttpCache | None = None, want_file: bool = False,
          address: str | None = None) -> Response:
    """GET or PUT `url` under the Same Origin Policy, following redirects that stay on the origin.
    With want_file, a body served from the cache comes with an open fd of its file (Response.file).
    With `address`, every connection goes to that IP address (origin.pin_address's answer)."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            u = check_same_origin(current, origin)
        except OriginError as e:
            raise FetchError(str(e)) from None
        key = str(u)
        headers: dict[str, str] = {}
        cached = cache.lookup(key, want_file) if (cache and method == "GET") else None
        cached_fd = cached[2] if cached else None  # closed below unless handed to the caller
        try:
            if cached and len(cached[1]) > limit:
                cached = None  # cached under a larger limit: fetch it again, under this one
            if cached:
                meta, cached_body, _ = cached
                if meta.get("expires", 0) > time.time():
                    cached_fd, fd = None, cached_fd
                    return Response(200, cached_body, fd, meta["sha256"])
                if meta.get("etag"):
                    headers["If-None-Match"] = meta["etag"]
                if meta.get("last_modified"):
                    headers["If-Modified-Since"] = meta["last_modified"]
            resp = _request(method, u, body, headers, address)
            try:
                if resp.status in (301, 302, 303, 307, 308):
                    location = resp.getheader("Location")
                    if not location:
                        raise FetchError(f"{u}: redirect without a Location")
                    try:
                        current = resolve_redirect(u, location)
                    except OriginError as e:
                        raise FetchError(str(e)) from None
                    if resp.status == 303:
                        method, body = "GET", None
                    continue
                if resp.status == 304 and cached:
                    cache.touch(key, cached[0], resp.msg)
                    cached_fd, fd = None, cached_fd
                    return Response(200, cached[1], fd, cached[0]["sha256"])
                data = _read_capped(resp, limit, u)
                if method == "GET" and resp.status == 200 and cache:
                    cache.store(key, resp.msg, data)
                return Response(resp.status, data)
            finally:
                resp.close()
        finally:
            if cached_fd is not None:
                os.close(cached_fd)
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")
