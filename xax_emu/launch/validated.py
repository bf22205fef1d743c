"""A record of the images this user's Monitor has validated, by the sha256 of their bytes.

validate() reads every tar header of an image and hashes every member against
its metadata: for the python3 image, 1,658 headers and 80 MiB, on every run.
Once a run has validated an image, the next run of the same bytes need not:

- a record is named by the sha256 of exactly the bytes the picoprocess maps (the
  sealed memfd's, hashed as they were written into it: imagefile.py; or the
  HTTP cache's body, whose sha256 the cache checked as it read it).  Bytes that
  differ in any way — the same path rewritten, the same name, the same mtime —
  have another name, find no record, and are validated in full again;
- only a success is recorded, and only after it;
- the records live in a directory named by the validator itself: a digest of the
  source of every module whose rules validate() applies, and of Python's
  version.  Change any rule and the old records are never read;
- a record says where .xax/meta.json lies: the Monitor still reads the metadata
  from the image and checks it as validate() does (the start needs it anyway);
  only the member-by-member work is skipped.  A record that does not parse, does
  not match, or points at something that does not check is a miss.

The directory is the user's own, like the HTTP cache beside it: whoever can
write there can already replace the user's programs.  Records are written whole
under a temporary name and renamed into place; a cache that cannot be written
only means the next run validates again.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from ..image.format import META_MAX

# The modules whose code decides what validate() accepts (validate.py's own imports).
_VALIDATOR_SOURCES = ("validate.py", "tarread.py", "paths.py", "format.py", "errors.py", "http.py", "mounts.py",
                      "syscall_sites.py")


@functools.cache
def validator_id() -> str | None:
    """A digest of the validator's source and of Python's version; None if the
    source cannot be read (then nothing is recorded or looked up)."""
    h = hashlib.sha256(f"python {sys.version_info[0]}.{sys.version_info[1]}\n".encode())
    image_dir = Path(__file__).resolve().parent.parent / "image"
    try:
        for name in _VALIDATOR_SOURCES:
            data = (image_dir / name).read_bytes()
            h.update(b"%s %d\n" % (name.encode(), len(data)))
            h.update(data)
    except OSError:
        return None
    return h.hexdigest()


@dataclass(frozen=True)
class Record:
    meta_offset: int  # where .xax/meta.json's bytes start in the image
    meta_size: int


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


class ValidatedImages:
    def __init__(self, directory: Path | None):
        self.directory = directory

    @staticmethod
    def default_directory() -> Path:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base) / "xax-emu" / "validated"

    def _path(self, sha256: str) -> Path | None:
        vid = validator_id()
        if self.directory is None or vid is None or not _is_sha256(sha256):
            return None
        return self.directory / vid[:32] / f"{sha256}.json"

    def lookup(self, sha256: str, size: int) -> Record | None:
        """The record of an image of these bytes (`size` of them, whose sha256 is
        `sha256`) validated by this validator; None if there is none usable."""
        path = self._path(sha256)
        if path is None:
            return None
        try:
            # Non-blocking, and only a regular file: something else put there never stalls a start.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    return None
                entry = json.loads(os.read(fd, 4096))
            finally:
                os.close(fd)
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("sha256") != sha256 or entry.get("size") != size:
            return None
        off, n = entry.get("meta_offset"), entry.get("meta_size")
        if not (type(off) is int and type(n) is int and 0 <= off and 0 <= n <= META_MAX and off + n <= size):
            return None
        return Record(off, n)

    def remember(self, sha256: str, size: int, meta_offset: int, meta_size: int) -> None:
        """Record that the image of these bytes passed validate() in full."""
        path = self._path(sha256)
        if path is None:
            return
        entry = {"sha256": sha256, "size": size, "meta_offset": meta_offset, "meta_size": meta_size}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(entry))
            os.replace(tmp, path)
        except OSError:
            try:
                tmp.unlink()
            except OSError:
                pass
