"""The Python side's refusal of bad images: one ImageError of one line, never a crash.

The image format is docs/image-format.md; each refusal names the rule it breaks
(ImageError.rule, one of format.RULES).

read_tar(tar) reads a tar in the format (what a bare program's --fs-image must be):
  - every header, with the bounded reader (tarread.py: the "header" rules);
  - the "tree" rules, member by member, as the VFS's tar.c indexes them: no name given
    twice, nothing inside a file or symlink, a directory's member before the members
    inside it; and symlink targets, resolved inside the image (absolute targets from the
    image root, never the host), stay inside it.
validate(image) reads an app image: read_tar, then the "app" rules:
  - .xax/meta.json first, .xax/layer next (after .xax/pad/000001 if it needs one), its
    data on a page; padding members numbered in order, of zeros, each before a member
    whose data is on a page; nothing else under .xax/; the app's members in path order;
  - .xax/meta.json: at most 32 MiB of UTF-8 JSON, of the schema pack.py writes;
    every file and symlink it lists is in the image as listed (size, target, and with
    check_data the sha256 and whether it is an ELF file), every app member is listed,
    every ELF file's data is on a page, the layer matches, the entry resolves to a
    regular file of the image, the [http] table (if any) keeps every rule http.py
    states, its pages a directory of the image, and the mount points (if any) keep
    mounts.py's rules.
"""
from __future__ import annotations

import bisect
import io
import json
import math
import mmap
import os
import re
from dataclasses import dataclass, field
from typing import BinaryIO

from .errors import ImageError
from ..hostfile import open_regular
from ..limits import KEYS, LimitError, check, check_image_strings
from .format import (BLOCK, ELF_MAGIC, FORMAT, LAYER, META, META_MAX, PAD_DIGITS, PAD_DIR, PAD_MAX, PAGE, RESERVED,
                     SITES, SITES_ENTRY, SITES_HEADER, SITES_MAX, VERSION, split_image_path)
from .syscall_sites import decode_table, exec_ranges
from .http import HttpSpecError, check_http
from .mounts import MountPointError, check_points
from .paths import NotADir, PathEscape, PathLoop, resolve
from .tarread import Member, TarReader


@dataclass
class Image:
    path: str | None
    size: int
    members: list[Member]
    by_name: dict[str, Member]
    meta: dict
    dirs: set[str] = field(default_factory=set)  # every directory, implicit ones included ("" is the root)

    def member(self, image_path: str) -> Member | None:
        return self.by_name.get(image_path.strip("/"))

    def kind_of(self, image_path: str):
        name = image_path.strip("/")
        m = self.by_name.get(name)
        if m is not None:
            return (m.type, m.link if m.type == "symlink" else None)
        return ("dir", None) if name in self.dirs else None


class _Mapped:
    """A read-only mmap (the Monitor's view of an image fd), read like a file in
    place and left open for its owner."""

    def __init__(self, m: mmap.mmap):
        self.m = m

    def seek(self, offset: int) -> None:
        self.m.seek(offset)

    def read(self, n: int) -> bytes:
        return self.m.read(n)

    def view(self, offset: int, n: int) -> memoryview:
        """n bytes at offset, in place (a context manager: the mapping cannot close while it is held)."""
        return memoryview(self.m)[offset:offset + n]

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def _open(source) -> tuple[BinaryIO, int, str | None]:
    if isinstance(source, mmap.mmap):
        return _Mapped(source), len(source), None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return io.BytesIO(data), len(data), None
    path = os.fspath(source)
    try:
        f = os.fdopen(open_regular(path), "rb")
    except OSError as e:
        raise ImageError(f"cannot open the image {path}: {e.strerror or e}") from None
    except ValueError:
        raise ImageError(f"cannot open the image {path!r}: the name contains NUL") from None
    try:
        size = os.fstat(f.fileno()).st_size
    except OSError as e:
        f.close()
        raise ImageError(f"cannot read the image {path}: {e.strerror or e}") from None
    return f, size, path


def read_tar(source: str | os.PathLike | bytes | mmap.mmap) -> Image:
    """A tar in the image format, checked by the "header" and "tree" rules (what the VFS
    requires of a tar it mounts, and that its symlinks stay inside it); ImageError if it
    breaks one.  It has no metadata."""
    f, size, path = _open(source)
    with f:
        return _guarded(lambda: _read_tree(TarReader(f, size), path))


