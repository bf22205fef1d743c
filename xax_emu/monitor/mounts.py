"""Host directories the user grants a picoprocess: `run --mount HOST:GUEST[:ro|rw]`.

The picoprocess's counterpart of a browser's file picker.  The user grants, on the
command line; an image never names a host path (its manifest's [mounts] only declares
the guest mount points its app expects and their modes: image/mounts.py).  A grant is
read-only unless it says rw.

The picoprocess never gets a host fd.  The Monitor opens each granted directory once,
when the run starts (an O_PATH|O_DIRECTORY fd), and serves the layer's MOUNT_* xaxcalls
(protocol.py; the layer's side is runtime_c/vfs/hostdir.c) beneath it:

- every path is checked first, and a malformed one is a ProtocolViolation (the
  picoprocess is killed): relative, components joined by one '/', none empty, '.',
  '..' or over NAME_MAX bytes, no NUL, at most MOUNT_PATH_MAX bytes.  The layer resolves
  '..' and symlinks itself (its path walk never leaves a route's root): a path with any
  of these never comes from it;
- it is resolved component by component from the root fd, each directory opened with
  O_PATH|O_DIRECTORY|O_NOFOLLOW: a symlink anywhere on the way is ENOTDIR, never
  followed, whatever the host changes between two calls;
- the last component is acted on relative to its directory's fd by the *at calls, never
  through a symlink: lstat and readlink (a symlink is reported as one, the layer follows
  it inside the mount), O_NOFOLLOW opens, O_CREAT|O_EXCL, mkdirat, unlinkat (a symlink is
  removed, not its target), renameat2 between two directories of the same mount;
- data moves only to and from regular files: the file is opened O_PATH|O_NOFOLLOW,
  checked with fstat, and only then reopened through /proc/self/fd (the very inode that
  was checked: a FIFO or a device never sees an open);
- a rw mount writes only to files with one link: a file with other hard links can be
  reached from outside the directory (EPERM); no call makes a hard link;
- no file is read or written at or past the download limit (EFBIG, as RLIMIT_FSIZE
  answers); a read or write moves at most one message's payload;
- an ro mount refuses every change (EROFS).
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
from dataclasses import dataclass
from typing import Iterator

from .. import protocol as p
from ..errors import MountError, ProtocolViolation
from ..image.mounts import nested, normalize_guest

MAX_OFFSET = (1 << 63) - 1   # the kernel's loff_t
_NAME_MAX = p.MOUNT_NAME_MAX
_PATH_MAX = p.MOUNT_PATH_MAX


# -- grants --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Grant:
    host: str    # the directory as the user named it
    guest: str   # where the picoprocess sees it: normalized, absolute, not "/"
    rw: bool

    @property
    def mode(self) -> str:
        return "rw" if self.rw else "ro"


def guest_path(text: str, what: str) -> str:
    """normalize_guest, its refusal a MountError naming `what` (the option)."""
    try:
        return normalize_guest(text)
    except ValueError as e:
        raise MountError(f"{what}: {e}") from None


def parse_grant(text: str) -> Grant:
    """--mount HOST:GUEST[:ro|rw], read-only unless it ends in :rw (the last ':' before
    GUEST splits: a host path may hold ':', a guest path may not)."""
    body, rw = text, False
    for suffix, flag in ((":ro", False), (":rw", True)):
        if text.endswith(suffix):
            body, rw = text[:-len(suffix)], flag
            break
    host, sep, guest = body.rpartition(":")
    if not sep or not host or not guest:
        raise MountError(f"--mount {text!r}: not HOST:GUEST[:ro|rw] (e.g. --mount ~/docs:/input)")
    return Grant(host, guest_path(guest, f"--mount {text!r}"), rw)


def check_grants(grants: list[Grant]) -> None:
    """At most MAX_MOUNTS grants, none at or under another (a mount would hide part of the other)."""
    if len(grants) > p.MAX_MOUNTS:
        raise MountError(f"--mount: {len(grants)} grants, at most {p.MAX_MOUNTS}")
    for i, g in enumerate(grants):
        for h in grants[:i]:
            if nested(g.guest, h.guest):
                raise MountError(f"--mount {g.host}:{g.guest}: overlaps the mount at {h.guest}")


class Mounts:
    """The granted directories of one picoprocess: an O_PATH fd of each, opened now (the
    directory the user named, symlinks on the way followed: it is their choice), closed
    by close().  `limit` bounds the offsets read and written (the download limit)."""

    def __init__(self, grants: list[Grant], limit: int):
        check_grants(grants)
        self.grants = list(grants)
        self.limit = limit
        self.roots: list[int] = []
        try:
            for g in self.grants:
                try:
                    self.roots.append(os.open(g.host, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))
                except OSError as e:
                    raise MountError(f"--mount {g.host}:{g.guest}: {e.strerror or e}") from None
                except ValueError:
                    raise MountError(f"--mount {g.host!r}: not a directory name (it contains NUL)") from None
        except BaseException:
            self.close()
            raise

    def settings(self) -> list[str]:
        """The PAL settings that tell the layer where to mount them: mount number i is the i-th."""
        return [f"mount={g.mode}:{g.guest}" for g in self.grants]

    def close(self) -> None:
        for fd in self.roots:
            os.close(fd)
        self.roots = []

    def __enter__(self) -> "Mounts":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- the picoprocess's requests: checked first --------------------------------------------

def _mount(pico, msg: p.Message) -> tuple[Grant, int, int]:
    """The grant the request names (chan), its root fd and the limit."""
    mounts = pico.mounts
    if mounts is None or not 0 <= msg.chan < len(mounts.roots):
        raise ProtocolViolation(f"{msg.type_name}: mount {msg.chan} was not granted")
    return mounts.grants[msg.chan], mounts.roots[msg.chan], mounts.limit


def split_path(raw: bytes, what: str) -> list[bytes]:
    """A path relative to a mount, as the layer sends it: its components (none: the root)."""
    if len(raw) > _PATH_MAX:
        raise ProtocolViolation(f"{what}: a path of {len(raw)} bytes, over {_PATH_MAX}")
    if not raw:
        return []
    if b"\0" in raw:
        raise ProtocolViolation(f"{what}: a path with NUL")
    parts = raw.split(b"/")
    for part in parts:
        if part in (b"", b".", b"..") or len(part) > _NAME_MAX:
            raise ProtocolViolation(f"{what}: the path {raw[:80]!r} is not relative and normalized "
                                    "(an empty, '.', '..' or over-long component)")
    return parts


def _no_arg(msg: p.Message) -> None:
    if msg.arg != 0:
        raise ProtocolViolation(f"{msg.type_name}: arg must be 0, not {msg.arg}")


def _io(msg: p.Message, with_data: bool) -> tuple[int, int, list[bytes], bytes]:
    """struct xax_mount_io + path (+ len bytes of data): off, len, the path's parts, the data."""
    what = msg.type_name
    if len(msg.payload) < p.MOUNT_IO.size:
        raise ProtocolViolation(f"{what}: payload of {len(msg.payload)} bytes, shorter than its header")
    off, n, pathlen = p.MOUNT_IO.unpack_from(msg.payload)
    rest = msg.payload[p.MOUNT_IO.size:]
    if pathlen > len(rest) or len(rest) != pathlen + (n if with_data else 0):
        raise ProtocolViolation(f"{what}: pathlen {pathlen} and len {n} do not add up to the payload's "
                                f"{len(rest)} bytes")
    return off, n, split_path(rest[:pathlen], what), rest[pathlen:]


