"""The image format: member names, limits, the rules every reader applies, and the name
rules shared by pack and validate.  docs/image-format.md states the format in full;
tools/gen_image_format.py turns the constants and rule names below into
runtime_c/include/xax_image.h for the C readers (the VFS's tar.c, the PAL's tarfind.c).

An image is a pax tar (written by libarchive).  Member names are relative to the
image root ("usr/bin/lua5.4", directories with a trailing "/"); the app sees them
as absolute paths ("/usr/bin/lua5.4").  Members under ".xax/" are the image's own:

  .xax/meta.json   always the first member: the metadata (see pack.py for the schema)
  .xax/layer       the compiled interposition layer (an ELF, page-aligned like every ELF)
  .xax/sites       optional, the last member: the syscall sites pack found in the ELF members
                   (xax_emu/image/syscall_sites.py), which the PAL rewrites as it maps them
  .xax/pad/NNNNNN  padding (zero bytes) placed before an ELF member so that its data
                   starts at a page-aligned offset in the tar; never listed in meta.json
"""
from __future__ import annotations

FORMAT = "xax-image"
VERSION = 1

META = ".xax/meta.json"
LAYER = ".xax/layer"
PAD_DIR = ".xax/pad/"
SITES = ".xax/sites"
RESERVED = ".xax"

PAGE = 4096
BLOCK = 512
GENERATED_MTIME = 0  # directories, symlinks, padding and the .xax members

HEADER_MAX = 64 << 10  # the data of a pax extended header
META_MAX = 32 << 20  # .xax/meta.json
MEMBERS_MAX = 1 << 20
NAMES_MAX = 64 << 20  # bytes of member names and symlink targets, in all
NAME_MAX = 255  # bytes of one component
PATH_MAX = 4095  # bytes of an absolute image path ("/usr/bin/x"), as Linux's 4096 counts the NUL
MEMBER_NAME_MAX = PATH_MAX - 1  # bytes of a member's name ("usr/bin/x"), a directory's trailing "/" not counted
SYMLINK_MAX = 4095
PAD_MAX = PAGE - BLOCK - BLOCK  # a padding member's data: its header and data fill a gap of 512 to 3584 bytes
PAD_DIGITS = 6  # .xax/pad/000001
LINK_DEPTH_MAX = 40  # symlinks followed while resolving one path (as Linux)

ELF_MAGIC = b"\x7fELF"

# .xax/sites (docs/rewrite.md, "The site table"): a header of SITES_HEADER bytes (the magic,
# a u32 count, a u32 zero), then `count` entries of SITES_ENTRY bytes, little-endian:
# u64 the image offset of a window's first byte, u8 its length, u8 the offset of its
# syscall in it, u16 the number the code sets (SITES_NR_UNKNOWN: set elsewhere), u32 zero.
# Sorted by offset, windows apart.
SITES_MAGIC = b"XAXSITE1"
SITES_HEADER = 16
SITES_ENTRY = 16
SITES_WINDOW_MAX = 24  # bytes a window may span (the stub's copies of its instructions)
SITES_NR_UNKNOWN = 0xFFFF
SITES_MAX = 1 << 20  # entries

# The rules of the format, each with the name a refusal carries (ImageError.rule in
# Python; the C readers' reasons start with "NAME: ").  docs/image-format.md states each.
# Level: "header" — one member and its pax header (every reader, of the members it reads);
# "tree" — between members (the readers that index the whole image: tarread/validate, tar.c);
# "app" — an app image's own members and order (validate; tarfind, of the ones it reads).
RULES = (
    ("truncated", "header", "a header, or a member's data and its padding, runs past the end of the file"),
    ("end", "header", "the archive ends with two zero blocks, and nothing but zero bytes follows them"),
    ("checksum", "header", "the checksum field holds the unsigned sum of the header's bytes"),
    ("magic", "header", "the magic and version are POSIX ustar's: \"ustar\\0\" \"00\""),
    ("number", "header", "mode, size, mtime and checksum are octal digits ended by NULs or spaces"),
    ("typeflag", "header", "a header is a file ('0'), a directory ('5'), a symlink ('2') or a pax header ('x')"),
    ("pax-size", "header", f"a pax header's data is at most {HEADER_MAX >> 10} KiB"),
    ("pax-record", "header", "a pax header's data is records \"LEN key=value\\n\" and nothing else"),
    ("pax-key", "header", "pax keys: path, linkpath (symlinks), size (files), mtime, each at most once"),
    ("pax-value", "header", "pax values: names not empty, numbers decimal without leading zeros, in range"),
    ("pax-alone", "header", "a pax header is followed by its member"),
    ("name-encoding", "header", "names and targets: ASCII in the ustar fields, UTF-8 in pax records, no NUL"),
    ("name-form", "header", "a name is normalized: no empty or '.' component; '/' ends a directory's only"),
    ("name-absolute", "header", "a name is relative to the image root"),
    ("name-dotdot", "header", "a name has no '..' component"),
    ("name-length", "header", f"components of at most {NAME_MAX} bytes, names of at most {PATH_MAX - 1}"),
    ("link", "header", f"a symlink's target is 1 to {SYMLINK_MAX} bytes; no other member has one"),
    ("data", "header", "directories and symlinks have no data"),
    ("members", "header", f"at most {MEMBERS_MAX} members and {NAMES_MAX >> 20} MiB of names and targets"),
    ("duplicate", "tree", "no two members have the same name"),
    ("parent", "tree", "what holds a member is a directory"),
    ("dir-order", "tree", "a directory's member comes before the members inside it"),
    ("symlink-escape", "tree", "a symlink's target, resolved inside the image, stays inside it"),
    ("meta-first", "app", f"the first member is {META}, a regular file of at most {META_MAX >> 20} MiB"),
    ("layer", "app", f"{LAYER} comes next (after one padding member if it needs one), its data on a page"),
    ("pad", "app", f"padding members: {PAD_DIR}NNNNNN in order from 1, zeros, then a member whose data is on a page"),
    ("reserved", "app", f"no other member under {RESERVED}/ but {SITES}, the last member if any"),
    ("sites", "app", f"{SITES}: sorted windows inside ELF members' executable segments, each holding a syscall"),
    ("elf-aligned", "app", "the data of every ELF file starts on a page"),
    ("order", "app", "after the layer, the app's members come in the order of their paths"),
    ("meta", "app", f"{META} is the metadata pack writes and describes the image exactly"),
)
RULE_NAMES = frozenset(name for name, _, _ in RULES)


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