def validate(source: str | os.PathLike | bytes | mmap.mmap, check_data: bool = True) -> Image:
    """The app image, checked; ImageError if anything is wrong.  `source` is a path, the bytes, or a mapping."""
    f, size, path = _open(source)
    with f:
        reader = TarReader(f, size)

        def check() -> Image:
            image = _read_tree(reader, path)
            _app_members(reader, image, check_data)
            image.meta = _meta(reader, image)
            _contents(reader, image, check_data)
            return image

        return _guarded(check)


def _guarded(check):
    try:
        return check()
    except ImageError:
        raise
    except OSError as e:
        raise ImageError(f"cannot read the image: {e.strerror or e}") from None
    except RecursionError:
        raise ImageError("nested too deeply") from None


class _Tree:
    """The "tree" rules, checked member by member as the reader reads them (as tar.c indexes
    them, so that the first problem in the archive's order is the one both report)."""

    def __init__(self):
        self.by_name: dict[str, Member] = {}
        self.implicit: set[str] = set()  # directories that hold members but have no member of their own (yet)

    def add(self, m: Member) -> None:
        parts = m.name.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            p = self.by_name.get(parent)
            if p is None:
                self.implicit.add(parent)
            elif p.type != "dir":
                raise ImageError(f"inside {p.raw_name!r}, which is a {p.type}, not a directory", m.raw_name,
                                 rule="parent")
        have = self.by_name.get(m.name)
        if have is not None:
            raise ImageError(f"the name of the earlier member {have.raw_name!r}", m.raw_name, rule="duplicate")
        if m.name in self.implicit and m.type == "dir":
            raise ImageError("a directory's member after members inside it", m.raw_name, rule="dir-order")
        if m.name in self.implicit:
            raise ImageError(f"earlier members are inside it, and it is a {m.type}", m.raw_name, rule="parent")
        self.by_name[m.name] = m


def _read_tree(reader: TarReader, path: str | None) -> Image:
    tree = _Tree()
    members = reader.members(tree.add)
    dirs = {""} | tree.implicit | {m.name for m in members if m.type == "dir"}
    image = Image(path, reader.size, members, tree.by_name, {}, dirs)
    for m in members:
        if m.type == "symlink":
            _check_symlink(image, m)
    return image


def _check_symlink(image: Image, m: Member) -> None:
    target = m.link
    parent = "/" + m.name.rpartition("/")[0]
    start = target if target.startswith("/") else parent.rstrip("/") + "/" + target
    try:
        resolve(start, image.kind_of)
    except PathEscape:
        raise ImageError(f"symlink target {target!r} leaves the image", m.raw_name, rule="symlink-escape") from None
    except (PathLoop, NotADir):
        pass  # ELOOP or ENOTDIR inside the image: harmless


# -- an app image's own members and their order ---------------------------------------


def _pad(reader: TarReader, members: list[Member], i: int, number: int, check_data: bool) -> None:
    """members[i], whose name starts with .xax/pad/: the padding member `number`."""
    m = members[i]
    if m.name != f"{PAD_DIR}{number:0{PAD_DIGITS}d}":
        raise ImageError(f"padding member {number} is not {PAD_DIR}{number:0{PAD_DIGITS}d}", m.raw_name, rule="pad")
    if m.type != "file" or m.size % BLOCK or m.size > PAD_MAX or (check_data and not reader.is_zero(m.data_offset,
                                                                                                      m.size)):
        raise ImageError(f"a padding member that is not 0 to {PAD_MAX} zero bytes in whole blocks", m.raw_name,
                         rule="pad")
    if i + 1 < len(members) and members[i + 1].data_offset % PAGE:
        raise ImageError("the member after a padding member does not start on a page", m.raw_name, rule="pad")
    if i + 1 == len(members):
        raise ImageError("a padding member at the end of the image", m.raw_name, rule="pad")