def _mode(msg: p.Message, keep: int) -> int:
    """The mode asked for, with only the bits of `keep`: never a set-id bit on the user's
    files (the Monitor may run as root), a directory's sticky bit only."""
    if not 0 <= msg.arg <= 0o7777:
        raise ProtocolViolation(f"{msg.type_name}: mode {msg.arg:#o} is not permission bits")
    return msg.arg & keep


# -- acting beneath a root ------------------------------------------------------------------

@contextlib.contextmanager
def _parent(root: int, parts: list[bytes]) -> Iterator[tuple[int, bytes]]:
    """The directory holding the path's last component, opened component by component
    from the root with O_NOFOLLOW (a symlink on the way: ENOTDIR), and that component."""
    fd = os.dup(root)
    try:
        for part in parts[:-1]:
            nfd = os.open(part, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nfd
        yield fd, parts[-1]
    finally:
        os.close(fd)


def _reopen(path_fd: int, flags: int) -> int:
    """The inode of an O_PATH fd, opened for real (the kernel's /proc magic link)."""
    return os.open(f"/proc/self/fd/{path_fd}", flags | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)


@contextlib.contextmanager
def _regular(root: int, parts: list[bytes], flags: int) -> Iterator[int]:
    """The regular file the path names, opened with flags: ELOOP for a symlink, EISDIR for
    a directory, EACCES for anything else (as on a nodev mount); for writing, EPERM if
    it has other hard links."""
    if not parts:
        raise IsADirectoryError(errno.EISDIR, "the mount's root")
    with _parent(root, parts) as (d, name):
        pfd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=d)
    try:
        st = os.fstat(pfd)
        if stat.S_ISLNK(st.st_mode):
            raise OSError(errno.ELOOP, "a symlink")
        if stat.S_ISDIR(st.st_mode):
            raise OSError(errno.EISDIR, "a directory")
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EACCES, "not a regular file")
        if flags & os.O_ACCMODE != os.O_RDONLY and st.st_nlink > 1:
            raise OSError(errno.EPERM, "a file with other hard links")
        fd = _reopen(pfd, flags)
    finally:
        os.close(pfd)
    try:
        yield fd
    finally:
        os.close(fd)


