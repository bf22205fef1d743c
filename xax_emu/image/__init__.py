"""App images: the manifest, `pack`, `inspect`, and the Python side's validation.

    load_manifest(path) -> Manifest         manifest.py
    pack(manifest, out, progress) -> id     pack.py   (the image format: format.py, pack.py, tarwrite.py)
    inspect(image) -> dict                  inspect.py
    validate(image) -> Image                validate.py (tar structure: tarread.py)
"""
from .errors import DependencyError, ImageError, ManifestError
from .inspect import describe, inspect
from .manifest import Manifest, load_manifest
from .pack import PackError, PackResult, Progress, pack, pack_image
from .validate import Image, validate

__all__ = ["DependencyError", "Image", "ImageError", "Manifest", "ManifestError", "PackError", "PackResult",
           "Progress", "describe", "inspect", "load_manifest", "pack", "pack_image", "validate"]