def _app_members(reader: TarReader, image: Image, check_data: bool) -> None:
    """The "app" rules about members: the metadata, padding, the layer, .xax/, the order."""
    members = image.members
    first = members[0] if members else None
    if first is None or first.name != META or first.type != "file" or first.size > META_MAX:
        raise ImageError(f"the first member is not {META}, a regular file of at most {META_MAX >> 20} MiB: "
                         "not an xax-emu image", rule="meta-first")
    i, pads = 1, 0
    if i < len(members) and members[i].name.startswith(PAD_DIR):
        pads += 1
        if members[i].name != f"{PAD_DIR}{1:0{PAD_DIGITS}d}":
            raise ImageError(f"the first padding member is not {PAD_DIR}{1:0{PAD_DIGITS}d}", members[i].raw_name,
                             rule="pad")
        _pad(reader, members, i, pads, check_data)
        i += 1
    layer = members[i] if i < len(members) else None
    if layer is None or layer.name != LAYER or layer.type != "file":
        raise ImageError(f"{LAYER}, a regular file, does not follow {META}", rule="layer")
    if layer.data_offset % PAGE:
        raise ImageError(f"its data does not start on a page (offset {layer.data_offset})", LAYER, rule="layer")
    previous = None
    for k in range(i + 1, len(members)):
        m = members[k]
        if m.name.startswith(PAD_DIR):
            pads += 1
            _pad(reader, members, k, pads, check_data)
            continue
        if m.name == SITES and m.type == "file" and k == len(members) - 1:
            continue  # the site table, last (pack.py)
        if m.name == RESERVED or m.name.startswith(RESERVED + "/"):
            raise ImageError(f"a member under /{RESERVED} that is not {META}, {LAYER}, padding or {SITES} "
                             "(the last member)", m.raw_name, rule="reserved")
        if previous is not None and m.name <= previous.name:
            raise ImageError(f"comes after {previous.raw_name!r}: the app's members are not in the order of their "
                             "paths", m.raw_name, rule="order")
        previous = m


