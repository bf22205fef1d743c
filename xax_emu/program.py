"""Programs given to `xax-emu run`: a local static ELF, or a URL on an origin."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .errors import OriginError, ProgramError
from .monitor.origin import Origin, parse_url

LOCAL_SCHEME = "xax-local:"


@dataclass
class Program:
    image_url: str                      # what the PAL's loader opens (xabi_args()[0])
    origin: Origin | None               # what the program may reach
    local_files: dict[str, bytes]       # URLs the Monitor serves from memory


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


def resolve(program: str, origin: Origin | None) -> Program:
    """A local path is served by the Monitor itself; a URL makes its own origin."""
    if "://" in program:
        try:
            url = parse_url(program)
        except OriginError as e:
            raise ProgramError(str(e), program) from None
        if origin is not None and origin != url.origin:
            raise ProgramError(f"{program} is not on the given --origin {origin}", program)
        return Program(str(url), url.origin, {})
    path = Path(program)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProgramError(f"{program}: no such file", program) from None
    except IsADirectoryError:
        raise ProgramError(f"{program}: is a directory", program) from None
    except PermissionError:
        raise ProgramError(f"{program}: permission denied", program) from None
    check_static_elf(data, program)
    url = f"{LOCAL_SCHEME}program/{path.name}"
    return Program(url, origin, {url: data})
