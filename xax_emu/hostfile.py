"""Files the user names on the command line (a manifest, an --fs-image, an image to
inspect), opened so that what they name cannot hang or exhaust the command: only
regular files (a FIFO would block the open, /dev/zero would never end), opened
without blocking, and read up to a cap.  Failures are OSError with a strerror
that callers put in their one-line message."""
from __future__ import annotations

import errno
import os
import stat


def open_regular(path: str | os.PathLike) -> int:
    """An fd of the regular file `path`; OSError (ENAMETOOLONG, ENOENT, ...) if not.
    A NUL in the name is ValueError, as for open()."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", os.fspath(path))
        raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
    return fd


def read_regular(path: str | os.PathLike, most: int) -> bytes:
    """The bytes of the regular file `path`, at most `most` of them (OSError EFBIG if more)."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as f:
        data = f.read(most + 1)
    if len(data) > most:
        raise OSError(errno.EFBIG, f"over {most} bytes", os.fspath(path))
    return data
