"""An image's mount points: the manifest's [mounts], the metadata's "mounts".

    [mounts]                       # where the app expects host directories, and their mode
    "/input" = "ro"                # the user grants one at run time: run --mount ~/docs:/input
    "/output" = "rw"               #   (read-only unless the grant ends in :rw)

An image never names a host path: it only declares the guest paths its app reads or
writes, and whether it may change what is there ("rw") or only read it ("ro").  The user
decides, on the command line, which host directory (if any) each one is; a point nobody
granted is absent (ENOENT), and `inspect` lists them.  The rules, the same at pack time
and on every load (an image is hostile data):

- at most MAX_MOUNTS points; each a normalized absolute path, not '/', not in /.xax;
  none at or under another;
- a point is not a file, symlink or directory of the image, nor under a file or a
  symlink of it: a mount there would hide what the image has (one under a directory
  of the image is fine: /data/input beside the image's /data/table);
- a point is not at, under or above another route of the profile (/tmp's RAM disk,
  /dev, /proc, an origin route): one would hide part of the other.  The image's own
  route at '/' is the exception: the rule above covers it.
"""
from __future__ import annotations

from typing import Callable

from ..protocol import MAX_MOUNTS, MOUNT_NAME_MAX, MOUNT_PATH_MAX
from .format import RESERVED

MODES = ("ro", "rw")

# kind_of(path) -> ("file" | "dir" | "symlink" | ..., target) or None, as image/paths.py has it
KindOf = Callable[[str], "tuple[str, str | None] | None"]


def normalize_guest(text: str) -> str:
    """A guest mount point, normalized ('//' and '.' dropped): absolute, not '/', no '..',
    no NUL, components of at most NAME_MAX bytes, at most MOUNT_PATH_MAX bytes in all.
    ValueError saying which rule it breaks."""
    if "\0" in text or not text.startswith("/"):
        raise ValueError(f"the guest path {text!r} must be absolute, without NUL")
    parts = [c for c in text.split("/") if c not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"the guest path {text!r} must not contain '..'")
    if not parts:
        raise ValueError("the guest path cannot be '/' (the image's own root)")
    if any(len(c.encode("utf-8", "surrogateescape")) > MOUNT_NAME_MAX for c in parts):
        raise ValueError(f"a component of {text!r} is over {MOUNT_NAME_MAX} bytes")
    path = "/" + "/".join(parts)
    if len(path.encode("utf-8", "surrogateescape")) > MOUNT_PATH_MAX:
        raise ValueError(f"the guest path {text!r} is over {MOUNT_PATH_MAX} bytes")
    return path


def nested(a: str, b: str) -> bool:
    """One of two normalized absolute paths is the other or lies under it."""
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


class MountPointError(ValueError):
    """A mount point breaks a rule; `point` names it ("" for the table)."""

    def __init__(self, point: str, message: str):
        super().__init__(message)
        self.point = point
        self.message = message


def check_points(points, kind_of: KindOf | None, route_prefixes) -> dict[str, str]:
    """The mount points {guest path: "ro" | "rw"}, normalized and checked against each
    other, the image's paths (kind_of; None: not known yet) and the profile's route
    prefixes; MountPointError for the first that breaks a rule."""
    if not isinstance(points, dict):
        raise MountPointError("", "must be a table of guest paths and modes (\"ro\" or \"rw\")")
    if len(points) > MAX_MOUNTS:
        raise MountPointError("", f"{len(points)} mount points, at most {MAX_MOUNTS}")
    out: dict[str, str] = {}
    for raw, mode in points.items():
        if not isinstance(raw, str):
            raise MountPointError(str(raw), "a mount point must be a string")
        try:
            point = normalize_guest(raw)
        except ValueError as e:
            raise MountPointError(raw, str(e)) from None
        if mode not in MODES:
            raise MountPointError(raw, f"the mode must be \"ro\" or \"rw\", not {mode!r}")
        if nested(point, "/" + RESERVED):
            raise MountPointError(raw, f"/{RESERVED} is the image's own directory")
        for other in out:
            if nested(point, other):
                raise MountPointError(raw, f"overlaps the mount point {other}")
        for prefix in route_prefixes:
            if prefix != "/" and nested(point, prefix):
                raise MountPointError(raw, f"overlaps the profile's route at {prefix}")
        if kind_of is not None:
            _check_against_image(raw, point, kind_of)
        out[point] = mode
    return out


def _check_against_image(raw: str, point: str, kind_of: KindOf) -> None:
    kind = kind_of(point)
    if kind is not None:
        raise MountPointError(raw, f"is a {kind[0]} of the image: a mount there would hide it")
    parts = point.strip("/").split("/")
    for i in range(1, len(parts)):
        above = "/" + "/".join(parts[:i])
        kind = kind_of(above)
        if kind is not None and kind[0] != "dir":
            raise MountPointError(raw, f"lies under {above}, a {kind[0]} of the image")