# -- the metadata -------------------------------------------------------------------


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    """A JSON number with a fraction or exponent; one too large for a float (1e999) is
    refused here, as NaN and Infinity are, so no value of the metadata is infinite
    (and `inspect --json` never prints Infinity)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


BASE_LIMITS = set(KEYS) - {"threads", "processes"}  # images packed before threads (or processes) had a limit


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise ImageError(what, META, rule="meta")


def _is_str(x) -> bool:
    return isinstance(x, str)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _abs_path(x) -> bool:
    return _is_str(x) and "\0" not in x and split_image_path(x) is not None and len(x) <= 4096


def _meta(reader: TarReader, image: Image) -> dict:
    m = image.members[0]  # the metadata, as _app_members checked
    return parse_meta(reader.read(m.data_offset, m.size))


def parse_meta(raw: bytes) -> dict:
    """The bytes of .xax/meta.json, parsed and checked against the schema pack.py
    writes (validate() does this as one of its steps; a Monitor that validated the
    same image before does only this, launch/validated.py)."""
    if len(raw) > META_MAX:
        raise ImageError(f"{len(raw)} bytes, over the {META_MAX >> 20} MiB cap", META, rule="meta")
    try:
        meta = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError) as e:
        raise ImageError(f"not valid UTF-8 JSON: {e}", META, rule="meta") from None
    except RecursionError:
        raise ImageError("not valid JSON: nested too deeply", META, rule="meta") from None
    _need(isinstance(meta, dict), "not a JSON object")
    _need(meta.get("format") == FORMAT, f"format is not {FORMAT!r}")
    _need(meta.get("version") == VERSION, f"version {meta.get('version')!r} is not {VERSION} (repack the image)")
    app = meta.get("app")
    _need(isinstance(app, dict), "app is not an object")
    _need(_is_str(app.get("name")), "app.name is not a string")
    _need(_abs_path(app.get("entry")), "app.entry is not an absolute path")
    _need(_abs_path(app.get("cwd")), "app.cwd is not an absolute path")
    _need("argv0" not in app or (_is_str(app["argv0"]) and app["argv0"] and "\0" not in app["argv0"]),
          "app.argv0 is not a non-empty string")
    args = app.get("args")
    _need(isinstance(args, list) and all(_is_str(a) and "\0" not in a for a in args),
          "app.args is not a list of strings")
    env = app.get("env")
    _need(isinstance(env, dict) and all(k and "=" not in k and "\0" not in k and _is_str(v) and "\0" not in v
                                        for k, v in env.items()), "app.env is not a table of strings")
    prof = meta.get("profile")
    _need(isinstance(prof, dict) and _is_str(prof.get("spec")) and _is_str(prof.get("name")),
          "profile is not an object with spec and name")
    _need(isinstance(prof.get("shipped"), bool), "profile.shipped is not a boolean")
    routes = prof.get("routes")
    _need(isinstance(routes, list) and all(isinstance(r, dict) and _is_str(r.get("prefix"))
                                           and _is_str(r.get("backend")) for r in routes),
          "profile.routes is not a list of routes")
    counts = prof.get("syscalls")
    _need(isinstance(counts, dict) and all(_is_int(counts.get(k)) and counts.get(k) >= 0
                                           for k in ("emulate", "reject", "forward", "missing", "total")),
          "profile.syscalls is not a summary of counts")
    _check_limits(meta.get("limits"))
    try:  # they travel in the BOOT message: what pack refuses, an image may not bring
        check_image_strings(app["entry"], args, env, app["cwd"])
    except LimitError as e:
        raise ImageError(str(e), META, rule="meta") from None
    layer = meta.get("layer")
    _need(isinstance(layer, dict) and layer.get("member") == LAYER and _is_int(layer.get("size"))
          and _hex64(layer.get("sha256")), f"layer is not {{member: {LAYER!r}, size, sha256}}")
    try:
        check_http(meta.get("http"))  # absent in images packed before [http] existed: none
    except HttpSpecError as e:
        _need(False, f"http.{e.key}: {e.message}")
    _check_mounts(meta.get("mounts", {}), routes)
    sites = meta.get("sites")
    _need(sites is None or (isinstance(sites, dict) and set(sites) == {"member", "size"}
                            and sites["member"] == SITES and _is_int(sites["size"]) and sites["size"] >= 0),
          f"sites is not {{member: {SITES!r}, size}}")
    files = meta.get("files")
    _need(isinstance(files, dict), "files is not an object")
    for path, info in files.items():
        what = f"files[{path[:200]!r}]"
        parts = split_image_path(path) if _is_str(path) and "\0" not in path and len(path) <= 4096 else None
        _need(parts is not None and path == "/" + "/".join(parts), f"{what}: not a normalized absolute path")
        _need(isinstance(info, dict), f"{what}: not an object")
        if info.get("type") == "file":
            _need(_is_int(info.get("size")) and info["size"] >= 0 and _hex64(info.get("sha256")),
                  f"{what}: a file needs a size and a sha256")
            _need(isinstance(info.get("elf"), bool), f"{what}: a file needs elf, true or false")
        elif info.get("type") == "symlink":
            _need(_is_str(info.get("target")), f"{what}: a symlink needs a target")
        else:
            _need(False, f"{what}: type is neither file nor symlink")
    return meta


def _check_mounts(mounts, routes) -> None:
    """The mount points pack writes (normalized, each "ro" or "rw"), checked against each
    other and the profile's routes; against the image's paths in _contents."""
    try:
        _need(check_points(mounts, None, [r["prefix"] for r in routes]) == mounts,
              "mounts: a mount point is not written in its normalized form")
    except MountPointError as e:
        raise ImageError(f"mounts[{e.point[:200]!r}]: {e.message}" if e.point else f"mounts: {e.message}",
                         META, rule="meta") from None


def _check_limits(limits) -> None:
    """The limits pack writes (every key of limits.py's, null when not set), each in its range."""
    _need(isinstance(limits, dict) and BASE_LIMITS <= set(limits) <= set(KEYS),
          f"limits is not an object with {', '.join(KEYS)} (threads and processes optional)")
    for k, v in limits.items():
        try:
            if v is not None:
                check(k, v)
        except LimitError as e:
            raise ImageError(f"limits.{k}: {e}", META, rule="meta") from None


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _hex64(x) -> bool:
    return _is_str(x) and _HEX64.fullmatch(x) is not None


# -- the contents against the metadata ------------------------------------------------


def _sites(reader: TarReader, image: Image, check_data: bool) -> None:
    """.xax/sites as meta.json gives it; with check_data, every window inside the data of an
    ELF file of the image, inside one of its executable segments, its syscall's two bytes
    `0f 05`: the PAL checks the same before it patches (runtime_c/pal/sites.c), so a hostile
    table reaches neither past the program's text nor the runtime's own."""
    m = image.by_name.get(SITES)
    given = image.meta.get("sites")
    if (m is None) != (given is None) or (m is not None and m.size != given["size"]):
        raise ImageError(f"does not match what {META} gives", SITES, rule="meta")
    if m is None or not check_data:
        return
    if m.size > SITES_HEADER + SITES_ENTRY * SITES_MAX:
        raise ImageError(f"{m.size} bytes, over {SITES_MAX} entries", SITES, rule="sites")
    try:
        entries = decode_table(reader.read(m.data_offset, m.size))
    except ValueError as e:
        raise ImageError(str(e), SITES, rule="sites") from None
    files = image.meta["files"]
    elves = sorted((x.data_offset, x) for x in image.members
                   if x.type == "file" and files.get("/" + x.name, {}).get("elf"))
    starts = [at for at, _ in elves]
    ranges: dict[str, list[tuple[int, int]]] = {}
    for i, e in enumerate(entries):
        k = bisect.bisect_right(starts, e.at) - 1
        elf = elves[k][1] if k >= 0 else None
        if elf is None or e.at + e.length > elf.data_offset + elf.size:
            raise ImageError(f"entry {i}: offset {e.at} is not inside an ELF file's data", SITES, rule="sites")
        if elf.name not in ranges:
            head = reader.read(elf.data_offset, min(elf.size, 1 << 16))
            ranges[elf.name] = [(a + elf.data_offset, b + elf.data_offset) for a, b in exec_ranges(head, elf.size)]
        if not any(a <= e.at and e.at + e.length <= b for a, b in ranges[elf.name]):
            raise ImageError(f"entry {i}: offset {e.at} is not inside an executable segment of {elf.raw_name!r}",
                             SITES, rule="sites")
        if reader.read(e.at + e.syscall, 2) != b"\x0f\x05":
            raise ImageError(f"entry {i}: no syscall instruction at offset {e.at + e.syscall}", SITES, rule="sites")


def _sha256(reader: TarReader, m: Member) -> str:
    return reader.sha256(m.data_offset, m.size)


def _contents(reader: TarReader, image: Image, check_data: bool) -> None:
    meta = image.meta
    layer = image.by_name[LAYER]  # a regular file, as _app_members checked
    if layer.size != meta["layer"]["size"] or (check_data and _sha256(reader, layer) != meta["layer"]["sha256"]):
        raise ImageError(f"does not match the size and sha256 {META} gives", LAYER, rule="meta")
    files = meta["files"]
    for m in image.members:
        if m.name == RESERVED or m.name.startswith(RESERVED + "/") or m.type == "dir":
            continue  # the image's own (_app_members), or a directory (never listed)
        info = files.get("/" + m.name)
        if info is None:
            raise ImageError(f"is not listed in {META}", m.raw_name, rule="meta")
        if info["type"] != m.type:
            raise ImageError(f"is a {m.type}, {META} says {info['type']}", m.raw_name, rule="meta")
    for path, info in files.items():
        m = image.by_name.get(path.strip("/"))
        if m is None:
            raise ImageError(f"{META} lists it, the image does not have it", path, rule="meta")
        if info["type"] == "symlink":
            if m.link != info["target"]:
                raise ImageError(f"symlink target {m.link!r}, {META} says {info['target']!r}", m.raw_name,
                                 rule="meta")
            continue
        if m.size != info["size"] or (check_data and _sha256(reader, m) != info["sha256"]):
            raise ImageError(f"does not match the size and sha256 {META} gives", m.raw_name, rule="meta")
        if check_data and info["elf"] != (m.size >= len(ELF_MAGIC) and reader.read(m.data_offset, len(ELF_MAGIC))
                                          == ELF_MAGIC):
            raise ImageError(f"{META} says elf {str(info['elf']).lower()}, its bytes say otherwise", m.raw_name,
                             rule="meta")
        if info["elf"] and m.data_offset % PAGE:
            raise ImageError(f"an ELF file whose data does not start on a page (offset {m.data_offset})", m.raw_name,
                             rule="elf-aligned")
    entry = meta["app"]["entry"]
    try:
        where = resolve(entry, image.kind_of)
    except (PathEscape, PathLoop, NotADir):
        where = None
    m = image.by_name.get(where.strip("/")) if where else None
    if m is None or m.type != "file":
        raise ImageError(f"the entry {entry} is not a regular file in the image", META, rule="meta")
    try:
        check_points(meta.get("mounts", {}), image.kind_of, ())
    except MountPointError as e:
        raise ImageError(f"mounts[{e.point[:200]!r}]: {e.message}", META, rule="meta") from None
    pages = (meta.get("http") or {}).get("pages")
    if pages is not None:
        try:
            where = resolve(pages, image.kind_of)
        except (PathEscape, PathLoop, NotADir):
            where = None
        if where is None or where.strip("/") not in image.dirs:
            raise ImageError(f"http.pages {pages} is not a directory in the image", META, rule="meta")
    _sites(reader, image, check_data)
