"""App images: the manifest, `pack`, `inspect`, and the Python side's validation.

    load_manifest(path) -> Manifest         manifest.py
    pack(manifest, out, progress) -> id     pack.py   (the image format: format.py, pack.py, tarwrite.py)
    inspect(image) -> dict                  inspect.py
    validate(image) -> Image                validate.py (tar structure: tarread.py)

Each name is imported from its module when first asked for (PEP 562): `run`
only validates, and packing brings in libarchive, pyelftools and the profile
compiler, which `xax-emu run` has no use for.
"""
from __future__ import annotations

import importlib
import sys
import types

from .errors import DependencyError, ImageError, ManifestError

_LAZY = {
    "describe": "inspect", "inspect": "inspect",
    "Manifest": "manifest", "load_manifest": "manifest",
    "PackError": "pack", "PackResult": "pack", "Progress": "pack", "pack": "pack", "pack_image": "pack",
    "Image": "validate", "validate": "validate",
}

__all__ = ["DependencyError", "Image", "ImageError", "Manifest", "ManifestError", "PackError", "PackResult",
           "Progress", "describe", "inspect", "load_manifest", "pack", "pack_image", "validate"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Importing a submodule binds it on its package (`xax_emu.image.pack` = the
    module); three functions share their module's name, and the package's name
    must stay the function whichever is imported first."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
