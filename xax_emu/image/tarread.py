"""A bounded reader of the image format's tar (docs/image-format.md), for images that
are data, never trusted.

It applies every rule of the "header" level (format.RULES), in the order the document
gives — the order runtime_c/vfs/tarfmt.c, the C readers' decoder, applies them in too,
so that a header both refuse is refused for the same rule: POSIX ustar headers with
their checksum and magic, octal numbers, members that are regular files ('0'),
directories ('5') or symlinks ('2'), each possibly after one pax header ('x': path,
linkpath, size, mtime), normalized relative names, and the archive's end.  Anything
else — GNU long names, base-256 numbers, hard links, devices, global pax headers,
sparse files, volume labels — is refused.

It never reads outside the file (every size is checked against the file's size before
anything is read), holds at most one 64 KiB pax header in memory at a time, caps the
number of members and the bytes of names it keeps, and always advances by at least one
block, so it ends.  Every problem is an ImageError of one line naming the member (when
there is one) and the rule it breaks (ImageError.rule).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO, Callable

from .errors import ImageError
from .format import BLOCK, HEADER_MAX, MEMBER_NAME_MAX, MEMBERS_MAX, NAME_MAX, NAMES_MAX, SYMLINK_MAX

_MAGIC = b"ustar\x0000"
_TYPES = {b"0": "file", b"5": "dir", b"2": "symlink"}
_PAX_KEYS = (b"path", b"linkpath", b"size", b"mtime")
_INT64_LIMIT = (1 << 63) - 1
_OCTAL_DIGITS = b"01234567"


@dataclass(frozen=True)
class Member:
    name: str  # normalized, relative to the image root: "usr/bin/x" (a directory's without its "/")
    raw_name: str  # as the archive has it ("usr/bin/" for a directory)
    type: str  # file, dir, symlink
    size: int  # bytes of data (0 for everything but files)
    mode: int
    mtime: int
    link: str  # a symlink's target; "" otherwise
    header_offset: int  # where the member's first header (its pax header's, if any) starts
    data_offset: int  # where its data starts


def _cstr(field: bytes) -> bytes:
    i = field.find(b"\0")
    return field if i < 0 else field[:i]


def _octal(field: bytes) -> int | None:
    """Octal digits from the field's first byte, then one or more NULs or spaces to its end."""
    digits = field.rstrip(b"\0 ")
    if not digits or len(digits) == len(field) or digits.translate(None, _OCTAL_DIGITS):
        return None
    if field[len(digits):].translate(None, b"\0 "):
        return None
    return int(digits, 8)


def _checksum_ok(h: bytes) -> bool:
    """POSIX's checksum: the unsigned sum of the header's bytes, the checksum field counted
    as eight spaces (sum() of bytes runs in C)."""
    want = _octal(h[148:156])
    return want is not None and want == sum(h) - sum(h[148:156]) + 8 * 32


def _decimal(value: bytes) -> int | None:
    """A decimal number as the format writes one: 1 to 19 digits, no leading zero, below 2^63."""
    if not value or len(value) > 19 or not value.isdigit() or (value[:1] == b"0" and len(value) > 1):
        return None
    n = int(value)
    return n if n <= _INT64_LIMIT else None


class _Pax:
    """The records of one pax header."""

    def __init__(self):
        self.values: dict[bytes, bytes] = {}
        self.size: int | None = None
        self.mtime: int | None = None

    def take(self, key: bytes, value: bytes, where: str) -> None:
        if key not in _PAX_KEYS:
            raise ImageError(f"{where}: pax key {key[:40]!r} is not one the format has", rule="pax-key")
        if key in self.values:
            raise ImageError(f"{where}: pax key {key.decode()!r} given twice", rule="pax-key")
        self.values[key] = value
        if key in (b"path", b"linkpath") and not value:
            raise ImageError(f"{where}: an empty pax {key.decode()}", rule="pax-value")
        if key == b"size":
            self.size = _decimal(value)
            if self.size is None:
                raise ImageError(f"{where}: pax size {value[:40]!r} is not a decimal number below 2^63",
                                 rule="pax-value")
        if key == b"mtime":
            neg = value[:1] == b"-"
            n = _decimal(value[1:] if neg else value)
            if n is None or (neg and n == 0):
                raise ImageError(f"{where}: pax mtime {value[:40]!r} is not a decimal integer of at most 63 bits",
                                 rule="pax-value")
            self.mtime = -n if neg else n


def _pax_records(data: bytes, where: str) -> _Pax:
    """Records "LEN key=value\\n", LEN (decimal, no leading zero) counting the whole record,
    filling the header's data exactly."""
    pax = _Pax()
    pos, n = 0, len(data)
    while pos < n:
        if not 0x31 <= data[pos] <= 0x39:
            raise ImageError(f"{where}: a pax record that does not start with its length", rule="pax-record")
        i = pos
        while i < n and 0x30 <= data[i] <= 0x39:
            i += 1
            if int(data[pos:i]) > n - pos:
                raise ImageError(f"{where}: a pax record longer than its header", rule="pax-record")
        length = int(data[pos:i])
        if i == n or data[i] != 0x20:
            raise ImageError(f"{where}: a pax record length not followed by a space", rule="pax-record")
        end = pos + length
        if end <= i + 1 or data[end - 1] != 0x0A:
            raise ImageError(f"{where}: a pax record that does not end with a newline where its length says",
                             rule="pax-record")
        key, eq, value = data[i + 1:end - 1].partition(b"=")
        if not key or not eq:
            raise ImageError(f"{where}: a pax record that is not key=value", rule="pax-record")
        pax.take(key, value, where)
        pos = end
    return pax


