"""What `xax-emu run` is given: a static ELF or an app image, local or on an origin.

Either way the Monitor reads it first — from the file, or through the HTTP
cache — and checks it: a static x86-64 ELF, which it then serves to the PAL
under the name in xabi_args()[0]; or an image, validated member by member, which
it hands to the picoprocess as one read-only fd (launch/imagefile.py says why
those bytes cannot change after the check).  An image whose bytes (by sha256)
the Monitor has validated before is not validated member by member again
(launch/validated.py).  A URL's origin becomes the program's origin.
"""
from __future__ import annotations

import hashlib
import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OriginError, ProgramError
from ..image import ImageError, validate
from ..image.format import META
from ..image.validate import parse_meta
from ..monitor.fetch import FetchError, HttpCache, fetch
from ..monitor.origin import Origin, parse_url, pin_address
from .imagefile import ImageFile
from .validated import ValidatedImages

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
    address: str | None = None          # the origin's IP address, pinned when the program was resolved

    @property
    def is_image(self) -> bool:
        return self.meta is not None


def check_static_elf(data: bytes, name: str) -> None:
    """Refuse, with a reason naming the file, anything the loader cannot start."""
    from elftools.common.exceptions import ELFError  # here, not above: app images never need pyelftools
    from elftools.elf.elffile import ELFFile

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


def _validated_meta(image: ImageFile, data, validated: ValidatedImages | None) -> dict:
    """The metadata of the image whose bytes are `data` (those of `image`; None: map
    them), the image validated — in full, unless these very bytes (by sha256) were
    validated before; then only the metadata is read and checked again."""
    record = None
    if validated is not None and image.sha256 is not None:
        record = validated.lookup(image.sha256, image.size)
    if record is not None:
        start, end = record.meta_offset, record.meta_offset + record.meta_size
        raw = bytes(data[start:end]) if data is not None else image.pread(start, record.meta_size)
        try:
            return parse_meta(raw)
        except ImageError:
            pass  # not what was recorded: validate in full, as if there were no record
    if data is None:
        with image.mapping() as mapped:
            checked = validate(mapped)
    else:
        checked = validate(data)
    if validated is not None and image.sha256 is not None:
        m = checked.by_name[META]
        validated.remember(image.sha256, image.size, m.data_offset, m.size)
    return checked.meta


def _image_program(image: ImageFile, data, name: str, url: str, origin: Origin | None,
                   validated: ValidatedImages | None) -> Program:
    """An app image whose bytes `data` are those of `image` (its fd; None: read it): validated."""
    try:
        meta = _validated_meta(image, data, validated)
    except ImageError as e:
        image.close()
        raise ProgramError(f"{name}: not a usable image: {e}", name) from None
    app = meta["app"]
    settings = [f"entry={app['entry']}"] + ([f"cwd={app['cwd']}"] if app.get("cwd") else [])
    return Program(url, origin, {}, meta, name, settings, image)


def _bare_program(data: bytes, name: str, url: str, origin: Origin | None) -> Program:
    check_static_elf(data, name)
    return Program(url, origin, {url: data}, None, name)


def _local_image(fd: int, program: str, url: str, origin: Origin | None,
                 validated: ValidatedImages | None) -> Program:
    """A local image: validated in the sealed copy the picoprocess will map."""
    image = ImageFile.copy_of_file(program, fd)
    if not _looks_like_tar(image.pread(0, 512)):  # the file changed since its first block was read
        image.close()
        raise ProgramError(f"{program}: changed while it was read", program)
    return _image_program(image, None, program, url, origin, validated)


def _pinned(prog: Program, address: str | None) -> Program:
    prog.address = address
    return prog


def resolve(program: str, origin: Origin | None, cache: HttpCache | None = None,
            download_limit: int = MAX_PROGRAM, validated: ValidatedImages | None = None) -> Program:
    """A local path is served by the Monitor itself; a URL makes its own origin.
    With `validated`, an image validated before (the same bytes) is not validated again."""
    if "://" in program:
        try:
            url = parse_url(program)
        except OriginError as e:
            raise ProgramError(str(e), program) from None
        if origin is not None and origin != url.origin:
            raise ProgramError(f"{program} is not on the given --origin {origin}", program)
        try:
            address = pin_address(url.origin)  # this program's origin is there for as long as it runs
        except OriginError as e:
            raise ProgramError(f"cannot fetch the program: {e}", program) from None
        try:
            resp = fetch("GET", str(url), url.origin, limit=download_limit, cache=cache, want_file=True,
                         address=address)
        except FetchError as e:
            raise ProgramError(f"cannot fetch the program: {e}", program) from None
        if resp.status != 200:
            raise ProgramError(f"cannot fetch the program: {url}: HTTP {resp.status}", program)
        if not _looks_like_tar(resp.body):
            if resp.file is not None:
                os.close(resp.file)
            return _pinned(_bare_program(resp.body, program, str(url), url.origin), address)
        name = url.path.rpartition("/")[2] or url.origin.host
        image = (ImageFile.cached(resp.file, resp.body, name) if resp.file is not None
                 else ImageFile.copy_of_bytes(resp.body, name))
        if validated is not None:  # the key of the record: the digest of the very bytes validated and mapped
            image.sha256 = resp.sha256 or hashlib.sha256(resp.body).hexdigest()
        return _pinned(_image_program(image, resp.body, program, str(url), url.origin, validated), address)
    path = Path(program)
    url = f"{LOCAL_SCHEME}program/{path.name}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ProgramError(f"{program}: no such file", program) from None
    except PermissionError:
        raise ProgramError(f"{program}: permission denied", program) from None
    except OSError as e:  # a name too long, a loop of symlinks, ...
        raise ProgramError(f"{program[:200]}: cannot open it: {e.strerror or e}", program) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ProgramError(f"{program}: {'is a directory' if path.is_dir() else 'not a regular file'}", program)
        if _looks_like_tar(os.pread(fd, 512, 0)):
            return _local_image(fd, program, url, origin, validated)
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(MAX_PROGRAM + 1)
    except OSError as e:
        raise ProgramError(f"{program}: cannot read it: {e.strerror or e}", program) from None
    finally:
        os.close(fd)
    if len(data) > MAX_PROGRAM:
        raise ProgramError(f"{program}: over {MAX_PROGRAM >> 20} MiB", program)
    return _bare_program(data, program, url, origin)
