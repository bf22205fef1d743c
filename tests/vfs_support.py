"""Support for the VFS tests: the same file operations run on the C VFS (HostVfs) and on
the real kernel, so that their results can be compared exactly.

`RealFs` runs the operations in a child process that is chrooted into a fresh directory on
tmpfs (/dev/shm): absolute paths and ".." then behave there exactly as on the VFS's RAM disk
mounted at "/", and the child's fd numbers start at 0 like the VFS's (its channel to us sits
at fds 1000/1001).  The child calls libc's thin wrappers through ctypes, so flags are passed
as they are (no O_CLOEXEC added as Python's os.open would).  It needs root or an
unprivileged user namespace (for chroot); `RealFs.available()` says why not otherwise.

An operation is a tuple (name, *args); `run_op(fs, op)` gives an int (>= 0 or -errno), bytes,
or a tuple, the same shapes for both kinds of fs.
"""
from __future__ import annotations

import ctypes
import os
import pickle
import shutil
import struct
import tempfile

from xax_emu.syscalls import catalogue
from xax_emu.vfs._host import HostVfs

AT_FDCWD = -100
SHM = "/dev/shm"


def _tmpfs(path: str) -> bool:
    best = ("", "")
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                parts = line.split()
                mnt = parts[4]
                fstype = parts[parts.index("-") + 1]
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[0]):
                    best = (mnt, fstype)
    except OSError:
        return False
    return best[1] == "tmpfs"


_libc = ctypes.CDLL(None, use_errno=True)
_c = ctypes
for name, res, args in [
    ("openat", _c.c_int, [_c.c_int, _c.c_char_p, _c.c_int, _c.c_uint]),
    ("close", _c.c_int, [_c.c_int]),
    ("read", _c.c_ssize_t, [_c.c_int, _c.c_void_p, _c.c_size_t]),
    ("pread64", _c.c_ssize_t, [_c.c_int, _c.c_void_p, _c.c_size_t, _c.c_int64]),
    ("write", _c.c_ssize_t, [_c.c_int, _c.c_char_p, _c.c_size_t]),
    ("pwrite64", _c.c_ssize_t, [_c.c_int, _c.c_char_p, _c.c_size_t, _c.c_int64]),
    ("readv", _c.c_ssize_t, [_c.c_int, _c.c_void_p, _c.c_int]),
    ("writev", _c.c_ssize_t, [_c.c_int, _c.c_void_p, _c.c_int]),
    ("lseek64", _c.c_int64, [_c.c_int, _c.c_int64, _c.c_int]),
    ("ftruncate64", _c.c_int, [_c.c_int, _c.c_int64]),
    ("fsync", _c.c_int, [_c.c_int]),
    ("fdatasync", _c.c_int, [_c.c_int]),
    ("fstatat", _c.c_int, [_c.c_int, _c.c_char_p, _c.c_void_p, _c.c_int]),
    ("fstat", _c.c_int, [_c.c_int, _c.c_void_p]),
    ("statx", _c.c_int, [_c.c_int, _c.c_char_p, _c.c_int, _c.c_uint, _c.c_void_p]),
    ("getdents64", _c.c_ssize_t, [_c.c_int, _c.c_void_p, _c.c_size_t]),
    ("readlinkat", _c.c_ssize_t, [_c.c_int, _c.c_char_p, _c.c_void_p, _c.c_size_t]),
    ("faccessat", _c.c_int, [_c.c_int, _c.c_char_p, _c.c_int, _c.c_int]),
    ("mkdirat", _c.c_int, [_c.c_int, _c.c_char_p, _c.c_uint]),
    ("unlinkat", _c.c_int, [_c.c_int, _c.c_char_p, _c.c_int]),
    ("renameat2", _c.c_int, [_c.c_int, _c.c_char_p, _c.c_int, _c.c_char_p, _c.c_uint]),
    ("dup", _c.c_int, [_c.c_int]),
    ("dup2", _c.c_int, [_c.c_int, _c.c_int]),
    ("dup3", _c.c_int, [_c.c_int, _c.c_int, _c.c_int]),
    ("fcntl", _c.c_int, [_c.c_int, _c.c_int, _c.c_long]),
    ("chdir", _c.c_int, [_c.c_char_p]),
    ("fchdir", _c.c_int, [_c.c_int]),
    ("syscall", _c.c_long, [_c.c_long, _c.c_void_p, _c.c_size_t]),
    ("unshare", _c.c_int, [_c.c_int]),
]:
    fn = getattr(_libc, name)
    fn.restype, fn.argtypes = res, args