def _utf8(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\0" in text else text


def _ascii(raw: bytes) -> str | None:
    return raw.decode("ascii") if raw.isascii() else None


def _check_name(raw: str, directory: bool, where: str) -> str:
    """The normalized name (a directory's without its '/'), checked in the document's order:
    empty, absolute, each component, the length, the trailing '/'."""
    if not raw:
        raise ImageError(f"{where}: an empty name", rule="name-form")
    if raw.startswith("/"):
        raise ImageError("an absolute name", raw, rule="name-absolute")
    trailing = raw.endswith("/")
    name = raw[:-1] if trailing else raw
    for part in name.split("/"):
        if part in ("", "."):
            raise ImageError("an empty or '.' component (the name is not normalized)", raw, rule="name-form")
        if part == "..":
            raise ImageError("a '..' component", raw, rule="name-dotdot")
        if len(part.encode()) > NAME_MAX:
            raise ImageError(f"a component over {NAME_MAX} bytes", raw, rule="name-length")
    if len(name.encode()) > MEMBER_NAME_MAX:
        raise ImageError(f"a name over {MEMBER_NAME_MAX} bytes", raw, rule="name-length")
    if trailing != directory:
        what = "a directory whose name does not end with '/'" if directory else \
            "a name ending with '/' on a member that is not a directory"
        raise ImageError(what, raw, rule="name-form")
    return name


def normalize(raw: str, offset: int, directory: bool) -> str:
    """A member's name as the format requires it, normalized: ImageError otherwise."""
    return _check_name(raw, directory, f"header at offset {offset}")


class TarReader:
    def __init__(self, f: BinaryIO, size: int):
        self.f = f
        self.size = size

    def _check_range(self, offset: int, n: int) -> None:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise ImageError(f"{n} bytes at offset {offset} run past the end of the file ({self.size})",
                             rule="truncated")

    def sha256(self, offset: int, n: int) -> str:
        """The sha256 of n bytes at offset: hashed in place when the source is a
        mapping (no copy), else read a MiB at a time."""
        self._check_range(offset, n)
        h = hashlib.sha256()
        view = getattr(self.f, "view", None)
        if view is not None:
            with view(offset, n) as v:
                h.update(v)
            return h.hexdigest()
        while n:
            chunk = min(n, 1 << 20)
            h.update(self.read(offset, chunk))
            offset += chunk
            n -= chunk
        return h.hexdigest()

    def read(self, offset: int, n: int) -> bytes:
        self._check_range(offset, n)
        self.f.seek(offset)
        data = self.f.read(n)
        if len(data) != n:
            raise ImageError(f"the file ended at offset {offset + len(data)}", rule="truncated")
        return data

    def is_zero(self, offset: int, n: int) -> bool:
        while n:
            chunk = min(n, 1 << 20)
            if self.read(offset, chunk).count(0) != chunk:
                return False
            offset += chunk
            n -= chunk
        return True

    # -- one header at a time, as tarfmt.c reads them ------------------------------------

    def _header_at(self, off: int, after_pax: bool) -> bytes | None:
        """The header's block at off, with its checksum and magic; None at the archive's end."""
        if self.size - off < BLOCK:
            if off == self.size:
                raise ImageError(f"the file ends at offset {off} without the two zero blocks that end an archive"
                                 + (" (not a tar archive)" if off == 0 else ""), rule="end")
            raise ImageError(f"the file ends inside the header at offset {off}", rule="truncated")
        h = self.read(off, BLOCK)
        if h.count(0) == BLOCK:
            if after_pax:
                raise ImageError(f"header at offset {off}: a pax header with no member after it", rule="pax-alone")
            if self.size - off < 2 * BLOCK or not self.is_zero(off + BLOCK, BLOCK):
                raise ImageError(f"header at offset {off}: one zero block, not the two that end an archive",
                                 rule="end")
            if not self.is_zero(off + 2 * BLOCK, self.size - off - 2 * BLOCK):
                raise ImageError(f"bytes other than zeros after the end of the archive at offset {off}", rule="end")
            return None
        if not _checksum_ok(h):
            what = "not a tar archive (no valid header at offset 0)" if off == 0 else \
                f"header at offset {off}: the header's checksum is wrong"
            raise ImageError(what, rule="checksum")
        if h[257:265] != _MAGIC:
            raise ImageError(f"header at offset {off}: not a POSIX ustar header", rule="magic")
        return h

    def _pax_header(self, h: bytes, off: int) -> tuple[_Pax, int]:
        where = f"pax header at offset {off}"
        size = _octal(h[124:136])
        if size is None:
            raise ImageError(f"{where}: the size is not an octal number", rule="number")
        if size > HEADER_MAX:
            raise ImageError(f"{where}: {size} bytes, over the {HEADER_MAX >> 10} KiB cap", rule="pax-size")
        padded = -(-size // BLOCK) * BLOCK
        if padded > self.size - off - BLOCK:
            raise ImageError(f"{where}: its data runs past the end of the file", rule="truncated")
        return _pax_records(self.read(off + BLOCK, size), where), off + BLOCK + padded

    def _fields(self, h: bytes, off: int, kind: str, pax: _Pax) -> tuple[int, int, int]:
        where = f"header at offset {off}"
        mode = _octal(h[100:108])
        if mode is None or mode > 0o7777:
            raise ImageError(f"{where}: the mode is not octal permission bits", rule="number")
        size = pax.size if pax.size is not None else _octal(h[124:136])
        if size is None:
            raise ImageError(f"{where}: the size is not an octal number", rule="number")
        mtime = pax.mtime if pax.mtime is not None else _octal(h[136:148])
        if mtime is None:
            raise ImageError(f"{where}: the mtime is not an octal number", rule="number")
        if kind != "file" and pax.size is not None:
            raise ImageError(f"{where}: a pax size on a member that is not a file", rule="pax-key")
        if kind != "file" and size:
            raise ImageError(f"{where}: a {kind} member with {size} bytes of data", rule="data")
        room = self.size - off - BLOCK
        if -(-size // BLOCK) * BLOCK > room:
            raise ImageError(f"{where}: size {size} runs past the end of the file", rule="truncated")
        return mode, size, mtime

    def _name(self, h: bytes, off: int, kind: str, pax: _Pax) -> tuple[str, str]:
        where = f"header at offset {off}"
        if b"path" in pax.values:
            raw = _utf8(pax.values[b"path"])
            if raw is None:
                raise ImageError(f"{where}: the pax path is not UTF-8 (or has a NUL)", rule="name-encoding")
        else:
            name, prefix = _ascii(_cstr(h[0:100])), _ascii(_cstr(h[345:500]))
            if name is None or prefix is None:
                raise ImageError(f"{where}: a byte over 127 in the ustar name (such names go in a pax path)",
                                 rule="name-encoding")
            raw = f"{prefix}/{name}" if prefix else name  # POSIX: the prefix, a '/', the name
        return raw, _check_name(raw, kind == "dir", where)

    def _link(self, h: bytes, off: int, kind: str, pax: _Pax, raw: str) -> str:
        field = _cstr(h[157:257])
        if kind != "symlink":
            if b"linkpath" in pax.values:
                raise ImageError("a pax linkpath on a member that is not a symlink", raw, rule="pax-key")
            if field:
                raise ImageError("a link name on a member that is not a symlink", raw, rule="link")
            return ""
        if b"linkpath" in pax.values:
            link = _utf8(pax.values[b"linkpath"])
            if link is None:
                raise ImageError("the pax linkpath is not UTF-8 (or has a NUL)", raw, rule="name-encoding")
        else:
            link = _ascii(field)
            if link is None:
                raise ImageError("a byte over 127 in the link name (such targets go in a pax linkpath)", raw,
                                 rule="name-encoding")
        if not link or len(link.encode()) > SYMLINK_MAX:
            raise ImageError(f"a symlink's target is empty or over {SYMLINK_MAX} bytes", raw, rule="link")
        return link

    def members(self, each: Callable[[Member], None] | None = None) -> list[Member]:
        """Every member, in the archive's order; `each(member)` is called as each is read (a
        check between members that may raise ImageError, so that the first problem in the
        archive's order is the one reported, as the VFS's tar.c reports it)."""
        out: list[Member] = []
        names_bytes = 0
        off = 0
        while True:
            first = off
            pax = _Pax()
            h = self._header_at(off, False)
            if h is None:
                return out
            if h[156:157] == b"x":
                pax, off = self._pax_header(h, off)
                h = self._header_at(off, True)
                if h[156:157] == b"x":
                    raise ImageError(f"header at offset {off}: a pax header followed by another", rule="pax-alone")
            kind = _TYPES.get(h[156:157])
            if kind is None:
                raise ImageError(f"header at offset {off}: member type {h[156:157]!r} is not one the format has",
                                 rule="typeflag")
            mode, size, mtime = self._fields(h, off, kind, pax)
            raw, name = self._name(h, off, kind, pax)
            link = self._link(h, off, kind, pax, raw)
            names_bytes += len(name.encode()) + len(link.encode())
            if len(out) >= MEMBERS_MAX or names_bytes > NAMES_MAX:
                raise ImageError(f"more than {MEMBERS_MAX} members or {NAMES_MAX >> 20} MiB of names", raw,
                                 rule="members")
            m = Member(name, raw, kind, size, mode, mtime, link, first, off + BLOCK)
            if each is not None:
                each(m)
            out.append(m)
            off += BLOCK + -(-size // BLOCK) * BLOCK
