"""What `xax-emu run` is given: a static ELF or an app image, local or on an origin.

Either way the Monitor reads it first — from the file, or through the HTTP
cache — checks it (a static x86-64 ELF; or an image, validated member by
member), and then serves those very bytes to the PAL under the name in
xabi_args()[0].  A URL's origin becomes the program's origin.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .errors import OriginError, ProgramError
from .image import ImageError, validate
from .monitor.fetch import FetchError, HttpCache, fetch
from .monitor.origin import Origin, parse_url

LOCAL_SCHEME = "xax-local:"
MAX_PROGRAM = 2 << 30


@dataclass
class Program:
    image_url: str                      # what the PAL's loader opens (xabi_args()[0])
    origin: Origin | None               # what the program may reach
    local_files: dict[str, bytes]       # URLs the Monitor serves from memory
    meta: dict | None = None            # an app image's metadata (.xax/meta.json); None for a bare ELF
    name: str = ""
    pal_settings: list[str] = field(default_factory=list)

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


def _classify(data: bytes, name: str, url: str, origin: Origin | None) -> Program:
    if _looks_like_tar(data):
        try:
            image = validate(data)
        except ImageError as e:
            raise ProgramError(f"{name}: not a usable image: {e}", name) from None
        app = image.meta["app"]
        settings = [f"entry={app['entry']}"] + ([f"cwd={app['cwd']}"] if app.get("cwd") else [])
        return Program(url, origin, {url: data}, image.meta, name, settings)
    check_static_elf(data, name)
    return Program(url, origin, {url: data}, None, name)


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
            resp = fetch("GET", str(url), url.origin, limit=download_limit, cache=cache)
        except FetchError as e:
            raise ProgramError(f"cannot fetch the program: {e}", program) from None
        if resp.status != 200:
            raise ProgramError(f"cannot fetch the program: {url}: HTTP {resp.status}", program)
        return _classify(resp.body, program, str(url), url.origin)
    path = Path(program)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProgramError(f"{program}: no such file", program) from None
    except IsADirectoryError:
        raise ProgramError(f"{program}: is a directory", program) from None
    except PermissionError:
        raise ProgramError(f"{program}: permission denied", program) from None
    return _classify(data, program, f"{LOCAL_SCHEME}program/{path.name}", origin)