# the raw call: libc's getcwd answers EINVAL for size 0 and may walk ".." itself
_NR_getcwd = catalogue.by_name("getcwd").nr


def _ret(r: int) -> int:
    return -ctypes.get_errno() if r == -1 else r


def _path(p):
    return None if p is None else os.fsencode(p)


def stat_tuple(mode, size, nlink, uid, gid):
    """What the comparisons look at (inode numbers, devices, times and blocks differ)."""
    return ("stat", mode, size, nlink, uid, gid)


def _parse_stat(buf) -> tuple:
    nlink, mode, uid, gid = struct.unpack_from("<QIII", buf, 16)
    size, = struct.unpack_from("<q", buf, 48)
    return stat_tuple(mode, size, nlink, uid, gid)


def parse_dirents(raw: bytes) -> list[tuple[bytes, int]]:
    out, pos = [], 0
    while pos < len(raw):
        reclen = int.from_bytes(raw[pos + 16:pos + 18], "little")
        out.append((raw[pos + 19:pos + reclen].split(b"\0", 1)[0], raw[pos + 18]))
        pos += reclen
    return out


def _iov(bufs):
    arr = (ctypes.c_uint64 * (2 * max(len(bufs), 1)))()
    for i, b in enumerate(bufs):
        arr[2 * i] = ctypes.addressof(b)
        arr[2 * i + 1] = len(b)
    return arr


def real_op(op: tuple):
    """Runs one operation on the real kernel (in the chrooted child)."""
    name, *a = op
    L = _libc
    if name == "open":
        path, flags, mode = a
        return _ret(L.openat(AT_FDCWD, _path(path), flags, mode))
    if name == "close":
        return _ret(L.close(a[0]))
    if name in ("read", "pread"):
        fd, n = a[0], a[1]
        buf = ctypes.create_string_buffer(max(n, 1))
        r = _ret(L.read(fd, buf, n) if name == "read" else L.pread64(fd, buf, n, a[2]))
        return r if r < 0 else buf.raw[:r]
    if name == "write":
        return _ret(L.write(a[0], a[1], len(a[1])))
    if name == "pwrite":
        return _ret(L.pwrite64(a[0], a[1], len(a[1]), a[2]))
    if name == "readv":
        fd, sizes = a
        bufs = [ctypes.create_string_buffer(s) for s in sizes]
        r = _ret(L.readv(fd, _iov(bufs), len(sizes)))
        if r < 0:
            return r
        out, left = b"", r
        for b in bufs:
            out += b.raw[:min(len(b), left)]
            left -= min(len(b), left)
        return out
    if name == "writev":
        fd, chunks = a
        bufs = [ctypes.create_string_buffer(c, len(c)) for c in chunks]
        return _ret(L.writev(fd, _iov(bufs), len(chunks)))
    if name == "lseek":
        return _ret(L.lseek64(*a))
    if name == "ftruncate":
        return _ret(L.ftruncate64(*a))
    if name == "fsync":
        return _ret(L.fsync(a[0]))
    if name == "fdatasync":
        return _ret(L.fdatasync(a[0]))
    if name == "stat":
        path, flags = a
        buf = ctypes.create_string_buffer(144)
        r = _ret(L.fstatat(AT_FDCWD, _path(path), buf, flags))
        return r if r < 0 else _parse_stat(buf.raw)
    if name == "fstat":
        buf = ctypes.create_string_buffer(144)
        r = _ret(L.fstat(a[0], buf))
        return r if r < 0 else _parse_stat(buf.raw)
    if name == "statx":
        path, flags = a
        buf = ctypes.create_string_buffer(256)
        r = _ret(L.statx(AT_FDCWD, _path(path), flags, 0xfff, buf))
        if r < 0:
            return r
        nlink, uid, gid, mode = struct.unpack_from("<IIIH", buf.raw, 16)
        size, = struct.unpack_from("<Q", buf.raw, 40)
        return ("statx", mode, size, nlink, uid, gid)
    if name == "getdents":
        fd, n = a
        buf = ctypes.create_string_buffer(max(n, 1))
        r = _ret(L.getdents64(fd, buf, n))
        return r if r < 0 else parse_dirents(buf.raw[:r])
    if name == "readlink":
        buf = ctypes.create_string_buffer(256)
        r = _ret(L.readlinkat(AT_FDCWD, _path(a[0]), buf, 256))
        return r if r < 0 else buf.raw[:r]
    if name == "access":
        return _ret(L.faccessat(AT_FDCWD, _path(a[0]), a[1], a[2]))
    if name == "mkdir":
        return _ret(L.mkdirat(AT_FDCWD, _path(a[0]), a[1]))
    if name == "unlink":
        return _ret(L.unlinkat(AT_FDCWD, _path(a[0]), a[1]))
    if name == "rename":
        return _ret(L.renameat2(AT_FDCWD, _path(a[0]), AT_FDCWD, _path(a[1]), a[2]))
    if name == "dup":
        return _ret(L.dup(a[0]))
    if name == "dup2":
        return _ret(L.dup2(*a))
    if name == "dup3":
        return _ret(L.dup3(*a))
    if name == "fcntl":
        return _ret(L.fcntl(*a))
    if name == "chdir":
        return _ret(L.chdir(_path(a[0])))
    if name == "fchdir":
        return _ret(L.fchdir(a[0]))
    if name == "getcwd":
        buf = ctypes.create_string_buffer(4096)
        r = _ret(L.syscall(_NR_getcwd, buf, a[0] if a else 4096))
        return r if r < 0 else buf.raw[:r - 1]
    raise ValueError(f"unknown operation {name!r}")


