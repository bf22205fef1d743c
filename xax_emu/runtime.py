"""Where the built C runtime lives.

The install builds runtime_c/ with the machine's gcc into xax_emu/_runtime/
(setup.py runs `make`); XAX_EMU_RUNTIME_DIR points elsewhere (tests of a fresh
build, packagers).
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import RuntimeNotBuilt

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_DIR = PACKAGE_DIR.parent / "runtime_c"


def runtime_dir() -> Path:
    override = os.environ.get("XAX_EMU_RUNTIME_DIR")
    return Path(override) if override else PACKAGE_DIR / "_runtime"


def _artifact(name: str) -> Path:
    path = runtime_dir() / name
    if not path.is_file():
        raise RuntimeNotBuilt(
            f"{path} is missing: the C runtime is not built. Reinstall (pip install -e .) "
            f"or run: make -C {SOURCE_DIR} OUT={runtime_dir()}"
        )
    return path


def pico_binary() -> Path:
    """The picoprocess binary: boot block + PAL + layer."""
    return _artifact("xax-pico")


def libxax() -> Path:
    """The static xabi_* shim for programs written for Xax."""
    return _artifact("libxax.a")


def include_dir() -> Path:
    return SOURCE_DIR / "include"
