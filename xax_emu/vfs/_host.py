"""The layer's VFS (runtime_c/vfs/*.c) built for the host as a Python extension, for tests.

The very same C files as the layer's are compiled with cffi (API mode) into a module
cached under ``$XDG_CACHE_HOME/xax-emu/vfs-host`` (``~/.cache`` by default; a temporary
directory if that is not writable), named after a hash of the sources and of this file,
so that it is rebuilt whenever they change.  In the host build the environment's
``alloc``/``release`` are malloc/free and ``fetch``, the stdio channels and ``random``
(/dev/urandom) call Python.

`HostVfs` wraps one ``struct vfs``: mount methods, then one method per system call,
returning what the C returns — an int that is >= 0 or -errno — or, where the call
fills a buffer, the bytes / a stat record on success and the negative int on failure.
"""
from __future__ import annotations

import errno
import hashlib
import importlib.machinery
import importlib.util
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, NamedTuple

_HERE = Path(__file__).resolve()
VFS_SRC = _HERE.parents[2] / "runtime_c" / "vfs"
INCLUDE = _HERE.parents[2] / "runtime_c" / "include"  # xax_image.h: the image format's limits and rules
AT_FDCWD = -100

# What the host build adds to vfs.h: the Python callbacks behind its vfs_env, and the glue.
_GLUE_CDEF = r"""
extern "Python" int py_fetch(void *ctx, const char *url, void **data, size_t *len);
extern "Python" long py_chan_read(void *ctx, int chan, void *buf, size_t n);
extern "Python" long py_chan_write(void *ctx, int chan, const void *buf, size_t n);
extern "Python" void py_chan_close(void *ctx, int chan);
extern "Python" void py_clock(void *ctx, int64_t *sec, uint32_t *nsec);
extern "Python" long py_random(void *ctx, void *buf, size_t n);
extern "Python" long py_monitor(void *ctx, uint16_t type, int32_t chan, int32_t arg, const void *payload,
                                uint32_t len, void *out, uint32_t outcap, uint32_t *outlen);

struct vfs *host_vfs_new(void *handle);
void *host_malloc(size_t n);
void host_free(void *p);
"""

# The macros the host build compiles vfs.h with (see _CFLAGS).
_HOST_DEFINES = frozenset({"VFS_DEBUG"})


def header_cdef(text: str, name: str = "vfs.h") -> str:
    """A C header as cffi's cdef reads it: comments dropped, its #ifdef/#ifndef sections
    kept or left out as the host build compiles them, integer #defines kept (cffi
    knows them), #include dropped; any other directive is an error naming its line.  Lines
    keep their numbers, so that cffi's errors point into the header.  The declarations are
    the header's own, so the host module cannot disagree with it: vfs.h is the one source."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group().count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    defined = set(_HOST_DEFINES)
    live = [True]  # one entry per open conditional: is its text compiled?
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        directive = re.match(r"\s*#\s*(\w+)\s*(.*?)\s*$", line)
        out.append(line if not directive and all(live) else "")
        if not directive:
            continue
        word, rest = directive.groups()
        if word in ("ifdef", "ifndef"):
            live.append((rest in defined) == (word == "ifdef"))
        elif word == "else" and len(live) > 1:
            live[-1] = not live[-1]
        elif word == "endif" and len(live) > 1:
            live.pop()
        elif word == "define" and all(live):
            parts = rest.split(None, 1)
            defined.add(parts[0])
            value = parts[1] if len(parts) > 1 else ""
            if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)[uUlL]*", value):
                out[-1] = f"#define {parts[0]} {value.rstrip('uUlL')}"
            elif value:
                raise ValueError(f"{name}:{number}: cffi cannot read the macro {parts[0]!r} ({value!r}): "
                                 "make it an integer or an enum")
        elif word != "include" and all(live):
            raise ValueError(f"{name}:{number}: the host build cannot read '#{word} {rest}'")
    return "\n".join(out)


def _cdef() -> str:
    return header_cdef((VFS_SRC / "vfs.h").read_text()) + _GLUE_CDEF

_GLUE = r"""
#include <stdlib.h>
#include "vfs.h"

static int py_fetch(void *ctx, const char *url, void **data, size_t *len);
static long py_chan_read(void *ctx, int chan, void *buf, size_t n);
static long py_chan_write(void *ctx, int chan, const void *buf, size_t n);
static void py_chan_close(void *ctx, int chan);
static void py_clock(void *ctx, int64_t *sec, uint32_t *nsec);
static long py_random(void *ctx, void *buf, size_t n);
static long py_monitor(void *ctx, uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len,
                       void *out, uint32_t outcap, uint32_t *outlen);

