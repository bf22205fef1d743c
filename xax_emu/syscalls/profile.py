"""Profiles: how an app's system calls are handled and where its paths lead, as Python data.

A profile maps syscall names to one disposition each:

- ``reject(errno)`` or ``reject(value=N)``: fail (or succeed) at once with a fixed answer —
  the article's failure-oblivious computing;
- ``emulate(handler, **params)``: a named handler of the layer, with parameters;
  ``emulate_all(handler)``: every system call that handler serves;
- ``forward()``: an xaxcall to the Monitor;
- anything not named is *missing*: ``-ENOSYS`` and a trace event.

and path prefixes to one backend each (``Tar``, ``RamDisk``, ``Origin``, ``Deny``, and the
synthetic ``Devices`` and ``Proc``), plus the knobs legacy programs probe (identity, uname,
``/proc/self/exe``, cwd, environment).

Profiles compose: ``Profile(..., extends=[base1, base2])``.  Later bases do *not* silently
win over earlier ones: two bases that disagree about a syscall, a route or a knob are an
error naming both, unless the extending profile settles it with its own entry.
"""
from __future__ import annotations

import errno as errno_module
from dataclasses import dataclass, field, replace
from typing import Mapping

from ..errors import XaxError
from . import catalogue


class ProfileError(XaxError, ValueError):
    """A profile is inconsistent; the message names the profile and the syscall, route or knob."""


# -- dispositions ------------------------------------------------------------------


@dataclass(frozen=True)
class Disposition:
    note: str

    kind = "missing"

    def describe(self) -> str:
        return self.kind


@dataclass(frozen=True)
class Reject(Disposition):
    errno: int | None = None
    value: int | None = None

    kind = "reject"

    def result(self) -> int:
        return -self.errno if self.errno is not None else self.value

    def describe(self) -> str:
        if self.errno is not None:
            return f"reject -{errno_module.errorcode.get(self.errno, self.errno)}"
        return f"reject -> {self.value}"


@dataclass(frozen=True)
class Emulate(Disposition):
    handler: str = ""
    params: tuple[tuple[str, object], ...] = ()

    kind = "emulate"

    def describe(self) -> str:
        extra = ", ".join(f"{k}={v!r}" for k, v in self.params)
        return f"emulate {self.handler}" + (f" ({extra})" if extra else "")


@dataclass(frozen=True)
class Forward(Disposition):
    kind = "forward"

    def describe(self) -> str:
        return "forward to the Monitor"


def reject(errno: int | None = None, *, value: int | None = None, note: str = "") -> Reject:
    if (errno is None) == (value is None):
        raise ProfileError("reject() takes an errno or a value=, exactly one")
    if errno is not None and errno not in errno_module.errorcode:
        raise ProfileError(f"reject(): {errno} is not an errno")
    return Reject(note, errno, value)


def emulate(handler: str, *, note: str = "", **params) -> Emulate:
    return Emulate(note, handler, tuple(sorted(params.items())))


def emulate_all(handler: str, *, note: str = "", **params) -> dict[str, Emulate]:
    """Every system call the layer's `handler` serves (its @serves line in runtime_c/layer/),
    emulated by it, with one note: ``syscalls={**emulate_all("vfs", note=...), "ioctl":
    emulate("vfs", note=...)}`` -- an entry after it settles one of them differently."""
    from .handlers import HANDLERS

    if handler not in HANDLERS:
        raise ProfileError(f"emulate_all(): the layer has no handler {handler!r} (handlers: "
                           f"{', '.join(sorted(HANDLERS))})")
    return {name: emulate(handler, note=note, **params) for name in HANDLERS[handler].functions}


def forward(*, note: str = "") -> Forward:
    return Forward(note)


# -- routes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    kind = "backend"


@dataclass(frozen=True)
class Tar(Backend):
    """Read-only, from the image: `subdir` of the image's root (default: the root)."""

    subdir: str = ""
    kind = "tar"


@dataclass(frozen=True)
class RamDisk(Backend):
    """Read-write, in the picoprocess's memory, at most `size` bytes (ENOSPC beyond)."""

    size: int = 64 << 20
    kind = "ram"


@dataclass(frozen=True)
class Origin(Backend):
    """Fetched on first open from `url_prefix` (a path under the app's origin), optionally
    hash-pinned per file: {"relative/path": "sha256 hex"}."""

    url_prefix: str = "/"
    sha256: tuple[tuple[str, str], ...] = ()
    kind = "origin"


@dataclass(frozen=True)
class Deny(Backend):
    """Nothing here: every path under the prefix is ENOENT (or EACCES for writes)."""

    kind = "deny"


@dataclass(frozen=True)
class Devices(Backend):
    """Linux's memory devices, made in the picoprocess: null, zero, full, random and urandom
    (the Monitor's random bytes), tty (ENXIO: no controlling terminal), and fd, stdin,
    stdout, stderr linking to /proc/self/fd.  Nothing else: ENOENT."""

    kind = "dev"


@dataclass(frozen=True)
class Proc(Backend):
    """The process's own /proc, made in the picoprocess: self, self/exe (the image's
    entry, or the proc_self_exe knob), self/fd/N, and a machine of its own (loadavg:
    idle; stat: one CPU).  Nothing of the host's; anything else: ENOENT."""

    kind = "proc"


