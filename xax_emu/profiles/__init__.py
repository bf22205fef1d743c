"""Shipped profiles: reusable bases that apps extend, found by name.

`load("static-libc")` returns a shipped profile; `load("path/to/file.py:NAME")`
loads the Profile called NAME from a Python file (an app's own profile).

The profiles themselves are built on first use (SHIPPED is made by the
module's __getattr__, PEP 562): `xax-emu run` of an app image needs only the
name DEFAULT, not the profile DSL.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..syscalls.profile import Profile

DEFAULT = "static-libc"


@functools.cache
def _shipped() -> dict[str, "Profile"]:
    from .glibc_dynamic import GLIBC_DYNAMIC
    from .posix_core import POSIX_CORE
    from .static_libc import STATIC_LIBC

    return {p.name: p for p in (POSIX_CORE, STATIC_LIBC, GLIBC_DYNAMIC)}


def __getattr__(name: str):
    if name == "SHIPPED":
        return _shipped()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _where(e: BaseException, path: Path) -> str:
    """`path:LINE` of the profile file's last line that the exception passed through."""
    import traceback

    if isinstance(e, SyntaxError) and e.lineno:
        return f"{path}:{e.lineno}"
    lines = [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == str(path)]
    return f"{path}:{lines[-1]}" if lines else str(path)


def load(spec: str, base_dir: Path | None = None) -> "Profile":
    import importlib.util

    from ..syscalls.profile import Profile, ProfileError

    if ":" not in spec:
        shipped = _shipped()
        try:
            return shipped[spec]
        except KeyError:
            raise ProfileError(f"no shipped profile {spec!r} (shipped: {', '.join(sorted(shipped))}; "
                               "or give FILE.py:NAME)") from None
    file_part, _, name = spec.rpartition(":")
    path = (base_dir or Path.cwd()) / file_part
    try:
        is_file = path.is_file()
    except (OSError, ValueError) as e:  # a name too long, a NUL
        raise ProfileError(f"{spec!r}: not a profile file: {getattr(e, 'strerror', None) or e}") from None
    if not is_file:
        raise ProfileError(f"{path}: no such profile file (from {spec!r})")
    module_spec = importlib.util.spec_from_file_location(f"xax_profile_{abs(hash(str(path)))}", path)
    if module_spec is None:  # importlib makes no spec for a name that does not end in .py
        raise ProfileError(f"{path}: not a Python file (a profile is FILE.py:NAME)")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except ProfileError as e:
        raise ProfileError(f"{path}: {e}") from None
    except SystemExit as e:
        raise ProfileError(f"{path}: exited while it was loaded (sys.exit({e.code!r}))") from None
    except Exception as e:  # the profile is the user's Python: say what failed, and where in it
        raise ProfileError(f"{_where(e, path)}: {type(e).__name__}: {e}") from None
    profile = getattr(module, name, None)
    if not isinstance(profile, Profile):
        raise ProfileError(f"{path}: no Profile named {name!r}")
    return profile