def pack_stat(st: os.stat_result) -> bytes:
    """What the picoprocess learns of a host file (never its owner, device or inode)."""
    (asec, ans), (msec, mns), (csec, cns) = (divmod(t, 10**9) for t in (st.st_atime_ns, st.st_mtime_ns,
                                                                           st.st_ctime_ns))
    return p.MOUNT_STAT.pack(st.st_mode & (stat.S_IFMT(st.st_mode) | 0o7777), min(st.st_nlink, 0xFFFF_FFFF),
                             st.st_size, st.st_blocks, asec, msec, csec, ans, mns, cns, 0)


def _lstat(d: int, name: bytes) -> tuple[os.stat_result, bytes]:
    st = os.stat(name, dir_fd=d, follow_symlinks=False)
    link = os.readlink(name, dir_fd=d) if stat.S_ISLNK(st.st_mode) else b""
    return st, link[:_PATH_MAX]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
_libc.renameat2.restype = ctypes.c_int


def _renameat2(d1: int, n1: bytes, d2: int, n2: bytes, flags: int) -> None:
    if _libc.renameat2(d1, n1, d2, n2, flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def _answer(pico, msg: p.Message, work) -> None:
    """Reply with what `work()` returns ((arg, payload)), or -errno if the host said no."""
    try:
        arg, payload = work()
    except OSError as e:
        arg, payload = -(e.errno or errno.EIO), b""
    pico.reply(msg, arg, payload)


def _writable(grant: Grant) -> None:
    if not grant.rw:
        raise OSError(errno.EROFS, "a read-only mount")


# -- the xaxcalls -----------------------------------------------------------------------------

def mount_stat(pico, msg: p.Message) -> None:
    _, root, _ = _mount(pico, msg)
    _no_arg(msg)
    parts = split_path(msg.payload, msg.type_name)

    def work():
        if not parts:
            return 0, pack_stat(os.stat(root))
        with _parent(root, parts) as (d, name):
            st, link = _lstat(d, name)
        return 0, pack_stat(st) + link
    _answer(pico, msg, work)


def _entries(dfd: int, start: int) -> tuple[list[bytes], int]:
    """The records of a directory's entries from place `start` of its name-sorted listing,
    as many as one reply holds, and the place to ask from next (0: none left).  An entry
    that goes away meanwhile is left out."""
    names = sorted(os.fsencode(n) for n in os.listdir(dfd))
    records, size, i = [], p.MOUNT_LIST.size, start
    while i < len(names):
        name = names[i]
        try:
            st, link = _lstat(dfd, name)
        except FileNotFoundError:
            i += 1
            continue
        rec = p.MOUNT_ENTRY.pack(len(name), len(link), 0) + pack_stat(st) + name + link
        rec += b"\0" * (-len(rec) % 8)
        if size + len(rec) > p.MAX_PAYLOAD:
            break
        records.append(rec)
        size += len(rec)
        i += 1
    return records, (i if i < len(names) else 0)


def mount_list(pico, msg: p.Message) -> None:
    _, root, _ = _mount(pico, msg)
    if msg.arg < 0:
        raise ProtocolViolation(f"MOUNT_LIST: place {msg.arg} is negative")
    parts = split_path(msg.payload, msg.type_name)

    def work():
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        if not parts:
            dfd = os.open(".", flags, dir_fd=root)
        else:
            with _parent(root, parts) as (d, name):
                dfd = os.open(name, flags, dir_fd=d)
        try:
            records, nxt = _entries(dfd, msg.arg)
        finally:
            os.close(dfd)
        return 0, p.MOUNT_LIST.pack(len(records), nxt) + b"".join(records)
    _answer(pico, msg, work)


def mount_read(pico, msg: p.Message) -> None:
    _, root, limit = _mount(pico, msg)
    _no_arg(msg)
    off, n, parts, _ = _io(msg, with_data=False)
    if n > p.MAX_PAYLOAD:
        raise ProtocolViolation(f"MOUNT_READ of {n} bytes, over {p.MAX_PAYLOAD}")

    def work():
        if off > MAX_OFFSET:
            raise OSError(errno.EINVAL, "offset")
        with _regular(root, parts, os.O_RDONLY) as fd:
            if off >= limit:
                raise OSError(errno.EFBIG, "past the download limit")
            data = os.pread(fd, min(n, limit - off), off)
        return len(data), data
    _answer(pico, msg, work)


def mount_write(pico, msg: p.Message) -> None:
    grant, root, limit = _mount(pico, msg)
    _no_arg(msg)
    off, _, parts, data = _io(msg, with_data=True)

    def work():
        _writable(grant)
        if off > MAX_OFFSET:
            raise OSError(errno.EINVAL, "offset")
        with _regular(root, parts, os.O_WRONLY) as fd:
            if data and off >= limit:
                raise OSError(errno.EFBIG, "past the download limit")
            n = os.pwrite(fd, data[:limit - off], off) if data else 0
            return n, pack_stat(os.fstat(fd))
    _answer(pico, msg, work)


def mount_truncate(pico, msg: p.Message) -> None:
    grant, root, limit = _mount(pico, msg)
    _no_arg(msg)
    size, n, parts, _ = _io(msg, with_data=False)
    if n != 0:
        raise ProtocolViolation(f"MOUNT_TRUNCATE: len must be 0, not {n}")

    def work():
        _writable(grant)
        if size > MAX_OFFSET:
            raise OSError(errno.EINVAL, "size")
        if size > limit:
            raise OSError(errno.EFBIG, "past the download limit")
        with _regular(root, parts, os.O_WRONLY) as fd:
            os.ftruncate(fd, size)
            return 0, pack_stat(os.fstat(fd))
    _answer(pico, msg, work)


def mount_create(pico, msg: p.Message) -> None:
    grant, root, _ = _mount(pico, msg)
    mode = _mode(msg, 0o777)
    parts = split_path(msg.payload, msg.type_name)

    def work():
        _writable(grant)
        if not parts:
            raise FileExistsError(errno.EEXIST, "the mount's root")
        with _parent(root, parts) as (d, name):
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY
                         | os.O_NONBLOCK, mode, dir_fd=d)
            try:
                return 0, pack_stat(os.fstat(fd)) + pack_stat(os.fstat(d))
            finally:
                os.close(fd)
    _answer(pico, msg, work)


