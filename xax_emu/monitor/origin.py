"""URLs parsed once, canonically, and the Same Origin Policy.

An origin is (scheme, host, port).  A picoprocess may open a URL only when the
URL's origin equals the origin its image came from; a redirect is checked again
by the fetcher.  Anything that does not parse cleanly is refused.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from ..errors import OriginError

DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Characters a canonical path and query may carry as they are; anything else
# (spaces, control bytes, backslashes, raw non-ASCII) is refused, not guessed at.
_SAFE_PATH = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*$")
# host[:port] exactly: a bracketed IPv6 literal (no zone id) or a name, then an optional port.
_NETLOC = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[^\[\]:]*)(:[0-9]*)?$")
# A last label that a resolver or the WHATWG URL parser reads as a number (decimal, octal
# with a leading 0, or hex with 0x): the whole host is then an IPv4 address in some form.
_NUMERIC_LABEL = re.compile(r"^([0-9]+|0x[0-9a-f]*)$")


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")


@dataclass(frozen=True)
class Url:
    origin: Origin
    path: str  # path plus ?query, canonical, starting with "/"

    def __str__(self) -> str:
        return f"{self.origin}{self.path}"

    @property
    def host_header(self) -> str:
        host = f"[{self.origin.host}]" if ":" in self.origin.host else self.origin.host
        return host if DEFAULT_PORTS[self.origin.scheme] == self.origin.port else f"{host}:{self.origin.port}"


def _canonical_host(raw: str, url: str) -> str:
    host = raw.lower().rstrip(".")
    if not host:
        raise OriginError(f"URL has no host: {url}", url)
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    labels = host.split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        raise OriginError(f"URL host is not a plain DNS name or IP address: {url}", url)
    if _NUMERIC_LABEL.match(labels[-1]):  # "0x7f.0x1", "0x7f000001", "127.1": numeric forms resolvers reinterpret
        raise OriginError(f"URL host looks like a non-canonical IP address: {url}", url)
    return host


def parse_url(url: str) -> Url:
    """Parse an absolute http(s) URL into its canonical form, or raise OriginError."""
    if not isinstance(url, str) or len(url) > 4096 or any(ord(ch) < 0x21 or ord(ch) > 0x7E for ch in url):
        raise OriginError(f"URL must be printable ASCII without spaces: {url!r}", str(url))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise OriginError(f"malformed URL {url!r}: {e}", url) from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise OriginError(f"URL scheme {scheme or '(none)'!r} is not http or https: {url}", url)
    if parts.username is not None or parts.password is not None:
        raise OriginError(f"URL must not carry credentials: {url}", url)
    if parts.fragment or "#" in url:
        raise OriginError(f"URL must not carry a fragment: {url}", url)
    if not _NETLOC.match(parts.netloc) or port == 0:
        raise OriginError(f"URL host or port is malformed: {url}", url)
    host = _canonical_host(parts.hostname or "", url)
    path = parts.path or "/"
    if not path.startswith("/"):
        raise OriginError(f"URL path must be absolute: {url}", url)
    if not _SAFE_PATH.match(path) or not _SAFE_PATH.match(parts.query):
        raise OriginError(f"URL path or query has characters that must be percent-encoded: {url}", url)
    full = path + (f"?{parts.query}" if parts.query else "")
    return Url(Origin(scheme, host, port if port is not None else DEFAULT_PORTS[scheme]), full)


def parse_origin(text: str) -> Origin:
    """An origin given on the command line: scheme://host[:port][/]."""
    u = parse_url(text if "/" in text.split("://", 1)[-1] else text + "/")
    if u.path != "/":
        raise OriginError(f"an origin has no path: {text}", text)
    return u.origin


def check_same_origin(url: str, origin: Origin | None) -> Url:
    """Parse `url` and require it to be on `origin` (None: no network at all)."""
    parsed = parse_url(url)
    if origin is None:
        raise OriginError(f"this picoprocess has no origin, so no network: {url}", url)
    if parsed.origin != origin:
        raise OriginError(f"{url} is not on the origin {origin} (Same Origin Policy)", url)
    return parsed


def resolve_redirect(base: Url, location: str) -> str:
    """An absolute URL for a Location header, relative to the URL that answered."""
    # RFC 3986 reference resolution (query-only and dot-segment references included);
    # a fragment is not part of what is fetched.
    try:
        return urljoin(str(base), location).split("#", 1)[0]
    except ValueError as e:  # "http://[" and the like
        raise OriginError(f"malformed redirect Location {location!r}: {e}", location) from None


def pin_address(origin: Origin) -> str:
    """The IP address `origin` is reached at for as long as what it launched lives: the
    first answer for its host name, used for every later connection.  A name that
    resolves elsewhere on a second lookup (DNS rebinding: an attacker's origin that
    turns into 127.0.0.1 after the image is fetched) is never looked up again."""
    import socket
    try:
        return str(ipaddress.ip_address(origin.host))
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(origin.host, origin.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise OriginError(f"{origin}: cannot resolve {origin.host}: {e}", str(origin)) from None
    return infos[0][4][0]
