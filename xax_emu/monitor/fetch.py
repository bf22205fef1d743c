"""HTTP for picoprocesses: GET through a validating cache, PUT, redirects re-checked.

Runs in the Monitor's worker threads, never on its event loop.  Every hop of a
redirect chain is checked against the picoprocess's origin; bodies are capped
at the download limit.

http.client and ssl are imported on the first request, not with this module:
`xax-emu run` of a local image needs the cache object but no HTTP.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from ..errors import OriginError, XaxError
from .origin import Origin, Url, check_same_origin, resolve_redirect

if TYPE_CHECKING:
    import http.client

MAX_REDIRECTS = 5
TIMEOUT = 30.0


class FetchError(XaxError):
    """A fetch failed; the message says why (shown in the Monitor's log, or by `run`)."""


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
    stale ones revalidated with If-None-Match / If-Modified-Since.

    Bounded: its files take at most `max_bytes` (DEFAULT_MAX unless given); a
    store that goes over evicts the least recently used entries (a hit makes
    an entry recent: its metadata file's mtime), never one in use.  An entry is
    in use while anyone holds its body open through lookup(), which takes a
    shared flock on the body's open file: the Monitor's Response.file, and the
    picoprocess that inherits it as its image (boot block and layer map it), so
    the lock lives as long as the picoprocess.  Evicting such an entry would
    free nothing (the open inode stays) and it would be downloaded again; the
    bytes a picoprocess maps never change either way, since the cache only ever
    replaces and removes names, never writes to a file it has renamed into place
    (launch/imagefile.py).  In-use entries count against the cap, so the cache
    exceeds it only while they alone do.

    Safe under the Monitor's worker threads and with other Monitors sharing the
    directory: bodies are written under unique temporary names (mkstemp) and
    renamed into place, and renames and evictions hold an exclusive flock on
    the directory itself."""

    DEFAULT_MAX = 1 << 30
    STALE_TMP = 3600.0  # seconds after which a temporary file is a crashed writer's

    def __init__(self, directory: Path | None, max_bytes: int = DEFAULT_MAX):
        self.directory = directory
        self.max_bytes = max_bytes

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
        a rename (store), so that fd's file keeps the bytes checked here; while it is
        open the entry is in use (a shared flock on it) and is not evicted."""
        if self.directory is None:
            return None
        body_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text())
            fd = os.open(body_path, os.O_RDONLY | os.O_CLOEXEC)
        except (OSError, ValueError):
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while an eviction of this very entry unlinks it
            if os.fstat(fd).st_nlink == 0:
                raise OSError("evicted meanwhile")
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
        try:
            os.utime(meta_path)  # recently used
        except OSError:
            pass
        if not want_file:
            os.close(fd)
            fd = None
        return meta, body, fd

    def store(self, key: str, headers: http.client.HTTPMessage, body: bytes) -> None:
        writer = self.writer(key, headers)
        if writer is not None:
            writer.write(body)
            writer.commit()

    def writer(self, key: str, headers: http.client.HTTPMessage) -> "_CacheWriter | None":
        """Where a body for `key` goes as it arrives (None: it is not to be cached)."""
        if self.directory is None:
            return None
        cache_control = (headers.get("Cache-Control") or "").lower()
        if "no-store" in cache_control or "private" in cache_control:
            return None
        max_age = 0
        for part in cache_control.split(","):
            name, _, value = part.strip().partition("=")
            if name == "max-age" and value.isdigit():
                max_age = int(value)
        if "no-cache" in cache_control:
            max_age = 0
        meta = {"url": key, "etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified"),
                "expires": time.time() + max_age}
        if not meta["etag"] and not meta["last_modified"] and max_age == 0:
            return None  # nothing to revalidate with: caching would only serve stale data
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            return _CacheWriter(self, key, meta)
        except OSError:
            return None  # the cache is best effort

    def _commit(self, key: str, meta: dict, body_tmp: str) -> None:
        body_path, meta_path = self._paths(key)
        try:
            meta_tmp = self._write_tmp(json.dumps(meta).encode())
        except OSError:
            os.unlink(body_tmp)
            raise
        with self._locked():
            os.replace(body_tmp, body_path)
            os.replace(meta_tmp, meta_path)
            self._evict()

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
                    tmp = self._write_tmp(json.dumps(meta).encode())
                    with self._locked():
                        if meta_path.exists():  # not evicted meanwhile
                            os.replace(tmp, meta_path)
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                except OSError:
                    pass

    # -- the bound ---------------------------------------------------------------------

    def _write_tmp(self, data: bytes) -> str:
        """`data` in a new file of the directory under a name no other writer has."""
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except BaseException:
            os.unlink(tmp)
            raise
        return tmp

    @contextlib.contextmanager
    def _locked(self):
        """The directory, locked against every other store and eviction (threads of this
        Monitor and other Monitors alike: each holds its own open file of it)."""
        fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def usage(self) -> int:
        """Bytes the cache's files take now."""
        try:
            return sum(self._files().values()) if self.directory is not None else 0
        except FileNotFoundError:  # nothing stored yet
            return 0

    def _files(self) -> dict[str, int]:
        out = {}
        with os.scandir(self.directory) as it:
            for entry in it:
                try:
                    if entry.is_file(follow_symlinks=False):
                        out[entry.name] = entry.stat(follow_symlinks=False).st_size
                except OSError:
                    pass  # removed meanwhile
        return out

    def _evict(self) -> None:
        """With the directory locked: remove a crashed writer's leftovers, then the
        least recently used entries not in use, until the files fit max_bytes."""
        files = self._files()
        total = sum(files.values())
        now = time.time()
        for name in [n for n in files if n.startswith(".tmp-")]:
            try:
                if now - os.stat(self.directory / name).st_mtime > self.STALE_TMP:
                    os.unlink(self.directory / name)
                    total -= files[name]
            except OSError:
                pass
        if total <= self.max_bytes:
            return
        entries = []  # (last used, hash); an entry without its metadata is used never
        for name in files:
            stem, _, suffix = name.partition(".")
            if suffix == "body":
                try:
                    used = os.stat(self.directory / f"{stem}.json").st_mtime
                except OSError:
                    used = 0.0
                entries.append((used, stem))
            elif suffix == "json" and f"{stem}.body" not in files:
                entries.append((0.0, stem))
        for _, stem in sorted(entries):
            if total <= self.max_bytes:
                break
            total -= self._remove_unless_in_use(stem, files)

    def _remove_unless_in_use(self, stem: str, files: dict[str, int]) -> int:
        """Remove the entry `stem` (metadata first: a lookup then misses) unless its body
        is open through lookup(); the bytes freed."""
        body, meta = self.directory / f"{stem}.body", self.directory / f"{stem}.json"
        try:
            fd = os.open(body, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = None
        except OSError:
            return 0
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: in use
            freed = 0
            for path in (meta, body):
                try:
                    os.unlink(path)
                    freed += files.get(path.name, 0)
                except FileNotFoundError:
                    pass
            return freed
        except OSError:
            return 0
        finally:
            if fd is not None:
                os.close(fd)


class _CacheWriter:
    """One body on its way into the cache: written to a temporary file and hashed as it
    arrives, renamed into place by commit() only if it arrived whole and fits the cap."""

    def __init__(self, cache: HttpCache, key: str, meta: dict):
        self.cache, self.key, self.meta = cache, key, meta
        fd, self.tmp = tempfile.mkstemp(dir=cache.directory, prefix=".tmp-")
        self.file = os.fdopen(fd, "wb")
        self.hash = hashlib.sha256()
        self.size = 0
        self.failed = False

    def write(self, piece: bytes) -> None:
        if self.failed:
            return
        self.size += len(piece)
        if self.size > self.cache.max_bytes:
            self.abort()  # it could never fit
            return
        try:
            self.file.write(piece)
            self.hash.update(piece)
        except OSError:
            self.abort()

    def commit(self) -> None:
        if self.failed:
            return
        try:
            self.file.close()
            self.cache._commit(self.key, {**self.meta, "sha256": self.hash.hexdigest()}, self.tmp)
        except OSError:
            self.abort()

    def abort(self) -> None:
        if not self.failed:
            self.failed = True
            self.file.close()
            try:
                os.unlink(self.tmp)
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


@dataclass
class _Live:
    """A response to read: the request's URL, its cache key, and the cache entry a 304
    would have confirmed (none here: _walk answered those)."""
    resp: http.client.HTTPResponse
    url: Url
    key: str
    method: str


def _walk(method: str, url: str, origin: Origin | None, body: bytes | None, cache: HttpCache | None,
          limit: int, want_file: bool, address: str | None) -> Response | _Live:
    """Follow `url`'s redirects under the Same Origin Policy: a Response when the cache
    answers (fresh, or confirmed by a 304), else the live response to read."""
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
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.getheader("Location")
                resp.close()
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
                resp.close()
                cache.touch(key, cached[0], resp.msg)
                cached_fd, fd = None, cached_fd
                return Response(200, cached[1], fd, cached[0]["sha256"])
            return _Live(resp, u, key, method)
        finally:
            if cached_fd is not None:
                os.close(cached_fd)
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")


def fetch(method: str, url: str, origin: Origin | None, *, body: bytes | None = None,
          limit: int, cache: HttpCache | None = None, want_file: bool = False,
          address: str | None = None) -> Response:
    """GET or PUT `url` under the Same Origin Policy, following redirects that stay on the origin.
    With want_file, a body served from the cache comes with an open fd of its file (Response.file).
    With `address`, every connection goes to that IP address (origin.pin_address's answer)."""
    got = _walk(method, url, origin, body, cache, limit, want_file, address)
    if isinstance(got, Response):
        return got
    try:
        data = _read_capped(got.resp, limit, got.url)
        if got.method == "GET" and got.resp.status == 200 and cache:
            cache.store(got.key, got.resp.msg, data)
        return Response(got.resp.status, data)
    finally:
        got.resp.close()


PIECE = 1 << 20  # at most this many bytes from the origin at a time when streaming: one READ's most (a piece is
# handed on as it came, and fewer pieces cost the downloading thread less)


@dataclass
class Stream:
    """A response whose body comes piece by piece (`pieces` raises FetchError if it breaks
    off, is cut short, or exceeds the limit); `close()` ends it early."""
    status: int
    pieces: Iterator[bytes]
    close: Callable[[], None]


def fetch_stream(method: str, url: str, origin: Origin | None, *, body: bytes | None = None,
                 limit: int, cache: HttpCache | None = None, address: str | None = None) -> Stream:
    """fetch, with the body handed on as it arrives: the first bytes before the last are
    read.  A GET's body is cached as it streams, and only once it arrived whole."""
    got = _walk(method, url, origin, body, cache, limit, False, address)
    if isinstance(got, Response):
        data = got.body
        return Stream(200, (data[i:i + PIECE] for i in range(0, len(data), PIECE)), lambda: None)
    resp = got.resp
    declared = resp.getheader("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        resp.close()
        raise FetchError(f"{got.url}: {declared} bytes exceed the download limit of {limit}")
    writer = cache.writer(got.key, resp.msg) if (cache and got.method == "GET" and resp.status == 200) else None
    return Stream(resp.status, _pieces(resp, got.url, limit, writer), resp.close)


def _pieces(resp: http.client.HTTPResponse, url: Url, limit: int, writer: _CacheWriter | None) -> Iterator[bytes]:
    import http.client
    total = 0
    try:
        while True:
            try:
                piece = resp.read1(PIECE)
            except (OSError, ValueError, http.client.HTTPException) as e:
                raise FetchError(f"{url}: the body could not be read: {e!r}") from None
            if not piece:
                if resp.length:
                    raise FetchError(f"{url}: the body ended {resp.length} bytes short of its Content-Length")
                if writer is not None:
                    writer.commit()
                    writer = None
                return
            total += len(piece)
            if total > limit:
                raise FetchError(f"{url}: body exceeds the download limit of {limit} bytes")
            if writer is not None:
                writer.write(piece)
            yield piece
    finally:
        if writer is not None:
            writer.abort()
        resp.close()
