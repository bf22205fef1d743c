"""The host directories a user grants a run (run --mount HOST:GUEST[:ro|rw]), checked
against what runs: an image takes a grant only at a mount point its manifest declared
([mounts], image/mounts.py), read-write only where it declared "rw"; a bare program may
take any guest path that no route of its profile is at, under or above (a mount would
hide part of the route, or the route part of the mount)."""
from __future__ import annotations

from pathlib import Path

from ..errors import MountError
from ..image.mounts import nested
from ..monitor.mounts import Grant, check_grants
from ..profiles import DEFAULT
from .program import Program


def check_for(program: Program, grants: list[Grant], profile: str | None) -> None:
    """MountError (one line, naming the grant) if `program` cannot take `grants`."""
    check_grants(grants)
    if not grants:
        return
    if program.is_image:
        declared = program.meta.get("mounts") or {}
        points = ", ".join(f"{p} ({m})" for p, m in sorted(declared.items())) or "none"
        for g in grants:
            mode = declared.get(g.guest)
            if mode is None:
                raise MountError(f"--mount {g.host}:{g.guest}: the image declares no mount point {g.guest} "
                                 f"(its [mounts]: {points})")
            if g.rw and mode == "ro":
                raise MountError(f"--mount {g.host}:{g.guest}:rw: the image declares {g.guest} read-only")
        return
    from ..profiles import load
    from ..syscalls.profile import resolve

    routes = resolve(load(profile or DEFAULT, Path.cwd())).routes
    for g in grants:
        for prefix in sorted(routes):
            if prefix != "/" and nested(g.guest, prefix):
                raise MountError(f"--mount {g.host}:{g.guest}: overlaps the profile's route at {prefix}")