def vfs_op(v: HostVfs, op: tuple):
    """Runs one operation on the C VFS."""
    name, *a = op
    if name == "open":
        return v.open(*a)
    if name == "close":
        return v.close_fd(a[0])
    if name == "read":
        return v.read(*a)
    if name == "pread":
        return v.pread(*a)
    if name == "write":
        return v.write(*a)
    if name == "pwrite":
        return v.pwrite(*a)
    if name == "readv":
        return v.readv(*a)
    if name == "writev":
        return v.writev(*a)
    if name == "lseek":
        return v.lseek(*a)
    if name == "ftruncate":
        return v.ftruncate(*a)
    if name == "fsync":
        return v.fsync(a[0])
    if name == "fdatasync":
        return v.fdatasync(a[0])
    if name in ("stat", "fstat"):
        st = v.stat(*a) if name == "stat" else v.fstat(a[0])
        return st if isinstance(st, int) else stat_tuple(st.mode, st.size, st.nlink, st.uid, st.gid)
    if name == "statx":
        st = v.statx(a[0], a[1])
        return st if isinstance(st, int) else ("statx", st["mode"], st["size"], st["nlink"], st["uid"], st["gid"])
    if name == "getdents":
        ents = v.getdents(*a)
        return ents if isinstance(ents, int) else [(e.name, e.type) for e in ents]
    if name == "readlink":
        return v.readlink(a[0], 256)
    if name == "access":
        return v.access(*a)
    if name == "mkdir":
        return v.mkdir(*a)
    if name == "unlink":
        return v.unlink(*a)
    if name == "rename":
        return v.rename(*a)
    if name == "dup":
        return v.dup(a[0])
    if name == "dup2":
        return v.dup2(*a)
    if name == "dup3":
        return v.dup3(*a)
    if name == "fcntl":
        return v.fcntl(*a)
    if name == "chdir":
        return v.chdir(a[0])
    if name == "fchdir":
        return v.fchdir(a[0])
    if name == "getcwd":
        r = v.getcwd(*a)
        return r if isinstance(r, int) else r.encode()
    raise ValueError(f"unknown operation {name!r}")


def _read_exact(fd: int, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = os.read(fd, n - len(out))
        if not chunk:
            raise EOFError
        out += chunk
    return out


def _send(fd: int, obj) -> None:
    data = pickle.dumps(obj)
    os.write(fd, struct.pack("<I", len(data)) + data)


def _recv(fd: int):
    n, = struct.unpack("<I", _read_exact(fd, 4))
    return pickle.loads(_read_exact(fd, n))


def _enter_userns() -> None:
    CLONE_NEWUSER = 0x10000000
    uid, gid = os.getuid(), os.getgid()
    if _libc.unshare(CLONE_NEWUSER) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER)")
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")