static void *host_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void host_release(void *ctx, void *p, size_t n) { (void)ctx; (void)n; free(p); }
void *host_malloc(size_t n) { return malloc(n ? n : 1); }
void host_free(void *p) { free(p); }

struct vfs *host_vfs_new(void *handle)
{
    /* No wait/wake: one thread, so a pipe call that would block answers EAGAIN. */
    struct vfs_env env = {.ctx = handle, .alloc = host_alloc, .release = host_release, .fetch = py_fetch,
                          .chan_read = py_chan_read, .chan_write = py_chan_write, .chan_close = py_chan_close,
                          .clock = py_clock, .random = py_random, .monitor = py_monitor};
    return vfs_new(&env);
}
"""

# VFS_DEBUG: the counters and knobs of vfs.h's last section, which tests read (never in the layer)
_CFLAGS = ["-std=gnu11", "-O1", "-g", "-fno-strict-aliasing", "-fno-omit-frame-pointer", "-DVFS_DEBUG"]
# XAX_VFS_SANITIZE=1: build with AddressSanitizer and UBSan (run python with
# LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0)
_SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]


def _cflags() -> list[str]:
    return _CFLAGS + (_SANITIZE if os.environ.get("XAX_VFS_SANITIZE") else [])


def _sources() -> list[Path]:
    return sorted(VFS_SRC.glob("*.c"))


def _digest() -> str:
    h = hashlib.sha256()
    for p in sorted(VFS_SRC.glob("*.[ch]")) + [INCLUDE / "xax_image.h", INCLUDE / "xax_protocol.h", _HERE]:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    h.update(repr(_cflags()).encode())
    return h.hexdigest()[:16]


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    root = Path(base) / "xax-emu" / "vfs-host"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return root
    except OSError:
        root = Path(tempfile.gettempdir()) / f"xax-emu-vfs-host-{os.getuid()}"
        root.mkdir(parents=True, exist_ok=True)
        return root


def build(verbose: bool = False) -> Path:
    """Compiles the host module if needed; returns the path of the shared object."""
    import cffi

    name = f"_xax_vfs_host_{_digest()}"
    root = _cache_root()
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    target = root / (name + suffix)
    if target.exists():
        return target
    ffi = cffi.FFI()
    ffi.cdef(_cdef())
    flags = _cflags()
    ffi.set_source(name, _GLUE, sources=[str(p) for p in _sources()], include_dirs=[str(VFS_SRC), str(INCLUDE)],
                   extra_compile_args=flags, extra_link_args=[f for f in flags if f.startswith("-fsanitize")])
    tmp = Path(tempfile.mkdtemp(prefix=name + "-", dir=root))
    try:
        built = Path(ffi.compile(tmpdir=str(tmp), verbose=verbose))
        os.replace(built, target)  # atomic: concurrent builders agree on the result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for old in root.glob("_xax_vfs_host_*"):  # builds of older sources (a loaded one stays mapped)
        if old != target and old.is_file():
            try:
                old.unlink()
            except OSError:
                pass
    return target


_module = None


def module():
    """The compiled module (ffi, lib), built on first use."""
    global _module
    if _module is None:
        path = build()
        name = path.name.split(".")[0]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _install_callbacks(mod.ffi)
        _module = mod
    return _module


def _install_callbacks(ffi) -> None:
    @ffi.def_extern(error=-errno.EIO)
    def py_fetch(ctx, url, data, length):
        self = ffi.from_handle(ctx)
        try:
            got = self._fetch(ffi.string(url).decode("utf-8", "surrogateescape"))
        except Exception:  # a failing fetcher is an I/O error, as a failed download is in the layer
            return -errno.EIO
        if isinstance(got, int):
            return got
        got = bytes(got)
        if got:
            p = self._lib.host_malloc(len(got))
            if p == ffi.NULL:
                return -errno.EIO
            ffi.memmove(p, got, len(got))
            data[0] = p
        else:
            data[0] = ffi.NULL
        length[0] = len(got)
        return 0

    @ffi.def_extern(error=-errno.EIO)
    def py_chan_read(ctx, chan, buf, n):
        self = ffi.from_handle(ctx)
        return self._chan_read(chan, buf, n)

    @ffi.def_extern(error=-errno.EIO)
    def py_chan_write(ctx, chan, buf, n):
        self = ffi.from_handle(ctx)
        return self._chan_write(chan, ffi.buffer(buf, n)[:])

    @ffi.def_extern()
    def py_chan_close(ctx, chan):
        ffi.from_handle(ctx).closed_channels.append(chan)

    @ffi.def_extern()
    def py_clock(ctx, sec, nsec):
        t = ffi.from_handle(ctx).clock()
        sec[0], nsec[0] = divmod(t, 1_000_000_000)

    @ffi.def_extern(error=-errno.EIO)
    def py_random(ctx, buf, n):
        self = ffi.from_handle(ctx)
        try:
            got = self.random(n)
        except Exception:  # a failing source is an I/O error, as a failed xaxcall is in the layer
            return -errno.EIO
        if isinstance(got, int):
            return got
        got = bytes(got)[:n]
        self.random_calls.append(n)
        ffi.memmove(buf, got, len(got))
        return len(got)

    @ffi.def_extern(error=-errno.EIO)
    def py_monitor(ctx, type_, chan, arg, payload, length, out, outcap, outlen):
        self = ffi.from_handle(ctx)
        if self.monitor is None:
            return -errno.EIO
        try:
            result, reply = self.monitor(type_, chan, arg, ffi.buffer(payload, length)[:] if length else b"")
        except Exception as e:  # noqa: BLE001 - kept for the test to see, answered as a failed request
            self.monitor_errors.append(e)
            return -errno.EIO
        ffi.memmove(out, reply, min(len(reply), outcap))
        outlen[0] = len(reply)
        return result


class VStat(NamedTuple):
    dev: int
    ino: int
    nlink: int
    mode: int
    uid: int
    gid: int
    size: int
    blksize: int
    blocks: int
    atime: int
    atime_ns: int
    mtime: int
    mtime_ns: int
    ctime: int
    ctime_ns: int
    rdev: int


class Dirent(NamedTuple):
    name: bytes
    type: int
    ino: int
    off: int


def _path(p):
    if p is None:
        return module().ffi.NULL
    return os.fsencode(p)


class HostVfs:
    """One struct vfs, driven from Python.  close() frees the vfs; close_fd(fd) is close(2).

    fetch(url) -> bytes | negative errno serves origin routes; stdin is what fd 0 reads
    after stdio(); what fds 1 and 2 write lands in .stdout and .stderr; clock() -> ns;
    random(n) -> up to n bytes | negative errno feeds /dev/urandom (each n asked is kept
    in .random_calls); hash_mask: see debug_hash_mask (0: every name collides);
    monitor(type, chan, arg, payload) -> (arg, payload) answers host directories' requests
    (what it raises is kept in .monitor_errors, and the request fails with -EIO).
    """

    def __init__(self, *, uid: int = 1000, gid: int = 1000, umask: int = 0o022,
                 fetch: Callable[[str], bytes | int] | None = None, stdin: bytes = b"",
                 clock: Callable[[], int] | None = None, random: Callable[[int], bytes | int] | None = None,
                 hash_mask: int | None = None,
                 monitor: Callable[[int, int, int, bytes], tuple[int, bytes]] | None = None):
        mod = module()
        self.ffi, self._lib = mod.ffi, mod.lib
        self.fetch = fetch
        self.fetched: list[str] = []
        self.stdin = bytearray(stdin)
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.closed_channels: list[int] = []
        self.clock = clock or time.time_ns
        self.random = random or os.urandom
        self.random_calls: list[int] = []
        self.monitor = monitor
        self.monitor_errors: list[Exception] = []
        self._keep: list = []
        self._handle = self.ffi.new_handle(self)
        self._v = self._lib.host_vfs_new(self._handle)
        if self._v == self.ffi.NULL:
            raise MemoryError("vfs_new")
        self._lib.vfs_set_user(self._v, uid, gid)
        self._lib.vfs_umask(self._v, umask)
        if hash_mask is not None:
            self.debug_hash_mask(hash_mask)

    # -- life cycle -------------------------------------------------------------------
    def close(self) -> None:
        if self._v is not None:
            self._lib.vfs_free(self._v)
            self._v = None
            self._keep.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # -- callbacks -------------------------------------------------------------------
    def _fetch(self, url: str):
        self.fetched.append(url)
        if self.fetch is None:
            return -errno.EIO
        return self.fetch(url)

    def _chan_read(self, chan: int, buf, n: int) -> int:
        if chan != 0:
            return -errno.EBADF
        data = bytes(self.stdin[:n])
        del self.stdin[:len(data)]
        self.ffi.memmove(buf, data, len(data))
        return len(data)

    def _chan_write(self, chan: int, data: bytes) -> int:
        if chan == 1:
            self.stdout += data
        elif chan == 2:
            self.stderr += data
        else:
            return -errno.EBADF
        return len(data)

    # -- configuration and routes ------------------------------------------------------
    def set_user(self, uid: int, gid: int) -> int:
        return self._lib.vfs_set_user(self._v, uid, gid)

    def umask(self, mask: int) -> int:
        return self._lib.vfs_umask(self._v, mask)

    def set_fd_limit(self, limit: int) -> int:
        return self._lib.vfs_set_fd_limit(self._v, limit)

    def mount_tar(self, prefix: str, image: bytes, subdir: str = "") -> int:
        buf = self.ffi.from_buffer(image)
        r = self._lib.vfs_mount_tar(self._v, _path(prefix), buf, len(image), _path(subdir))
        if r == 0:
            self._keep.append((image, buf))  # the vfs points into the image
        return r

    def tar_refusal(self) -> tuple[str, int] | None:
        """Why the last mount_tar refused its image ("rule: what") and the header's offset; None."""
        at = self.ffi.new("uint64_t *")
        why = self._lib.vfs_tar_refusal(self._v, at)
        return None if why == self.ffi.NULL else (self.ffi.string(why).decode(), at[0])

    def mount_ram(self, prefix: str, cap: int = 64 << 20) -> int:
        return self._lib.vfs_mount_ram(self._v, _path(prefix), cap)

    def mount_origin(self, prefix: str, url_prefix: str) -> int:
        return self._lib.vfs_mount_origin(self._v, _path(prefix), url_prefix.encode())

    def pin_sha256(self, prefix: str, relpath: str, digest: bytes | str) -> int:
        if isinstance(digest, str):
            digest = bytes.fromhex(digest)
        if len(digest) != 32:
            raise ValueError("sha256 digests are 32 bytes")
        return self._lib.vfs_pin_sha256(self._v, _path(prefix), _path(relpath), digest)

    def mount_hostdir(self, prefix: str, number: int, rw: bool) -> int:
        return self._lib.vfs_mount_hostdir(self._v, _path(prefix), number, int(rw))

    def export_ram(self) -> bytes | int:
        """vfs_export_ram's tar, or its negative errno."""
        out = bytearray()

        @self.ffi.callback("long(void *, const void *, size_t)")
        def emit(ctx, data, n):
            out.extend(self.ffi.buffer(data, n))
            return 0
        r = self._lib.vfs_export_ram(self._v, emit, self.ffi.NULL)
        return r if r < 0 else bytes(out)

    def mount_deny(self, prefix: str) -> int:
        return self._lib.vfs_mount_deny(self._v, _path(prefix))

    def stdio(self) -> int:
        return self._lib.vfs_stdio(self._v)

    def reserve_fd(self, fd: int) -> int:
        return self._lib.vfs_reserve_fd(self._v, fd)

    def mount_dev(self, prefix: str = "/dev") -> int:
        return self._lib.vfs_mount_dev(self._v, _path(prefix))

    def mount_proc(self, prefix: str = "/proc", pid: int = 100, exe: str | None = None) -> int:
        return self._lib.vfs_mount_proc(self._v, _path(prefix), pid, _path(exe))

    # -- system calls -------------------------------------------------------------------
    def open(self, path, flags: int = os.O_RDONLY, mode: int = 0o666, dirfd: int = AT_FDCWD) -> int:
        return self._lib.vfs_openat(self._v, dirfd, _path(path), flags, mode)

    def close_fd(self, fd: int) -> int:
        return self._lib.vfs_close(self._v, fd)

    def read(self, fd: int, n: int):
        buf = self.ffi.new("char[]", max(n, 1))
        r = self._lib.vfs_read(self._v, fd, buf, n)
        return r if r < 0 else self.ffi.buffer(buf, r)[:]

    def pread(self, fd: int, n: int, off: int):
        buf = self.ffi.new("char[]", max(n, 1))
        r = self._lib.vfs_pread64(self._v, fd, buf, n, off)
        return r if r < 0 else self.ffi.buffer(buf, r)[:]

    def readv(self, fd: int, sizes: list[int]):
        bufs = [self.ffi.new("char[]", max(s, 1)) for s in sizes]
        iov = self.ffi.new("struct vfs_iovec[]", max(len(sizes), 1))
        for i, (b, s) in enumerate(zip(bufs, sizes)):
            iov[i].iov_base = b
            iov[i].iov_len = s
        r = self._lib.vfs_readv(self._v, fd, iov, len(sizes))
        if r < 0:
            return r
        out, left = bytearray(), r
        for b, s in zip(bufs, sizes):
            take = min(s, left)
            out += self.ffi.buffer(b, take)[:]
            left -= take
        return bytes(out)

    def write(self, fd: int, data: bytes) -> int:
        return self._lib.vfs_write(self._v, fd, data, len(data))

    def pwrite(self, fd: int, data: bytes, off: int) -> int:
        return self._lib.vfs_pwrite64(self._v, fd, data, len(data), off)

    def writev(self, fd: int, chunks: list[bytes]) -> int:
        keep = [self.ffi.new("char[]", bytes(c) or b"\0") for c in chunks]
        iov = self.ffi.new("struct vfs_iovec[]", max(len(chunks), 1))
        for i, (b, c) in enumerate(zip(keep, chunks)):
            iov[i].iov_base = b
            iov[i].iov_len = len(c)
        return self._lib.vfs_writev(self._v, fd, iov, len(chunks))

    def lseek(self, fd: int, off: int, whence: int) -> int:
        return self._lib.vfs_lseek(self._v, fd, off, whence)

    @staticmethod
    def _vstat(st) -> VStat:
        return VStat(st.st_dev, st.st_ino, st.st_nlink, st.st_mode, st.st_uid, st.st_gid, st.st_size,
                     st.st_blksize, st.st_blocks, st.st_atime_sec, st.st_atime_nsec, st.st_mtime_sec,
                     st.st_mtime_nsec, st.st_ctime_sec, st.st_ctime_nsec, st.st_rdev)

    def fstat(self, fd: int):
        st = self.ffi.new("struct vfs_stat *")
        r = self._lib.vfs_fstat(self._v, fd, st)
        return r if r < 0 else self._vstat(st)

    def stat(self, path, flags: int = 0, dirfd: int = AT_FDCWD):
        st = self.ffi.new("struct vfs_stat *")
        r = self._lib.vfs_newfstatat(self._v, dirfd, _path(path), st, flags)
        return r if r < 0 else self._vstat(st)

    def lstat(self, path, dirfd: int = AT_FDCWD):
        return self.stat(path, 0x100, dirfd)

    def statx(self, path, flags: int = 0, mask: int = 0xfff, dirfd: int = AT_FDCWD):
        stx = self.ffi.new("struct vfs_statx *")
        r = self._lib.vfs_statx(self._v, dirfd, _path(path), flags, mask, stx)
        if r < 0:
            return r
        return {"mask": stx.stx_mask, "mode": stx.stx_mode, "nlink": stx.stx_nlink, "uid": stx.stx_uid,
                "gid": stx.stx_gid, "ino": stx.stx_ino, "size": stx.stx_size, "blocks": stx.stx_blocks,
                "mtime": stx.stx_mtime.tv_sec, "mtime_ns": stx.stx_mtime.tv_nsec,
                "dev_minor": stx.stx_dev_minor, "rdev_major": stx.stx_rdev_major,
                "rdev_minor": stx.stx_rdev_minor}

    def getdents(self, fd: int, bufsize: int = 65536):
        buf = self.ffi.new("char[]", max(bufsize, 1))
        r = self._lib.vfs_getdents64(self._v, fd, buf, bufsize)
        if r < 0:
            return r
        raw = self.ffi.buffer(buf, r)[:]
        out, pos = [], 0
        while pos < r:
            ino = int.from_bytes(raw[pos:pos + 8], "little")
            off = int.from_bytes(raw[pos + 8:pos + 16], "little", signed=True)
            reclen = int.from_bytes(raw[pos + 16:pos + 18], "little")
            dtype = raw[pos + 18]
            name = raw[pos + 19:pos + reclen].split(b"\0", 1)[0]
            out.append(Dirent(name, dtype, ino, off))
            if reclen == 0:
                raise AssertionError("zero d_reclen")
            pos += reclen
        return out

    def listdir(self, path, dirfd: int = AT_FDCWD):
        """All entries but . and .., sorted, or -errno."""
        fd = self.open(path, os.O_RDONLY | os.O_DIRECTORY, dirfd=dirfd)
        if fd < 0:
            return fd
        names = []
        try:
            while True:
                ents = self.getdents(fd, 4096)
                if isinstance(ents, int):
                    return ents
                if not ents:
                    break
                names += [e.name for e in ents if e.name not in (b".", b"..")]
        finally:
            self.close_fd(fd)
        return sorted(names)

    def readlink(self, path, bufsize: int = 4096, dirfd: int = AT_FDCWD):
        buf = self.ffi.new("char[]", max(bufsize, 1))
        r = self._lib.vfs_readlinkat(self._v, dirfd, _path(path), buf, bufsize)
        return r if r < 0 else self.ffi.buffer(buf, r)[:]

    def access(self, path, mode: int, flags: int = 0, dirfd: int = AT_FDCWD) -> int:
        return self._lib.vfs_faccessat2(self._v, dirfd, _path(path), mode, flags)

    def mkdir(self, path, mode: int = 0o777, dirfd: int = AT_FDCWD) -> int:
        return self._lib.vfs_mkdirat(self._v, dirfd, _path(path), mode)

    def unlink(self, path, flags: int = 0, dirfd: int = AT_FDCWD) -> int:
        return self._lib.vfs_unlinkat(self._v, dirfd, _path(path), flags)

    def rmdir(self, path, dirfd: int = AT_FDCWD) -> int:
        return self._lib.vfs_unlinkat(self._v, dirfd, _path(path), 0x200)

    def rename(self, old, new, flags: int = 0, olddirfd: int = AT_FDCWD, newdirfd: int = AT_FDCWD) -> int:
        return self._lib.vfs_renameat2(self._v, olddirfd, _path(old), newdirfd, _path(new), flags)

    def ftruncate(self, fd: int, length: int) -> int:
        return self._lib.vfs_ftruncate(self._v, fd, length)

    def fsync(self, fd: int) -> int:
        return self._lib.vfs_fsync(self._v, fd)

    def fdatasync(self, fd: int) -> int:
        return self._lib.vfs_fdatasync(self._v, fd)

    def dup(self, fd: int) -> int:
        return self._lib.vfs_dup(self._v, fd)

    def dup2(self, fd: int, newfd: int) -> int:
        return self._lib.vfs_dup2(self._v, fd, newfd)

    def dup3(self, fd: int, newfd: int, flags: int = 0) -> int:
        return self._lib.vfs_dup3(self._v, fd, newfd, flags)

    def pipe2(self, flags: int = 0):
        """(read fd, write fd), or -errno."""
        fds = self.ffi.new("int[2]")
        r = self._lib.vfs_pipe2(self._v, fds, flags)
        return r if r < 0 else (fds[0], fds[1])

    # -- sockets (sock*.c) ----------------------------------------------------------------
    def socket(self, family: int, type_: int, protocol: int = 0) -> int:
        return self._lib.vfs_socket(self._v, family, type_, protocol)

    def socketpair(self, family: int, type_: int, protocol: int = 0):
        """(fd, fd), or -errno."""
        fds = self.ffi.new("int[2]")
        r = self._lib.vfs_socketpair(self._v, family, type_, protocol, fds)
        return r if r < 0 else (fds[0], fds[1])

    def _addr(self, sockaddr: bytes | None):
        if sockaddr is None:
            return self.ffi.NULL, 0
        return self.ffi.new("char[]", sockaddr or b"\0"), len(sockaddr)

    def bind(self, fd: int, sockaddr: bytes | None) -> int:
        """sockaddr: the raw struct sockaddr bytes (family included)."""
        buf, n = self._addr(sockaddr)
        return self._lib.vfs_bind(self._v, fd, buf, n)

    def connect(self, fd: int, sockaddr: bytes | None) -> int:
        buf, n = self._addr(sockaddr)
        return self._lib.vfs_connect(self._v, fd, buf, n)

    def listen(self, fd: int, backlog: int) -> int:
        return self._lib.vfs_listen(self._v, fd, backlog)

    def _name_call(self, fn, *args):
        buf = self.ffi.new("char[]", 128)
        n = self.ffi.new("uint32_t *", 128)
        r = fn(self._v, *args, buf, n)
        return r, self.ffi.buffer(buf, n[0])[:] if r >= 0 else b""

    def accept4(self, fd: int, flags: int = 0):
        """(new fd, the peer's raw sockaddr), or (-errno, b"")."""
        buf = self.ffi.new("char[]", 128)
        n = self.ffi.new("uint32_t *", 128)
        r = self._lib.vfs_accept4(self._v, fd, buf, n, flags)
        return r, self.ffi.buffer(buf, n[0])[:] if r >= 0 else b""

    def getsockname(self, fd: int):
        """The raw sockaddr, or -errno."""
        r, name = self._name_call(self._lib.vfs_getsockname, fd)
        return r if r < 0 else name

    def getpeername(self, fd: int):
        r, name = self._name_call(self._lib.vfs_getpeername, fd)
        return r if r < 0 else name

    def shutdown(self, fd: int, how: int) -> int:
        return self._lib.vfs_shutdown(self._v, fd, how)

    def sendmsg(self, fd: int, pieces: list[bytes], flags: int = 0, to: bytes | None = None) -> int:
        iov = self.ffi.new("struct vfs_iovec[]", max(len(pieces), 1))
        keep = []
        for i, piece in enumerate(pieces):
            b = self.ffi.new("char[]", piece or b"\0")
            keep.append(b)
            iov[i].iov_base, iov[i].iov_len = b, len(piece)
        m = self.ffi.new("struct vfs_msghdr *")
        m.iov, m.iovlen = iov, len(pieces)
        name, n = self._addr(to)
        m.name, m.namelen = name, n
        return self._lib.vfs_sendmsg(self._v, fd, m, flags)

    def send(self, fd: int, data: bytes, flags: int = 0, to: bytes | None = None) -> int:
        return self.sendmsg(fd, [data], flags, to)

    def recvmsg(self, fd: int, sizes: list[int], flags: int = 0):
        """(bytes received, [the buffers' bytes], source sockaddr, msg_flags), or (-errno, ...)."""
        iov = self.ffi.new("struct vfs_iovec[]", max(len(sizes), 1))
        bufs = []
        for i, size in enumerate(sizes):
            b = self.ffi.new("char[]", max(size, 1))
            bufs.append(b)
            iov[i].iov_base, iov[i].iov_len = b, size
        m = self.ffi.new("struct vfs_msghdr *")
        name = self.ffi.new("char[]", 128)
        m.iov, m.iovlen, m.name, m.namelen = iov, len(sizes), name, 128
        r = self._lib.vfs_recvmsg(self._v, fd, m, flags)
        if r < 0:
            return r, [], b"", 0
        return r, [self.ffi.buffer(b, s)[:] for b, s in zip(bufs, sizes)], self.ffi.buffer(name, m.namelen)[:], m.flags

    def recv(self, fd: int, n: int, flags: int = 0):
        """The bytes received, or -errno."""
        r, bufs, _, _ = self.recvmsg(fd, [n], flags)
        if r < 0:
            return r
        return bufs[0][:min(r, n)]

    def recvfrom(self, fd: int, n: int, flags: int = 0):
        """(the bytes, the source's raw sockaddr), or -errno."""
        r, bufs, name, _ = self.recvmsg(fd, [n], flags)
        return r if r < 0 else (bufs[0][:min(r, n)], name)

    def setsockopt(self, fd: int, level: int, name: int, value: bytes | int) -> int:
        if isinstance(value, int):
            value = value.to_bytes(4, "little", signed=True)
        buf, n = self._addr(value)
        return self._lib.vfs_setsockopt(self._v, fd, level, name, buf, n)

    def getsockopt(self, fd: int, level: int, name: int, size: int = 4):
        """The option's bytes (at most size), or -errno."""
        buf = self.ffi.new("char[]", max(size, 1))
        n = self.ffi.new("uint32_t *", size)
        r = self._lib.vfs_getsockopt(self._v, fd, level, name, buf, n)
        return r if r < 0 else self.ffi.buffer(buf, n[0])[:]

    def getsockopt_int(self, fd: int, level: int, name: int):
        got = self.getsockopt(fd, level, name)
        return got if isinstance(got, int) else int.from_bytes(got, "little", signed=True)

    def sendfile(self, out_fd: int, in_fd: int, offset: int | None, count: int):
        """(bytes sent, the offset after, or None) or (-errno, None)."""
        off = self.ffi.new("int64_t *", offset or 0) if offset is not None else self.ffi.NULL
        r = self._lib.vfs_sendfile(self._v, out_fd, in_fd, off, count)
        return r, (off[0] if offset is not None else None)

    def net_accepts(self, on: bool = True) -> int:
        return self._lib.vfs_net_accepts(self._v, int(on))

    # -- eventfd, epoll ----------------------------------------------------------------------
    def eventfd(self, initval: int, flags: int = 0) -> int:
        return self._lib.vfs_eventfd2(self._v, initval, flags)

    def epoll_create1(self, flags: int = 0) -> int:
        return self._lib.vfs_epoll_create1(self._v, flags)

    def epoll_ctl(self, epfd: int, op: int, fd: int, events: int = 0, data: int = 0, null: bool = False) -> int:
        ev = self.ffi.NULL if null else self.ffi.new("struct vfs_epoll_event *")
        if not null:
            ev.events = events & 0xFFFFFFFF
            ev.data[0], ev.data[1] = data & 0xFFFFFFFF, (data >> 32) & 0xFFFFFFFF
        return self._lib.vfs_epoll_ctl(self._v, epfd, op, fd, ev)

    def epoll_wait(self, epfd: int, maxevents: int = 64):
        """One wait that never blocks: [(events, data)] or -errno (the probes' channels are
        not asked: the host build has no Monitor)."""
        count = self._lib.vfs_epoll_scan(self._v, epfd, self.ffi.NULL, 0)
        if count < 0:
            return count
        probes = self.ffi.new("struct vfs_epoll_probe[]", max(count, 1))
        n = self._lib.vfs_epoll_scan(self._v, epfd, probes, count)
        out = self.ffi.new("struct vfs_epoll_event[]", max(maxevents, 1))
        got = self._lib.vfs_epoll_deliver(self._v, epfd, probes, n, out, maxevents)
        if got < 0:
            return got
        return [(out[i].events, out[i].data[0] | out[i].data[1] << 32) for i in range(got)]

    def fcntl(self, fd: int, cmd: int, arg: int = 0) -> int:
        return self._lib.vfs_fcntl(self._v, fd, cmd, arg & 0xFFFFFFFFFFFFFFFF)

    def ioctl(self, fd: int, cmd: int, arg: int = 0) -> int:
        return self._lib.vfs_ioctl(self._v, fd, cmd & 0xFFFFFFFF, arg & 0xFFFFFFFFFFFFFFFF)

    def ioctl_int(self, fd: int, cmd: int):
        """An ioctl that writes an int: (result, the int)."""
        out = self.ffi.new("int *", -1)
        r = self._lib.vfs_ioctl(self._v, fd, cmd & 0xFFFFFFFF, int(self.ffi.cast("uintptr_t", out)))
        return r, out[0]

    def poll(self, fd: int, events: int) -> tuple[int, int]:
        """(revents, the stdio channel to ask or -1)."""
        chan = self.ffi.new("int *", -2)
        r = self._lib.vfs_poll(self._v, fd, events & 0xFFFFFFFF, chan)
        return r, chan[0]

    def chdir(self, path) -> int:
        return self._lib.vfs_chdir(self._v, _path(path))

    def fchdir(self, fd: int) -> int:
        return self._lib.vfs_fchdir(self._v, fd)

    def getcwd(self, size: int = 4096):
        buf = self.ffi.new("char[]", max(size, 1))
        r = self._lib.vfs_getcwd(self._v, buf, size)
        return r if r < 0 else self.ffi.buffer(buf, r - 1)[:].decode("utf-8", "surrogateescape")

    def mmap_copy(self, fd: int, off: int, length: int):
        """(bytes from the file, the whole length of memory) or -errno."""
        buf = self.ffi.new("char[]", max(length, 1))
        self.ffi.memmove(buf, b"\xaa" * length, length)  # must be overwritten
        r = self._lib.vfs_mmap_copy(self._v, fd, off, buf, length)
        return r if r < 0 else (r, self.ffi.buffer(buf, length)[:])

    def mmap_check(self, fd: int, off: int, length: int) -> int:
        """The file's size, or -errno: mmap_copy's checks without the copy."""
        out = self.ffi.new("uint64_t *")
        r = self._lib.vfs_mmap_check(self._v, fd, off, length, out)
        return r if r < 0 else out[0]

    # -- the host build's view inside (VFS_DEBUG) ------------------------------------------
    def debug_stats(self) -> dict[str, int]:
        """lookups: name lookups so far; probes: directory entries they examined; buckets,
        entries, longest: the entry table's size, what it holds, its longest chain."""
        out = self.ffi.new("uint64_t[5]")
        self._lib.vfs_debug_stats(self._v, out)
        return dict(zip(("lookups", "probes", "buckets", "entries", "longest"), out))

    def debug_hash_mask(self, mask: int) -> int:
        """Every entry hash ANDed with mask from now on: 0 puts every entry in one bucket."""
        return self._lib.vfs_debug_hash_mask(self._v, mask & 0xFFFFFFFF)

    def tar_offset(self, fd: int) -> int:
        out = self.ffi.new("uint64_t *")
        r = self._lib.vfs_tar_offset(self._v, fd, out)
        return r if r < 0 else out[0]


def sha256(data: bytes) -> bytes:
    """The C sha256 (for testing it)."""
    mod = module()
    out = mod.ffi.new("uint8_t[32]")
    mod.lib.vfs_sha256(data, len(data), out)
    return bytes(out)
