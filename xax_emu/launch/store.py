"""The image store: local images imported once into the user's cache, named by their
sha256, and mapped from there by every run — no per-run copy of the image.

`xax-emu run app.tar` used to copy the whole image into a sealed memfd on every run
(82 MiB for python3, held for as long as the run lasts, in no process's RSS).  Now:

- the first run of a file copies it into the store, hashing the bytes as they are
  written (the copy's name is their sha256: `images/<sha256>`), then renames it into
  place, read-only; a store file is never written again (like the HTTP cache's bodies);
- the file's identity (device, inode, size, modification and change times in
  nanoseconds) is remembered beside it (`by-file/`): the next run of the unchanged
  file opens the store copy without reading the file at all.  A file rewritten in
  place changes its change time, so it is copied again, under its new name;
- the picoprocess maps the store file, so every run and every instance of the same
  image shares its pages in the page cache.

What DESIGN.md asks of the image fd holds: the bytes the picoprocess maps are the
bytes the Monitor validated, and they do not change while it runs — the user's file
is never mapped, store files are written once under a temporary name and renamed, and
an evicted store file stays whole for whoever still maps it (an unlinked file lives
while it is mapped).  As for the HTTP cache and the record of validated images, the
directory is the user's own: whoever can write there can already replace the user's
programs.  Where the store cannot be used (a noexec cache, a full or read-only disk)
the run falls back to the sealed memfd copy and says so in one line (`notice`): the result is
the same, only slower and held in memory.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from .imagefile import ImageFile, _copy_hashing

DEFAULT_CAP = 4 << 30  # bytes of store files kept; the least recently used go first


def _identity(st: os.stat_result) -> str:
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


class ImageStore:
    def __init__(self, directory: Path | None, cap: int = DEFAULT_CAP, notice=None):
        self.directory = directory
        self.cap = cap
        self.notice = notice  # called with one line when the store cannot be used

    @staticmethod
    def default_directory() -> Path:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base) / "xax-emu" / "images"

    # -- the one entry point ----------------------------------------------------------

    def image_of(self, path: str, fd: int) -> ImageFile:
        """The image in the open file `fd` (named `path`), as an ImageFile of its store copy;
        a sealed memfd copy where the store cannot be used."""
        if self.directory is not None:
            try:
                return self._from_store(path, fd)
            except OSError as e:  # a store that cannot be written or mapped executable: the copy below is as good
                if self.notice is not None:
                    reason = e.strerror or str(e)
                    where = f" ({e.filename})" if e.filename else ""
                    self.notice(f"the image store {self.directory} cannot be used: {reason}{where}; "
                                f"{path} is copied into memory for this run")
        return ImageFile.copy_of_file(path, fd)

    # -- steps --------------------------------------------------------------------------

    def _from_store(self, path: str, fd: int) -> ImageFile:
        before = os.fstat(fd)
        known = self._remembered(before)
        if known is not None:
            image = self._open(known, before.st_size)
            if image is not None:
                return image
        sha256 = self._import(path, fd, before.st_size)
        if _identity(os.fstat(fd)) == _identity(before):  # unchanged while it was read: worth remembering
            self._remember(before, sha256)
        image = self._open(sha256, before.st_size)
        if image is None:
            raise OSError("the store copy vanished")
        self._evict(keep=sha256)
        return image

    def _file(self, sha256: str) -> Path:
        return self.directory / sha256

    def _index(self, st: os.stat_result) -> Path:
        return self.directory / "by-file" / hashlib.sha256(_identity(st).encode()).hexdigest()

    def _remembered(self, st: os.stat_result) -> str | None:
        try:
            entry = json.loads(self._index(st).read_text())
        except (OSError, ValueError):
            return None
        sha = entry.get("sha256") if isinstance(entry, dict) and entry.get("identity") == _identity(st) else None
        return sha if isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha) else None

    def _remember(self, st: os.stat_result, sha256: str) -> None:
        index = self._index(st)
        tmp = index.with_name(f".{index.name}.{os.getpid()}.tmp")
        try:
            index.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"identity": _identity(st), "sha256": sha256}))
            os.replace(tmp, index)
        except OSError:
            try:
                tmp.unlink()
            except OSError:
                pass

    def _import(self, path: str, fd: int, size: int) -> str:
        """Copy the file into the store, hashing what is written; its sha256."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".import.{os.getpid()}.{time.monotonic_ns()}"
        out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        try:
            try:
                sha256 = _copy_hashing(fd, out, size, path)
            finally:
                os.close(out)
            target = self._file(sha256)
            if target.exists():
                tmp.unlink()  # the same bytes, imported before (another name, another run)
            else:
                os.replace(tmp, target)
            return sha256
        except BaseException:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise

    def _open(self, sha256: str, size: int) -> ImageFile | None:
        try:
            fd = os.open(self._file(sha256), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        st = os.fstat(fd)
        if st.st_size != size or os.fstatvfs(fd).f_flag & os.ST_NOEXEC:
            os.close(fd)
            if st.st_size != size:
                return None
            raise OSError("the store is on a noexec file system: the image's code cannot be mapped from it")
        os.utime(fd)  # its last use, for eviction
        return ImageFile(fd, size, "store", sha256)

    def _evict(self, keep: str) -> None:
        """Past the cap, the least recently used store files go (a running picoprocess keeps
        its mapping of an evicted file whole; only the next run imports it again)."""
        try:
            files = [(p.stat().st_mtime, p.stat().st_size, p) for p in self.directory.iterdir()
                     if len(p.name) == 64 and p.is_file()]
        except OSError:
            return
        total = sum(size for _, size, _ in files)
        for _, size, p in sorted(files):
            if total <= self.cap:
                return
            if p.name == keep:
                continue
            try:
                p.unlink()
                total -= size
            except OSError:
                pass