class RealFs:
    """A chrooted child process on a fresh tmpfs directory."""

    REQ_FD, RES_FD = 1000, 1001
    _why: str | None = None
    _checked = False

    @classmethod
    def available(cls) -> str | None:
        """None if usable, else why not."""
        if not cls._checked:
            cls._checked = True
            if not os.path.isdir(SHM) or not _tmpfs(SHM):
                cls._why = f"{SHM} is not a tmpfs"
            else:
                try:
                    with cls() as fs:
                        if fs.op(("getcwd",)) != b"/":
                            cls._why = "the chrooted child does not work"
                except Exception as e:  # noqa: BLE001 - reported as the reason to skip
                    cls._why = f"cannot chroot a child on {SHM}: {e}"
        return cls._why

    def __init__(self, root_mode: int = 0o1777, umask: int = 0o022, entries=None, uid: int | None = None):
        """uid: the child drops root for this user, who then owns the directory (needs root)."""
        self.dir = tempfile.mkdtemp(prefix="xax-vfs-", dir=SHM)
        if uid is not None:
            os.chown(self.dir, uid, uid)
        if entries:
            populate(self.dir, entries, uid)
        os.chmod(self.dir, root_mode)
        req_r, req_w = os.pipe()
        res_r, res_w = os.pipe()
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 0
            try:
                if os.geteuid() != 0:
                    _enter_userns()
                os.chroot(self.dir)
                os.chdir("/")
                os.umask(umask)
                if uid is not None:
                    os.setgroups([])
                    os.setgid(uid)
                    os.setuid(uid)
                os.dup2(req_r, self.REQ_FD)
                os.dup2(res_w, self.RES_FD)
                os.closerange(0, self.REQ_FD)
                while True:
                    try:
                        op = _recv(self.REQ_FD)
                    except EOFError:
                        break
                    try:
                        res = real_op(op)
                    except Exception as e:  # noqa: BLE001 - sent back to the parent
                        res = ("exception", repr(e))
                    _send(self.RES_FD, res)
            except BaseException as e:  # noqa: BLE001
                try:
                    os.write(err_w, repr(e).encode()[:500])
                except OSError:
                    pass
                code = 1
            os._exit(code)
        os.close(req_r)
        os.close(res_w)
        os.close(err_w)
        self.pid, self.req, self.res, self.err = pid, req_w, res_r, err_r

    def op(self, op: tuple):
        try:
            _send(self.req, op)
            res = _recv(self.res)
        except (EOFError, BrokenPipeError):
            why = os.read(self.err, 500).decode(errors="replace")
            raise RuntimeError(f"the chrooted child died: {why}") from None
        if isinstance(res, tuple) and res and res[0] == "exception":
            raise RuntimeError(f"the child failed on {op!r}: {res[1]}")
        return res

    def close(self) -> None:
        if self.pid:
            for fd in (self.req, self.res, self.err):
                os.close(fd)
            os.waitpid(self.pid, 0)
            self.pid = 0
            for top, dirs, _ in os.walk(self.dir):
                for d in dirs:
                    p = os.path.join(top, d)
                    if not os.path.islink(p):
                        os.chmod(p, 0o700)
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- trees of files, as tar images and as real directories ------------------------------

import io  # noqa: E402
import tarfile  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from hypothesis import strategies as st  # noqa: E402

LONG = "n" * 120  # a component long enough to need a long-name header in a path


@dataclass(frozen=True)
class Entry:
    path: tuple[str, ...]
    kind: str  # "dir", "file", "link"
    mode: int = 0o755
    data: bytes = b""
    target: str = ""
    implicit: bool = False  # a directory no member names (the tar reader makes it, 0755)

    @property
    def name(self) -> str:
        return "/".join(self.path)


tree_names = st.sampled_from(["a", "b", "c", "d", "a", "b", LONG])
target_comps = st.sampled_from(["a", "b", "c", "d", "..", ".", "a", "b"])