def origin(url_prefix: str, sha256: Mapping[str, str] | None = None) -> Origin:
    return Origin(url_prefix, tuple(sorted((sha256 or {}).items())))


# -- knobs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    uid: int = 1000
    gid: int = 1000
    euid: int = 1000
    egid: int = 1000


@dataclass(frozen=True)
class Uname:
    sysname: str = "Linux"
    nodename: str = "xax"
    release: str = "6.1.0-xax"
    version: str = "#1 SMP xax-emu picoprocess"
    machine: str = "x86_64"
    domainname: str = "(none)"


KNOBS = ("identity", "uname", "proc_self_exe", "cwd", "env")


# -- the profile --------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    name: str
    syscalls: Mapping[str, Disposition] = field(default_factory=dict)
    routes: Mapping[str, Backend] = field(default_factory=dict)
    extends: tuple["Profile", ...] = ()
    identity: Identity | None = None
    uname: Uname | None = None
    proc_self_exe: str | None = None
    cwd: str | None = None
    env: Mapping[str, str] | None = None
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "extends", tuple(self.extends))
        for name, disposition in self.syscalls.items():
            if name not in catalogue.names():
                close = sorted(n for n in catalogue.names() if n[:3] == name[:3])[:5]
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise ProfileError(f"profile {self.name!r}: no x86-64 system call {name!r}{hint}")
            if not isinstance(disposition, Disposition) or type(disposition) is Disposition:
                raise ProfileError(f"profile {self.name!r}: syscall {name!r}: use reject(), emulate() or forward(), "
                                   f"not {disposition!r}")
        for prefix, backend in self.routes.items():
            _check_prefix(self.name, prefix)
            if not isinstance(backend, Backend) or type(backend) is Backend:
                raise ProfileError(f"profile {self.name!r}: route {prefix!r}: use Tar(), RamDisk(), origin(), Deny(), "
                                   f"Devices() or Proc(), not {backend!r}")


def _check_prefix(profile: str, prefix: str) -> None:
    if not prefix.startswith("/") or (prefix != "/" and prefix.endswith("/")):
        raise ProfileError(f"profile {profile!r}: route {prefix!r} must be an absolute path without a trailing /")
    if any(part in (".", "..", "") for part in prefix.split("/")[1:]) and prefix != "/":
        raise ProfileError(f"profile {profile!r}: route {prefix!r} must not contain '.', '..' or '//'")


@dataclass(frozen=True)
class Resolved:
    """A profile with its bases merged: what the compiler turns into C."""

    name: str
    syscalls: dict[str, Disposition]
    origins: dict[str, str]  # syscall -> the profile that set it
    routes: dict[str, Backend]
    knobs: dict[str, object]

    def disposition(self, name: str) -> Disposition:
        return self.syscalls.get(name) or Disposition("no disposition: -ENOSYS and a trace event")


def resolve(profile: Profile) -> Resolved:
    """Merge a profile with its bases; report any disagreement between bases."""
    return _resolve(profile, ())


def _merge(profile: str, what: str, key: str, mine: dict, mine_from: dict, value, source: str,
           settled: set) -> None:
    if key in mine and mine[key] != value and key not in settled:
        raise ProfileError(
            f"profile {profile!r}: bases {mine_from[key]!r} and {source!r} disagree about {what} {key!r} "
            f"({_show(mine[key])} vs {_show(value)}); settle it in {profile!r}")
    mine[key] = value
    mine_from[key] = source


def _show(value) -> str:
    return value.describe() if isinstance(value, Disposition) else repr(value)


def _resolve(profile: Profile, stack: tuple[str, ...]) -> Resolved:
    if profile.name in stack:
        raise ProfileError(f"profile {profile.name!r} extends itself: {' -> '.join((*stack, profile.name))}")
    syscalls: dict[str, Disposition] = {}
    sources: dict[str, str] = {}
    routes: dict[str, Backend] = {}
    route_sources: dict[str, str] = {}
    knobs: dict[str, object] = {}
    knob_sources: dict[str, str] = {}
    own_knobs = {knob for knob in KNOBS if getattr(profile, knob) is not None}
    for base in profile.extends:
        r = _resolve(base, (*stack, profile.name))
        for name, d in r.syscalls.items():
            _merge(profile.name, "syscall", name, syscalls, sources, d, r.origins[name], set(profile.syscalls))
        for prefix, b in r.routes.items():
            _merge(profile.name, "route", prefix, routes, route_sources, b, base.name, set(profile.routes))
        for knob, value in r.knobs.items():
            _merge(profile.name, "knob", knob, knobs, knob_sources, value, base.name, own_knobs)
    # The profile's own entries override its bases.
    for name, d in profile.syscalls.items():
        syscalls[name] = d
        sources[name] = profile.name
    routes.update(profile.routes)
    for knob in KNOBS:
        value = getattr(profile, knob)
        if value is not None:
            knobs[knob] = value
    return Resolved(profile.name, syscalls, sources, routes, knobs)


def with_overrides(profile: Profile, **changes) -> Profile:
    return replace(profile, **changes)
