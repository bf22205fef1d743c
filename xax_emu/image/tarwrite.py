"""Writing the image tar with libarchive (pax), reproducibly, with ELF data page-aligned.

Every header is normalized: uid/gid 0, no owner names, modes 0644/0755 (files),
0755 (directories), 0777 (symlinks), only mtime (whole seconds, no atime/ctime, so
that no pax header is needed for times).  The output is not blocked (no padding past
the two zero blocks that end the archive).

Alignment: before a member whose data must start at a page boundary, the writer
measures that member's header (pax extended header included, if libarchive needs
one, e.g. for a long or non-ASCII name) with a scratch writer and, if the data would
not start at a multiple of 4096, first writes a padding member `.xax/pad/NNNNNN`
(zeros, 0 to 3072 bytes of data: its 512-byte header plus its data fill the gap).
"""
from __future__ import annotations

import ctypes
import hashlib
from typing import BinaryIO, Callable

import libarchive
from libarchive import ffi
from libarchive.entry import ArchiveEntry, FileType

from .format import BLOCK, GENERATED_MTIME, PAD_DIR, PAGE

_TYPES = {"file": FileType.REGULAR_FILE, "dir": FileType.DIRECTORY, "symlink": FileType.SYMBOLINK_LINK}
_set_symlink = ffi.libarchive.archive_entry_update_symlink_utf8
_set_symlink.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_set_symlink.restype = ctypes.c_int


class _Measured(Exception):
    pass


def _entry(name: str, kind: str, size: int, mode: int, mtime: int, target: str | None) -> ArchiveEntry:
    e = ArchiveEntry(header_codec="utf-8")
    e.filetype = _TYPES[kind]
    e.pathname = name
    e.perm = mode
    e.uid = 0
    e.gid = 0
    e.mtime = mtime
    e.size = size if kind == "file" else 0
    if kind == "symlink":
        _set_symlink(e._entry_p, target.encode())
    return e


def header_size(name: str, kind: str, size: int, mode: int, mtime: int, target: str | None = None) -> int:
    """How many bytes libarchive writes before this member's data."""
    count = 0

    def sink(data) -> int:
        nonlocal count
        count += len(data)
        return len(data)

    try:
        with libarchive.custom_writer(sink, "pax", block_size=0) as archive:
            entry = _entry(name, kind, size, mode, mtime, target)  # kept alive until written
            ffi.write_header(archive._pointer, entry._entry_p)
            raise _Measured  # abandon the scratch archive without writing the data
    except _Measured:
        pass
    return count


class TarWriter:
    """Members one at a time; `offset` is where the next byte goes, `sha256` covers all."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.offset = 0
        self.sha256 = hashlib.sha256()
        self.pads = 0
        self._cm = None
        self._archive = None

    def _sink(self, data) -> int:
        b = bytes(data)
        self.out.write(b)
        self.sha256.update(b)
        self.offset += len(b)
        return len(b)

    def __enter__(self):
        self._cm = libarchive.custom_writer(self._sink, "pax", block_size=0)
        self._archive = self._cm.__enter__()
        return self

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)

    def add(self, name: str, kind: str, *, size: int = 0, mode: int = 0o644, mtime: int = GENERATED_MTIME,
            target: str | None = None, chunks=(), align: bool = False) -> int:
        """Write one member; returns the offset of its data.  `chunks` yields exactly `size` bytes."""
        if align:
            self._pad_for(header_size(name, kind, size, mode, mtime, target))
        p = self._archive._pointer
        entry = _entry(name, kind, size, mode, mtime, target)  # kept alive until written
        ffi.write_header(p, entry._entry_p)
        data_offset = self.offset
        if align and data_offset % PAGE:
            raise AssertionError(f"{name}: data at {data_offset}, not page-aligned")
        written = 0
        for chunk in chunks:
            if chunk:
                ffi.write_data(p, chunk, len(chunk))
                written += len(chunk)
        if written != size:
            raise AssertionError(f"{name}: {written} bytes written, {size} announced")
        ffi.write_finish_entry(p)
        return data_offset

    def _pad_for(self, header: int) -> None:
        gap = -(self.offset + header) % PAGE
        if gap == 0:
            return
        assert gap % BLOCK == 0, gap
        self.pads += 1
        name = f"{PAD_DIR}{self.pads:06d}"
        size = gap - BLOCK
        self.add(name, "file", size=size, mode=0o644, chunks=[bytes(size)])


def file_chunks(path: str, size: int, digest: str, on_chunk: Callable[[int], None] | None = None,
                chunk: int = 1 << 20):
    """The bytes of a host file, checked against the size and sha256 measured before."""
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while n < size:
            data = f.read(min(chunk, size - n))
            if not data:
                break
            n += len(data)
            h.update(data)
            if on_chunk:
                on_chunk(len(data))
            yield data
        extra = f.read(1)
    if n != size or extra or h.hexdigest() != digest:
        raise ChangedWhilePacking(path)


class ChangedWhilePacking(Exception):
    pass
