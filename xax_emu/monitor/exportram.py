"""run --export-ram DIR: the RAM disks' contents after the run, as the program left them.

Asked for at boot (the PAL setting export_ram=1, and a seal under which the program's
own exit_group traps: seal/allowlist.py), the layer writes its RAM disks as one tar
(runtime_c/vfs/export.c) in EXPORT_RAM messages when the program exits; the Monitor
keeps the bytes in an unnamed temporary file, at most `limit` of them (the download
limit: what a picoprocess may hand the Monitor at once).  A program that is killed, or
whose last thread ends without exit_group, exports nothing.

`extract` then puts them in DIR, which must not exist yet or be empty.  The tar is
hostile data: it is read as a filesystem tar is (image/validate.py's read_tar, the image
format's tar rules, docs/image-format.md: regular files, directories and symlinks only,
no absolute names, no '..', no two members of one name, each directory before what it
holds, nothing inside a file or a symlink, symlinks that stay inside the tree), and one
more rule: a symlink's target is relative (an absolute one would name the host's root).
Each member is made relative to its directory's fd, walked from DIR's with O_NOFOLLOW,
with O_CREAT|O_EXCL or mkdirat or symlinkat: nothing is written outside DIR, nothing is
followed.  Modes are kept without set-id and sticky bits, and so are mtimes.
"""
from __future__ import annotations

import os
import tempfile

from ..errors import MountError

CHUNK = 1 << 20


class RamExport:
    """The tar the layer sends at exit, kept in a temporary file."""

    def __init__(self, limit: int):
        self.limit = limit
        self.file = tempfile.TemporaryFile()
        self.size = 0
        self.done = False       # the last piece came
        self.refused: str | None = None

    def take(self, data: bytes, last: bool) -> bool:
        """One piece; False (and nothing more is taken) past the limit or after the last."""
        if self.done or self.refused:
            return False
        if self.size + len(data) > self.limit:
            self.refused = f"the RAM disks' tar is over the download limit of {self.limit} bytes"
            return False
        self.file.write(data)
        self.size += len(data)
        self.done = last
        return True

    def abandon(self, why: str) -> None:
        """The layer gave up: nothing is exported."""
        if not self.done and not self.refused:
            self.refused = why

    def close(self) -> None:
        self.file.close()


def _members(export: RamExport):
    """The tar's members, read as a filesystem tar is (validate.read_tar: the image format's
    tar rules), and the export's own rule: no symlink to an absolute path."""
    import mmap

    from ..image import ImageError
    from ..image.validate import read_tar

    export.file.flush()
    try:
        if export.size == 0:
            image = read_tar(b"")
        else:
            with mmap.mmap(export.file.fileno(), export.size, prot=mmap.PROT_READ) as view:
                image = read_tar(view)
    except ImageError as e:
        raise MountError(f"--export-ram: the RAM disks' tar is refused: {e}") from None
    for m in image.members:
        if m.type not in ("file", "dir", "symlink"):  # (the format has no other type: kept as a second check)
            raise MountError(f"--export-ram: the RAM disks' tar is refused: {m.raw_name!r} is a {m.type}")
        if m.type == "symlink" and m.link.startswith("/"):  # inside an image it starts at its root; here, the host's
            raise MountError(f"--export-ram: the RAM disks' tar is refused: {m.raw_name!r} is a symlink to an "
                             f"absolute path, {m.link[:200]!r}, outside DIR")
    return image.members


def check_target(directory: str) -> None:
    """Before the run: DIR must be absent (with a parent that is a directory) or an empty directory."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        parent = os.path.dirname(os.path.abspath(directory))
        if not os.path.isdir(parent):
            raise MountError(f"--export-ram {directory}: its parent directory {parent} does not exist") from None
        return
    except NotADirectoryError:
        raise MountError(f"--export-ram {directory}: not a directory") from None
    except OSError as e:
        raise MountError(f"--export-ram {directory}: {e.strerror or e}") from None
    except ValueError:
        raise MountError(f"--export-ram {directory!r}: not a directory name (it contains NUL)") from None
    if names:
        raise MountError(f"--export-ram {directory}: the directory is not empty")


def _open_target(directory: str) -> int:
    """DIR, made if absent (its parent must exist), or an empty directory."""
    try:
        os.mkdir(directory, 0o755)
    except FileExistsError:
        pass
    except OSError as e:
        raise MountError(f"--export-ram {directory}: {e.strerror or e}") from None
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        raise MountError(f"--export-ram {directory}: {e.strerror or e}") from None
    if os.listdir(fd):
        os.close(fd)
        raise MountError(f"--export-ram {directory}: the directory is not empty")
    return fd


def _dir_of(top: int, parts: list[str], made: dict) -> int:
    """The fd of the directory `parts` beneath top, made (0700 until its mode is set at
    the end) where absent; every component opened with O_NOFOLLOW."""
    key = "/".join(parts)
    if key in made:
        return made[key]
    parent = top if not parts[:-1] else _dir_of(top, parts[:-1], made)
    name = parts[-1]
    try:
        os.mkdir(name, 0o700, dir_fd=parent)
    except FileExistsError:
        pass
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    made[key] = fd
    return fd


def _copy(export: RamExport, m, fd: int) -> None:
    off, left = m.data_offset, m.size
    while left:
        data = os.pread(export.file.fileno(), min(left, CHUNK), off)
        if not data:
            raise OSError(f"the RAM disks' tar ended inside {m.raw_name!r}")
        os.write(fd, data)
        off += len(data)
        left -= len(data)


def extract(export: RamExport, directory: str) -> int:
    """The exported tree in `directory`; returns the number of members made."""
    if export.refused:
        raise MountError(f"--export-ram {directory}: {export.refused}")
    if not export.done:
        raise MountError(f"--export-ram {directory}: the program did not exit by itself (killed, or its last "
                         "thread ended without exit_group): the RAM disks were not exported")
    members = _members(export)
    top = _open_target(directory)
    made: dict[str, int] = {}
    dirs = []
    try:
        for m in members:
            parts = m.name.split("/") if m.name else []
            where = _dir_of(top, parts[:-1], made) if parts[:-1] else top
            if m.type == "dir":
                if parts:
                    _dir_of(top, parts, made)
                    dirs.append(m)
            elif m.type == "symlink":
                os.symlink(m.link, parts[-1], dir_fd=where)
                os.utime(parts[-1], ns=(m.mtime * 10**9,) * 2, dir_fd=where, follow_symlinks=False)
            else:
                fd = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                             dir_fd=where)
                try:
                    _copy(export, m, fd)
                    os.fchmod(fd, m.mode & 0o777)
                    os.utime(fd, ns=(m.mtime * 10**9,) * 2)
                finally:
                    os.close(fd)
        listed = {m.name for m in dirs}
        for name, fd in made.items():  # directories no member names (above a route's prefix): 0755
            if name not in listed:
                os.fchmod(fd, 0o755)
        for m in reversed(dirs):  # the deepest last made, first finished: its entries are all in
            fd = made[m.name]
            os.fchmod(fd, m.mode & 0o777)
            os.utime(fd, ns=(m.mtime * 10**9,) * 2)
    except OSError as e:
        raise MountError(f"--export-ram {directory}: {e.strerror or e} ({e.filename or 'writing'})") from None
    finally:
        for fd in made.values():
            os.close(fd)
        os.close(top)
    return len(members)

