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
"""
from __future__ import annotations

import errno
import fcntl
import mmap
import os

from ..errors import ProgramError

MFD_EXEC = 0x0010  # <linux/memfd.h>, Linux 6.3; os has no name for it before Python 3.12
SEALS = fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL


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


class ImageFile:
    """One read-only fd holding the whole image; `close()` (or garbage collection) closes it."""

    def __init__(self, fd: int, size: int, kind: str):
        self.fd = fd
        self.size = size
        self.kind = kind  # "memfd" (a sealed copy) or "cache" (the HTTP cache's body file)

    @classmethod
    def copy_of_file(cls, path: str, fd: int) -> "ImageFile":
        """A sealed memfd holding the bytes of the open file `fd` (named `path`), copied in the kernel."""
        size = os.fstat(fd).st_size
        mfd = _memfd(f"xax-image:{os.path.basename(path)}")
        try:
            done = 0
            while done < size:
                n = os.sendfile(mfd, fd, done, min(size - done, 1 << 30))
                if n == 0:
                    raise ProgramError(f"{path}: the file shrank while it was read", path)
                done += n
            return cls._sealed(mfd, size)
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
    def _sealed(cls, mfd: int, size: int) -> "ImageFile":
        fcntl.fcntl(mfd, fcntl.F_ADD_SEALS, SEALS)
        return cls(mfd, size, "memfd")

    @classmethod
    def cached(cls, fd: int, data, name: str) -> "ImageFile":
        """The HTTP cache's body file `fd` (whose bytes, `data`, were read and checked
        through it), taken over; or a sealed copy if its file system is noexec."""
        if os.fstatvfs(fd).f_flag & os.ST_NOEXEC:
            os.close(fd)
            return cls.copy_of_bytes(data, name)
        return cls(fd, len(data), "cache")

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
