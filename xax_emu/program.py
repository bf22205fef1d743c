"""What `xax-emu run` is given: a static ELF or an app image, local or on an origin.

Either way the Monitor reads it first — from the file, or through the HTTP
cache — and checks it: a static x86-64 ELF, which it then serves to the PAL
under the name in xabi_args()[0]; or an image, validated member by member, which
it hands to the picoprocess as one read-only fd (monitor/imagefile.py says why
those bytes cannot change after the check).  A URL's origin becomes the
program's origin.
"""
from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .errors import OriginError, ProgramError
from .image import ImageError, validate
from .monitor.fetch import FetchError, HttpCache, fetch
from .monitor.imagefile import ImageFile
from .monitor.origin import Origin, parse_url

LOCAL_SCHEME = "xax-local:"
MAX_PROGRAM = 2 << 30


@dataclass
class Program:
    image_url: str                      # xabi_args()[0]: the program's or the image's name
    origin: Origin | None               # what the program may reach
    local_files: dict[str, bytes]       # URLs the Monitor serves from memory (a bare program)
    meta: dict | None = None            # an app image's metadata (.xax/meta.json); None for a bare ELF
    name: str = ""
    pal_settings: list[str] = field(default_factory=list)
    image: ImageFile | None = None      # an app image: the fd handed to the picoprocess

    @property
    def is_image(self) -> bool:
        return self.meta is not None


def check_static_elf(data: bytes, name: str) -> None:
    """Refuse, with a reason naming the file, anything the loader cannot start."""
    try:
        elf = ELFFile(io.BytesIO(data))
        if elf.elfclass != 64 or elf["e_machine"] != "EM_X86_64":
            raise ProgramError(f"{name}: not an x86-64 ELF program", name)
        if elf["e_type"] not in ("ET_EXEC", "ET_DYN"):
            raise ProgramError(f"{name}: not an executable ({elf['e_type']})", name)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_INTERP":
                raise ProgramError(
                    f"{name}: dynamically linked (PT_INTERP {seg.get_interp_name()}); "
                    "`run` starts static programs only — build with -static, or pack an image", name)
    except ELFError as e:
        raise ProgramError(f"{name}: not an ELF file ({e})", name) from None


def _looks_like_tar(data: bytes) -> bool:
    return len(data) >= 512 and data[257:262] == b"ustar"


def _image_program(image: ImageFile, data, name: str, url: str, origin: Origin | None) -> Program:
    """An app image whose bytes `data` are those of `image` (its fd): validated."""
    try:
        meta = validate(data).meta
    except ImageError as e:
        image.close()
        raise ProgramError(f"{name}: not a usable image: {e}", name) from None
    app = meta["app"]
    settings = [f"entry={app['entry']}"] + ([f"cwd={app['cwd']}"] if app.get("cwd") else [])
    return Program(url, origin, {}, meta, name, settings, image)


def _bare_program(data: bytes, name: str, url: str, origin: Origin | None) -> Program:
    check_static_elf(data, name)
    return Program(url, origin, {url: data}, None, name)


def _local_image(fd: int, program: str, url: str, origin: Origin | None) -> Program:
    """A local image: validated in the sealed copy the picoprocess will map."""
    image = ImageFile.copy_of_file(program, fd)
    with image.mapping() as data:
        if not _looks_like_tar(data):  # the file changed since its first block was read
            image.close()
            raise ProgramError(f"{program}: changed while it was read", program)
        return _image_program(image, data, program, url, origin)


def resolve(program: str, origin: Origin | None, cache: HttpCache | None = None,
            download_limit: int = MAX_PROGRAM) -> Program:
    """A local path is served by the Monitor itself; a URL makes its own origin."""
    if "://" in program:
        try:
            url = parse_url(program)
        except OriginError as e:
            raise ProgramError(str(e), program) from None
        if origin is not None and origin != url.origin:
            raise ProgramError(f"{program} is not on the given --origin {origin}", program)
        try:
            resp = fetch("GET", str(url), url.origin, limit=download_limit, cache=cache, want_file=True)
        except FetchError as e:
            raise ProgramError(f"cannot fetch the program: {e}", program) from None
        if resp.status != 200:
            raise ProgramError(f"cannot fetch the program: {url}: HTTP {resp.status}", program)
        if not _looks_like_tar(resp.body):
            if resp.file is not None:
                os.close(resp.file)
            return _bare_program(resp.body, program, str(url), url.origin)
        name = url.path.rpartition("/")[2] or url.origin.host
        image = (ImageFile.cached(resp.file, resp.body, name) if resp.file is not None
                 else ImageFile.copy_of_bytes(resp.body, name))
        return _image_program(image, resp.body, program, str(url), url.origin)
    path = Path(program)
    url = f"{LOCAL_SCHEME}program/{path.name}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ProgramError(f"{program}: no such file", program) from None
    except PermissionError:
        raise ProgramError(f"{program}: permission denied", program) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ProgramError(f"{program}: {'is a directory' if path.is_dir() else 'not a regular file'}", program)
        if _looks_like_tar(os.pread(fd, 512, 0)):
            return _local_image(fd, program, url, origin)
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(MAX_PROGRAM + 1)
    except OSError as e:
        raise ProgramError(f"{program}: cannot read it: {e.strerror or e}", program) from None
    finally:
        os.close(fd)
    if len(data) > MAX_PROGRAM:
        raise ProgramError(f"{program}: over {MAX_PROGRAM >> 20} MiB", program)
    return _bare_program(data, program, url, origin)