@st.composite
def link_targets(draw):
    comps = draw(st.lists(target_comps, min_size=1, max_size=4))
    t = "/".join(comps)
    if draw(st.integers(0, 3)) == 0:
        t = "/" + t
    if draw(st.integers(0, 7)) == 0:
        t += "/"
    return t


@st.composite
def trees(draw, max_entries: int = 14):
    """A list of entries, parents before children, every parent a directory."""
    entries: dict[tuple, Entry] = {}
    for _ in range(draw(st.integers(1, max_entries))):
        path = tuple(draw(st.lists(tree_names, min_size=1, max_size=3)))
        if path in entries or any(path[:i] in entries and entries[path[:i]].kind != "dir" for i in range(1, len(path))):
            continue
        if len("/".join(path)) > 250 and draw(st.booleans()):
            continue
        kind = draw(st.sampled_from(["dir", "file", "file", "link", "link"]))
        if kind == "dir":
            mode = draw(st.sampled_from([0o755, 0o755, 0o700, 0o555, 0o500, 0o311, 0o644, 0o000, 0o1777]))
            entries[path] = Entry(path, "dir", mode)
        elif kind == "file":
            mode = draw(st.sampled_from([0o644, 0o644, 0o755, 0o600, 0o400, 0o000, 0o111, 0o4755, 0o200]))
            entries[path] = Entry(path, "file", mode, data=draw(st.binary(max_size=40)))
        else:
            entries[path] = Entry(path, "link", 0o777, target=draw(link_targets()))
        for i in range(1, len(path)):
            if path[:i] not in entries:
                entries[path[:i]] = Entry(path[:i], "dir", 0o755, implicit=True)
    return sorted(entries.values(), key=lambda e: (len(e.path), e.path))


def build_tar(entries, fmt=tarfile.PAX_FORMAT, *, order=None, mtime: int = 1_600_000_000) -> bytes:
    """The entries as a tar image in the image format (implicit directories left out), written by
    Python's tarfile: pax, or ustar (pax where ustar cannot hold a name: a component over 100
    bytes, a target over 100)."""
    buf = io.BytesIO()
    try:
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
            for e in (order if order is not None else entries):
                if e.implicit:
                    continue
                ti = tarfile.TarInfo(e.name)
                ti.mode = e.mode
                ti.mtime = mtime
                ti.uid = ti.gid = 4242
                if e.kind == "dir":
                    ti.type = tarfile.DIRTYPE
                    tf.addfile(ti)
                elif e.kind == "file":
                    ti.size = len(e.data)
                    tf.addfile(ti, io.BytesIO(e.data))
                else:
                    ti.type = tarfile.SYMTYPE
                    ti.linkname = e.target
                    tf.addfile(ti)
    except ValueError:
        if fmt == tarfile.PAX_FORMAT:
            raise
        return build_tar(entries, tarfile.PAX_FORMAT, order=order, mtime=mtime)
    return buf.getvalue()


def populate(root: str, entries, uid: int | None = None) -> None:
    """The entries as a real directory tree under root, owned by uid if given (run as root:
    modes are set last, after chown, which would clear set-id bits)."""
    for e in entries:
        p = os.path.join(root, e.name)
        if e.kind == "dir":
            os.mkdir(p, 0o700)
        elif e.kind == "file":
            with open(p, "wb") as f:
                f.write(e.data)
        else:
            os.symlink(e.target, p)
        if uid is not None:
            os.lchown(p, uid, uid)
    for e in sorted(entries, key=lambda e: -len(e.path)):
        if e.kind != "link":
            os.chmod(os.path.join(root, e.name), e.mode)


_path_comp = st.sampled_from(["a", "b", "c", "d", ".", "..", "a", "b", LONG])


@st.composite
def tree_paths(draw, known=()):
    """Paths over the names trees() uses, often one of `known`, with "." / ".." / slashes."""
    kind = draw(st.integers(0, 15))
    if known and kind >= 8:
        p = draw(st.sampled_from(known))
        if kind == 8:
            p += "/"
        elif kind == 9:
            p = "/" + p
        elif kind == 10:
            p += "/.."
        return p
    if kind == 0:
        return ""
    if kind == 1:
        return "/"
    p = "/".join(draw(st.lists(_path_comp, min_size=1, max_size=4)))
    if draw(st.booleans()):
        p = "/" + p
    if kind in (2, 3):
        p += "/"
    return p