def mount_mkdir(pico, msg: p.Message) -> None:
    grant, root, _ = _mount(pico, msg)
    mode = _mode(msg, 0o1777)
    parts = split_path(msg.payload, msg.type_name)

    def work():
        _writable(grant)
        if not parts:
            raise FileExistsError(errno.EEXIST, "the mount's root")
        with _parent(root, parts) as (d, name):
            os.mkdir(name, mode, dir_fd=d)
            return 0, pack_stat(os.stat(name, dir_fd=d, follow_symlinks=False)) + pack_stat(os.fstat(d))
    _answer(pico, msg, work)


def mount_remove(pico, msg: p.Message) -> None:
    grant, root, _ = _mount(pico, msg)
    if msg.arg not in (p.MOUNT_REMOVE_FILE, p.MOUNT_REMOVE_DIR):
        raise ProtocolViolation(f"MOUNT_REMOVE: arg must be {p.MOUNT_REMOVE_FILE} or {p.MOUNT_REMOVE_DIR}, "
                                f"not {msg.arg}")
    parts = split_path(msg.payload, msg.type_name)

    def work():
        _writable(grant)
        if not parts:
            raise OSError(errno.EBUSY, "the mount's root")
        with _parent(root, parts) as (d, name):
            if msg.arg == p.MOUNT_REMOVE_DIR:
                os.rmdir(name, dir_fd=d)
            else:
                os.unlink(name, dir_fd=d)
            return 0, pack_stat(os.fstat(d))
    _answer(pico, msg, work)


