"""A bounded reader of tar structure, for images that are data, never trusted.

Reads ustar headers (with the POSIX prefix field), GNU long names and long link names
('L', 'K'), pax extended headers ('x': path, linkpath, size, mtime; 'g' is checked and
ignored), GNU base-256 numbers.  Members: regular files ('0', NUL, '7'), hard links
('1'), symlinks ('2'), directories ('5'), devices and FIFOs ('3', '4', '6'); 'V'
volume labels are skipped; anything else (sparse, multi-volume, ...) is refused.

It never reads outside the file (every size is checked against the file's size before
anything is read), holds at most one 64 KiB metadata header in memory at a time, caps
the number of members and the bytes of names it keeps, and always advances by at least
one block, so it ends.  Every problem is an ImageError of one line naming the member.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO

from .errors import ImageError
from .format import BLOCK, HEADER_MAX, MEMBERS_MAX, NAME_MAX, PATH_MAX

NAMES_MAX = 64 << 20  # bytes of names and link targets kept, in all

_FILE_TYPES = {b"0": "file", b"\0": "file", b"7": "file", b"1": "hardlink", b"2": "symlink", b"5": "dir",
               b"3": "chr", b"4": "blk", b"6": "fifo"}


@dataclass(frozen=True)
class Member:
    name: str  # normalized, relative to the image root: "usr/bin/x" ("" is the root directory)
    raw_name: str  # as the archive has it
    type: str  # file, hardlink, symlink, dir, chr, blk, fifo
    size: int  # bytes of data (0 for everything but files)
    mode: int
    mtime: int
    link: str  # symlink target, or the member a hard link names (raw); "" otherwise
    header_offset: int  # where the member's first header (pax or long name included) starts
    data_offset: int  # where its data starts


_OCTAL_DIGITS = b"01234567"
_HIGH_BYTES = bytes(range(128, 256))


def _is_octal(text: bytes) -> bool:
    """Only the digits 0-7 (and not empty): one C-level pass, not a generator."""
    return bool(text) and not text.translate(None, _OCTAL_DIGITS)


def _cstr(field: bytes) -> bytes:
    i = field.find(b"\0")
    return field if i < 0 else field[:i]


def _number(field: bytes, what: str, offset: int, signed: bool = False) -> int:
    if field[0] & 0x80:
        if field[0] == 0x80 or (signed and field[0] == 0xFF):
            value = int.from_bytes(field[1:], "big")
            if field[0] == 0xFF:
                value -= 1 << (8 * (len(field) - 1))
            return value
        raise ImageError(f"header at offset {offset}: bad {what} field")
    text = field.replace(b"\0", b" ").strip(b" ")
    if not text:
        return 0
    if not _is_octal(text):
        raise ImageError(f"header at offset {offset}: bad {what} field {bytes(field)!r}")
    return int(text, 8)


def _checksum_ok(h: bytes) -> bool:
    """The header's checksum: the sum of its bytes with the checksum field counted
    as eight spaces, as unsigned bytes (POSIX) or as signed ones (old tars)."""
    stored = h[148:156].replace(b"\0", b" ").strip(b" ")
    if not _is_octal(stored):
        return False
    want = int(stored, 8)
    unsigned = sum(h) - sum(h[148:156]) + 8 * 32  # sum() of bytes runs in C
    if want == unsigned:
        return True
    # Read as signed, each byte over 127 counts 256 less.
    rest = h[:148] + h[156:]
    high = len(rest) - len(rest.translate(None, _HIGH_BYTES))
    return want == unsigned - 256 * high


def _utf8(raw: bytes, what: str, offset: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ImageError(f"header at offset {offset}: the {what} is not UTF-8") from None


def _pax(data: bytes, offset: int) -> dict[str, bytes]:
    """Records "LEN KEY=VALUE\\n"; every length checked."""
    out: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:  # NUL padding after the last record
            if any(data[pos:]):
                raise ImageError(f"pax header at offset {offset}: junk after its records")
            break
        space = data.find(b" ", pos, pos + 12)
        if space <= pos or not data[pos:space].isdigit():
            raise ImageError(f"pax header at offset {offset}: malformed record length")
        length = int(data[pos:space])
        end = pos + length
        if length < 5 or end > len(data) or data[end - 1:end] != b"\n":
            raise ImageError(f"pax header at offset {offset}: a record runs past its header")
        record = data[space + 1:end - 1]
        key, eq, value = record.partition(b"=")
        if not eq or not key:
            raise ImageError(f"pax header at offset {offset}: a record without key=value")
        out[_utf8(key, "pax key", offset)] = value
        pos = end
    return out


def _pax_int(value: bytes, key: str, offset: int) -> int:
    whole = value.split(b".", 1)[0]
    neg = whole.startswith(b"-")
    digits = whole[1:] if neg else whole
    if not digits.isdigit() or len(digits) > 20:
        raise ImageError(f"pax header at offset {offset}: bad {key} {bytes(value[:40])!r}")
    return -int(digits) if neg else int(digits)


def normalize(raw: str, offset: int) -> str:
    """The member name, checked and normalized ('.' and empty components dropped)."""
    if not raw:
        raise ImageError(f"member at offset {offset} has an empty name")
    if "\0" in raw:
        raise ImageError("the name contains NUL", raw)
    if raw.startswith("/"):
        raise ImageError("absolute name", raw)
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ImageError("'..' in the name", raw)
    # (a name of at most NAME_MAX bytes in all cannot have a longer component)
    if len(raw.encode()) > NAME_MAX and any(len(p.encode()) > NAME_MAX for p in parts):
        raise ImageError(f"a name component over {NAME_MAX} bytes", raw)
    name = "/".join(parts)
    if len(name.encode()) > PATH_MAX:
        raise ImageError(f"name over {PATH_MAX} bytes", raw)
    return name


class TarReader:
    def __init__(self, f: BinaryIO, size: int):
        self.f = f
        self.size = size

    def _check_range(self, offset: int, n: int) -> None:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise ImageError(f"truncated archive: {n} bytes at offset {offset} run past the end ({self.size})")

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
            raise ImageError(f"truncated archive: the file ended at offset {offset + len(data)}")
        return data

    def members(self) -> list[Member]:
        out: list[Member] = []
        names_bytes = 0
        off = 0
        longname = longlink = None
        pax: dict[str, bytes] = {}
        meta_start = None
        while True:
            if off + BLOCK > self.size:
                if off == 0:
                    raise ImageError("not a tar archive (empty or shorter than one block)")
                raise ImageError(f"truncated archive: no end-of-archive blocks (the file ends at {self.size})")
            h = self.read(off, BLOCK)
            if not any(h):
                if meta_start is not None:
                    raise ImageError(f"header at offset {meta_start}: a long name or pax header with no member "
                                     "after it")
                if off + 2 * BLOCK > self.size or any(self.read(off + BLOCK, BLOCK)):
                    raise ImageError(f"truncated archive: incomplete end-of-archive blocks at offset {off}")
                return out
            if not _checksum_ok(h):
                if off == 0:
                    raise ImageError("not a tar archive (no valid header at offset 0)")
                raise ImageError(f"header at offset {off}: bad checksum (a corrupt or truncated archive)")
            if h[257:262] != b"ustar":
                raise ImageError(f"header at offset {off}: not a ustar/pax header")
            typeflag = h[156:157]
            hsize = _number(h[124:136], "size", off)
            size = hsize
            if typeflag in _FILE_TYPES and "size" in pax:
                size = _pax_int(pax["size"], "size", off)
            data_off = off + BLOCK
            if size < 0 or size > self.size - data_off:
                raise ImageError(f"header at offset {off}: size {size} runs past the end of the image")
            nxt = data_off + (size + BLOCK - 1) // BLOCK * BLOCK
            if typeflag in (b"L", b"K", b"x", b"g"):
                if size > HEADER_MAX:
                    kind = "pax" if typeflag in (b"x", b"g") else "GNU long-name"
                    raise ImageError(f"header at offset {off}: {kind} header of {size} bytes is over the "
                                     f"{HEADER_MAX >> 10} KiB cap")
                data = self.read(data_off, size)
                if meta_start is None:
                    meta_start = off
                if typeflag in (b"L", b"K"):
                    value = _cstr(data)
                    if not value:
                        raise ImageError(f"header at offset {off}: an empty GNU long name")
                    if typeflag == b"L":
                        longname = _utf8(value, "long name", off)
                    else:
                        longlink = _utf8(value, "long link name", off)
                elif typeflag == b"x":
                    pax = _pax(data, off)
                else:
                    _pax(data, off)  # global: checked, ignored
                    if meta_start == off:
                        meta_start = None
                off = nxt
                continue
            if typeflag == b"V":
                off = nxt
                continue
            kind = _FILE_TYPES.get(typeflag)
            if kind is None:
                raise ImageError(f"header at offset {off}: unsupported member type {typeflag!r}")
            if kind != "file" and size:
                raise ImageError(f"header at offset {off}: a {kind} member with {size} bytes of data")
            if longname is not None:
                raw = longname
            elif "path" in pax:
                raw = _utf8(pax["path"], "pax path", off)
            else:
                name = _cstr(h[0:100])
                prefix = _cstr(h[345:500]) if h[257:263] == b"ustar\0" else b""
                raw = _utf8(prefix + b"/" + name if prefix else name, "name", off)
            if longlink is not None:
                link = longlink
            elif "linkpath" in pax:
                link = _utf8(pax["linkpath"], "pax linkpath", off)
            else:
                link = _utf8(_cstr(h[157:257]), "link name", off)
            mode = _number(h[100:108], "mode", off)
            mtime = _number(h[136:148], "mtime", off, signed=True)
            if "mtime" in pax:
                mtime = _pax_int(pax["mtime"], "mtime", off)
            name = normalize(raw, off)
            if not name and kind != "dir":
                raise ImageError(f"a {kind} member names the image root", raw)
            names_bytes += len(raw) + len(link)
            if len(out) >= MEMBERS_MAX or names_bytes > NAMES_MAX:
                raise ImageError(f"more than {MEMBERS_MAX} members or {NAMES_MAX >> 20} MiB of names")
            out.append(Member(name, raw, kind, size, mode & 0o7777, mtime, link if kind in ("symlink", "hardlink")
                              else "", meta_start if meta_start is not None else off, data_off))
            longname = longlink = None
            pax = {}
            meta_start = None
            off = nxt
