"""Layers for `run`: a profile (shipped name or FILE.py:NAME) compiled into the
bytes the PAL loads, cached on disk and in this process."""
from __future__ import annotations

import functools
from pathlib import Path

from .profiles import DEFAULT, load
from .syscalls.compiler import build_layer


@functools.lru_cache(maxsize=16)
def _layer_for_key(spec: str, base_dir: str) -> bytes:
    return build_layer(load(spec, Path(base_dir))).read_bytes()


def layer_for(spec: str = DEFAULT, base_dir: Path | None = None) -> bytes:
    return _layer_for_key(spec, str(base_dir or Path.cwd()))
