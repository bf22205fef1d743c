"""From what the user asked for to what the Monitor starts: one place for `run`
and the tests.  An app image brings its layer, entry, arguments, environment,
working directory and limits; a bare program takes them from the profile and
the command line.  Command-line values win over the image's."""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..monitor.picoprocess import Limits
from ..profiles import DEFAULT
from .imagefile import ImageFile
from .program import Program

_LIMIT_KEYS = ("memory", "cpu_seconds", "wall_seconds", "download", "threads")


@dataclass
class Request:
    program: Program
    args: list[str]                     # the user's arguments
    env: list[str]                      # the user's NAME=VALUE overrides
    profile: str | None = None          # None: the default (bare programs); images carry their own
    limits: dict | None = None          # only the limits the user set
    fs_image: bytes | None = None


def _merge_env(base: list[str], overrides: list[str]) -> list[str]:
    env = {}
    for item in [*base, *overrides]:
        name, _, value = item.partition("=")
        env.pop(name, None)
        env[name] = value
    return [f"{k}={v}" for k, v in env.items()]


def start_kwargs(req: Request) -> dict:
    """Keyword arguments for Monitor.start (without stdio and tracing)."""
    prog = req.program
    chosen = {k: v for k, v in (req.limits or {}).items() if v is not None}
    if prog.is_image:
        app, image_limits = prog.meta["app"], prog.meta.get("limits") or {}
        from_image = {k: image_limits[k] for k in _LIMIT_KEYS if image_limits.get(k) is not None}
        limits = replace(Limits(), **{**from_image, **chosen})
        return dict(image_url=prog.image_url, argv=[app.get("argv0", app["entry"]), *app.get("args", []), *req.args],
                    env=_merge_env([f"{k}={v}" for k, v in sorted(app.get("env", {}).items())], req.env),
                    origin=prog.origin, origin_address=prog.address, limits=limits, local_files=prog.local_files, layer=None,
                    pal_settings=prog.pal_settings, image=prog.image)
    from .layers import layer_for, program_env  # a bare program's layer: the profile compiler, not needed for images

    spec = req.profile or DEFAULT
    return dict(image_url=prog.image_url, argv=[prog.name, *req.args], env=program_env(spec, req.env),
                origin=prog.origin, origin_address=prog.address, limits=replace(Limits(), **chosen),
                local_files=prog.local_files,
                layer=layer_for(spec),
                image=None if req.fs_image is None else ImageFile.copy_of_bytes(req.fs_image, "fs-image"))
