"""From what the user asked for to what the Monitor starts: one place for `run`
and the tests.  An app image brings its layer, entry, arguments, environment,
working directory and limits; a bare program takes them from the profile and
the command line.  Command-line values win over the image's."""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import ProgramError
from ..limits import KEYS, check_all, check_boot_strings
from ..monitor.picoprocess import Limits
from ..profiles import DEFAULT
from .imagefile import ImageFile
from .program import Program

_LIMIT_KEYS = KEYS


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


def _checked(kwargs: dict, given: dict) -> dict:
    """What the picoprocess is given, checked before it is started: every limit
    `given` (not the Monitor's defaults, where 0 means none) in limits.py's range
    (an image's were checked on load, the command line's when parsed: this covers
    every other caller), and the arguments, environment and settings within the
    BOOT message."""
    check_all(given)
    check_boot_strings([kwargs["image_url"], *kwargs["argv"], *kwargs["env"], *kwargs.get("pal_settings", [])])
    return kwargs


def _check_fs_image(data: bytes) -> None:
    """A bare program's filesystem tar is a tar in the image format (docs/image-format.md), as
    the layer's VFS requires: refused here in one line naming the member and the rule, before
    anything starts, rather than by the layer inside the picoprocess with no more than "malformed"."""
    from ..image import ImageError
    from ..image.validate import read_tar

    try:
        read_tar(data)
    except ImageError as e:
        raise ImageError(f"--fs-image: {e} (docs/image-format.md: rule {e.rule})", rule=e.rule) from None


def start_kwargs(req: Request) -> dict:
    """Keyword arguments for Monitor.start (without stdio and tracing); LimitError
    if a limit is out of range or the arguments do not fit the BOOT message."""
    prog = req.program
    chosen = {k: v for k, v in (req.limits or {}).items() if v is not None}
    if prog.is_image:
        app, image_limits = prog.meta["app"], prog.meta.get("limits") or {}
        from_image = {k: image_limits[k] for k in _LIMIT_KEYS if image_limits.get(k) is not None}
        given = {**from_image, **chosen}
        return _checked(dict(image_url=prog.image_url, argv=[app.get("argv0", app["entry"]), *app.get("args", []), *req.args],
                             env=_merge_env([f"{k}={v}" for k, v in sorted(app.get("env", {}).items())], req.env),
                             origin=prog.origin, origin_address=prog.address, limits=replace(Limits(), **given),
                             local_files=prog.local_files, layer=None, pal_settings=prog.pal_settings,
                             image=prog.image), given)
    from .layers import layer_for, program_env  # a bare program's layer: the profile compiler, not needed for images

    spec = req.profile or DEFAULT
    if req.fs_image is not None:
        _check_fs_image(req.fs_image)
    kwargs = _checked(dict(image_url=prog.image_url, argv=[prog.name, *req.args], env=program_env(spec, req.env),
                           origin=prog.origin, origin_address=prog.address, limits=replace(Limits(), **chosen),
                           local_files=prog.local_files), chosen)
    return dict(kwargs, layer=layer_for(spec), image=None if req.fs_image is None else _fs_image(req.fs_image))


def _fs_image(data: bytes) -> ImageFile:
    try:
        return ImageFile.copy_of_bytes(data, "fs-image")
    except OSError as e:  # no memory for the sealed copy, too many open files, ...
        raise ProgramError(f"--fs-image: cannot hold it: {e.strerror or e}") from None
