"""The image format: member names, constants and the name rules shared by pack and validate.

An image is a pax tar (written by libarchive).  Member names are relative to the
image root ("usr/bin/lua5.4", directories with a trailing "/"); the app sees them
as absolute paths ("/usr/bin/lua5.4").  Members under ".xax/" are the image's own:

  .xax/meta.json   always the first member: the metadata (see pack.py for the schema)
  .xax/layer       the compiled interposition layer (an ELF, page-aligned like every ELF)
  .xax/pad/NNNNNN  padding (zero bytes) placed before an ELF member so that its data
                   starts at a page-aligned offset in the tar; never listed in meta.json
"""
from __future__ import annotations

FORMAT = "xax-image"
VERSION = 1

META = ".xax/meta.json"
LAYER = ".xax/layer"
PAD_DIR = ".xax/pad/"
RESERVED = ".xax"

PAGE = 4096
BLOCK = 512
GENERATED_MTIME = 0  # directories, symlinks, padding and the .xax members

HEADER_MAX = 64 << 10  # pax extended headers and GNU long names/links
META_MAX = 32 << 20  # .xax/meta.json
MEMBERS_MAX = 1 << 20
NAME_MAX = 255
PATH_MAX = 4095
SYMLINK_MAX = 4095
LINK_DEPTH_MAX = 40  # symlinks followed while resolving one path (as Linux)

ELF_MAGIC = b"\x7fELF"


def split_image_path(path: str) -> list[str] | None:
    """The components of an absolute image path, normalized ('//' and '.' dropped,
    trailing '/' ignored); None if it is relative or has a '..' component."""
    if not path.startswith("/"):
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return parts


def member_name(image_path: str, directory: bool = False) -> str:
    """'/usr/bin/x' -> 'usr/bin/x' (directories: 'usr/bin/')."""
    name = image_path.lstrip("/")
    return name + "/" if directory and name else name


def image_path(member: str) -> str:
    """'usr/bin/x' or 'usr/bin/' -> '/usr/bin/x', '/usr/bin'."""
    return "/" + member.strip("/")
