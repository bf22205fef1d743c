"""Layers for `run`: a profile (shipped name or FILE.py:NAME) compiled into the
bytes the PAL loads, cached on disk and in this process."""
from __future__ import annotations

import functools
from pathlib import Path

from ..profiles import DEFAULT, load
from ..syscalls.compiler import build_layer
from ..syscalls.profile import resolve


@functools.lru_cache(maxsize=16)
def _layer_for_key(spec: str, base_dir: str) -> bytes:
    return build_layer(load(spec, Path(base_dir))).read_bytes()


def layer_for(spec: str = DEFAULT, base_dir: Path | None = None) -> bytes:
    return _layer_for_key(spec, str(base_dir or Path.cwd()))


def program_env(spec: str, overrides: list[str], base_dir: Path | None = None) -> list[str]:
    """The program's environment: the profile's env knob, with NAME=VALUE overrides
    (the command line's --env) replacing same-named entries."""
    env = dict(sorted((resolve(load(spec, base_dir or Path.cwd())).knobs.get("env") or {}).items()))
    for item in overrides:
        name, _, value = item.partition("=")
        env.pop(name, None)
        env[name] = value
    return [f"{k}={v}" for k, v in env.items()]
