"""The image as one read-only fd, handed to a picoprocess at protocol.IMAGE_FD.

The boot block maps it private and read-only before the seal, and the filter
lets the layer map it privately again (seal/allowlist.py): the tar index is
built on that mapping and page-aligned members (ELF files: pack aligns them)
are mapped straight from the fd, so nothing of the image is copied into the
picoprocess.

What the picoprocess maps must be what the Monitor checked, and must not change
while it runs (rewritten, the image would show other bytes than the ones
validated; truncated, its mapped pages would raise SIGBUS).  So:

- a local file is the user's and may be rewritten in place at any time (packing
  again to the same name does): it is copied into a memfd sealed against
  writing, shrinking and growing (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW,
  then F_SEAL_SEAL), and the Monitor validates the memfd's bytes, not the file's;
- bytes the Monitor holds (a download, a bare program's --fs-image) go into such
  a sealed memfd too;
- an image served from the HTTP cache is the cache's own body file: the cache
  writes a body once under a temporary name and renames it into place, never
  writing to a file it has renamed, and the Monitor read and checked the bytes
  through the very fd it hands over.  A cache on a noexec mount cannot be
  mapped executable (ld.so maps code from the image): such a body is copied
  into a sealed memfd instead.

The memfd is created executable (MFD_EXEC) for the same reason; a kernel whose
vm.memfd_noexec sysctl forbids that gets a clear error.

A local file's copy is hashed on the way (`sha256`: of the bytes written into
the memfd, so of exactly what the picoprocess maps): the key under which the
Monitor remembers that it validated these bytes (launch/validated.py).
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import mmap
import os
import queue
import threading

from ..errors import ProgramError

MFD_EXEC = 0x0010  # <linux/memfd.h>, Linux 6.3; os has no name for it before Python 3.12
SEALS = fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL
COPY_CHUNK = 1 << 20  # bytes per read (and write) of a local image's copy
COPY_BUFFERS = 4
SEAL_ATTEMPTS = 3


def _memfd(name: str) -> int:
    name = "".join(c if c.isprintable() and c != "/" else "_" for c in name)[:200]  # the kernel's limit is 249
    flags = os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING
    try:
        return os.memfd_create(name, flags | MFD_EXEC)
    except OSError as e:
        if e.errno == errno.EINVAL:  # a kernel before 6.3: every memfd is executable
            return os.memfd_create(name, flags)
        if e.errno in (errno.EACCES, errno.EPERM):
            raise ProgramError(f"{name}: the kernel refuses executable memfds (vm.memfd_noexec = 2), "
                               "and the picoprocess maps the image's code from one", name) from None
        raise


def _copy_hashing(src: int, dst: int, size: int, path: str) -> str:
    """Copy the first `size` bytes of `src` to `dst` (at its offset) and return their sha256.

    This thread reads each chunk into a buffer and hashes it; a second thread
    writes that same buffer to `dst` meanwhile, and only then hands it back to
    be read into again.  So the digest is of exactly the bytes written, and the
    copy and the hash (each some 40-60 ms for an 80 MiB image here) overlap."""
    h = hashlib.sha256()
    free: queue.SimpleQueue = queue.SimpleQueue()  # buffers ready to be read into; None: the writer failed
    full: queue.SimpleQueue = queue.SimpleQueue()  # (buffer, bytes in it) to write; None: no more
    for _ in range(COPY_BUFFERS):
        free.put(bytearray(COPY_CHUNK))
    failed: list[OSError] = []

    def writer() -> None:
        try:
            while (item := full.get()) is not None:
                buf, n = item
                view = memoryview(buf)[:n]
                while view:
                    view = view[os.write(dst, view):]
                free.put(buf)
        except OSError as e:
            failed.append(e)
            free.put(None)

    thread = threading.Thread(target=writer, name="xax-image-copy", daemon=True)
    thread.start()
    try:
        done = 0
        while done < size:
            buf = free.get()
            if buf is None:
                break
            n = os.preadv(src, [memoryview(buf)[:min(size - done, COPY_CHUNK)]], done)
            if n == 0:
                raise ProgramError(f"{path}: the file shrank while it was read", path)
            h.update(memoryview(buf)[:n])
            full.put((buf, n))
            done += n
    finally:
        full.put(None)
        thread.join()
    if failed:
        raise failed[0]
    return h.hexdigest()


class ImageFile:
    """One read-only fd holding the whole image; `close()` (or garbage collection) closes it."""

    def __init__(self, fd: int, size: int, kind: str, sha256: str | None = None):
        self.fd = fd
        self.size = size
        self.kind = kind  # "memfd" (a sealed copy) or "cache" (the HTTP cache's body file)
        self.sha256 = sha256  # hex digest of the fd's bytes, when known

    @classmethod
    def copy_of_file(cls, path: str, fd: int) -> "ImageFile":
        """A sealed memfd holding the bytes of the open file `fd` (named `path`), with
        their sha256 (of the bytes the memfd got, whatever the file does meanwhile)."""
        size = os.fstat(fd).st_size
        mfd = _memfd(f"xax-image:{os.path.basename(path)}")
        try:
            return cls._sealed(mfd, size, _copy_hashing(fd, mfd, size, path))
        except BaseException:
            os.close(mfd)
            raise

    @classmethod
    def copy_of_bytes(cls, data, name: str) -> "ImageFile":
        """A sealed memfd holding `data` (any bytes-like object)."""
        mfd = _memfd(f"xax-image:{name}")
        try:
            view = memoryview(data)
            while view:
                n = os.write(mfd, view)
                view = view[n:]
            return cls._sealed(mfd, len(data))
        except BaseException:
            os.close(mfd)
            raise

    @classmethod
    def _sealed(cls, mfd: int, size: int, sha256: str | None = None) -> "ImageFile":
        # F_SEAL_WRITE fails with EBUSY while a page of the file has a reference
        # besides the page cache's; the kernel waits ~150 ms for such references
        # to go.  This memfd has no mapping and no other holder (its writes are all
        # done), so a reference can only be the kernel's own, passing (LRU batches,
        # page migration on a busy machine): try again, a few times.
        for attempt in range(SEAL_ATTEMPTS):
            try:
                fcntl.fcntl(mfd, fcntl.F_ADD_SEALS, SEALS)
                break
            except OSError as e:
                if e.errno != errno.EBUSY or attempt == SEAL_ATTEMPTS - 1:
                    raise
        return cls(mfd, size, "memfd", sha256)

    @classmethod
    def cached(cls, fd: int, data, name: str) -> "ImageFile":
        """The HTTP cache's body file `fd` (whose bytes, `data`, were read and checked
        through it), taken over; or a sealed copy if its file system is noexec."""
        if os.fstatvfs(fd).f_flag & os.ST_NOEXEC:
            os.close(fd)
            return cls.copy_of_bytes(data, name)
        return cls(fd, len(data), "cache")

    def pread(self, offset: int, n: int) -> bytes:
        """n bytes at offset (fewer at the end), without mapping the image."""
        return os.pread(self.fd, n, offset)

    def mapping(self) -> mmap.mmap:
        """The Monitor's own read-only view (for validation); close it when done."""
        return mmap.mmap(self.fd, self.size, mmap.MAP_SHARED, mmap.PROT_READ)

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)

    def __del__(self):
        try:
            self.close()
        except (OSError, TypeError):  # at interpreter exit `os` may already be gone
            pass