def mount_rename(pico, msg: p.Message) -> None:
    grant, root, _ = _mount(pico, msg)
    if msg.arg not in (0, p.RENAME_NOREPLACE, p.RENAME_EXCHANGE):
        raise ProtocolViolation(f"MOUNT_RENAME: flags {msg.arg:#x} are not 0, RENAME_NOREPLACE or RENAME_EXCHANGE")
    if len(msg.payload) < p.MOUNT_RENAME.size:
        raise ProtocolViolation(f"MOUNT_RENAME: payload of {len(msg.payload)} bytes, shorter than its header")
    oldlen, newlen = p.MOUNT_RENAME.unpack_from(msg.payload)
    rest = msg.payload[p.MOUNT_RENAME.size:]
    if oldlen + newlen != len(rest):
        raise ProtocolViolation(f"MOUNT_RENAME: lengths {oldlen} + {newlen} are not the payload's {len(rest)} bytes")
    old = split_path(rest[:oldlen], msg.type_name)
    new = split_path(rest[oldlen:], msg.type_name)

    def work():
        _writable(grant)
        if not old or not new:
            raise OSError(errno.EBUSY, "the mount's root")
        with _parent(root, old) as (d1, n1), _parent(root, new) as (d2, n2):
            _renameat2(d1, n1, d2, n2, msg.arg)
            return 0, pack_stat(os.fstat(d1)) + pack_stat(os.fstat(d2))
    _answer(pico, msg, work)


# The handlers by message type, for xaxcalls.XAXCALLS.
HANDLERS = {
    p.TYPES["MOUNT_STAT"]: mount_stat,
    p.TYPES["MOUNT_LIST"]: mount_list,
    p.TYPES["MOUNT_READ"]: mount_read,
    p.TYPES["MOUNT_WRITE"]: mount_write,
    p.TYPES["MOUNT_TRUNCATE"]: mount_truncate,
    p.TYPES["MOUNT_CREATE"]: mount_create,
    p.TYPES["MOUNT_MKDIR"]: mount_mkdir,
    p.TYPES["MOUNT_REMOVE"]: mount_remove,
    p.TYPES["MOUNT_RENAME"]: mount_rename,
}
