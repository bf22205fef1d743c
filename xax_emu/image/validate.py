"""The Python side's refusal of bad images: one ImageError of one line, never a crash.

validate(image) reads the tar structure with the bounded reader (tarread.py), then checks:
  - names: no absolute or '..' names, no two members with the same normalized name
    ('a/./b' and 'a/b' collide; case is kept), no member under a file or symlink;
  - links: hard links name an earlier regular file; symlink targets, resolved inside
    the image (absolute targets from the image root, never the host), stay inside it;
  - .xax/meta.json: present, at most 32 MiB of UTF-8 JSON, of the schema pack.py writes;
    every file and symlink it lists is in the image as listed (size, target, and with
    check_data the sha256), every app member is listed, the layer matches, the
    entry resolves to a regular file of the image, and the [http] table (if any) keeps
    every rule http.py states, its pages a directory of the image.
"""
from __future__ import annotations

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
from .format import FORMAT, LAYER, META, META_MAX, PAD_DIR, RESERVED, VERSION, split_image_path
from .http import HttpSpecError, check_http
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


def validate(source: str | os.PathLike | bytes | mmap.mmap, check_data: bool = True) -> Image:
    """The image, checked; ImageError if anything is wrong.  `source` is a path, the bytes, or a mapping."""
    f, size, path = _open(source)
    with f:
        try:
            reader = TarReader(f, size)
            members = reader.members()
            image = _structure(path, size, members)
            image.meta = _meta(reader, image)
            _contents(reader, image, check_data)
        except ImageError:
            raise
        except OSError as e:
            raise ImageError(f"cannot read the image: {e.strerror or e}") from None
        except RecursionError:
            raise ImageError("nested too deeply") from None
    return image


def _structure(path: str | None, size: int, members: list[Member]) -> Image:
    by_name: dict[str, Member] = {}
    dirs = {""}
    for m in members:
        if m.name == "":
            continue  # the root directory ("./")
        have = by_name.get(m.name)
        if have is not None:
            raise ImageError(f"collides with the earlier member {have.raw_name!r}", m.raw_name)
        by_name[m.name] = m
        if m.type == "dir":
            dirs.add(m.name)
        if m.type == "hardlink":
            target = by_name.get(_norm_link(m))
            if target is None or target is m:
                raise ImageError(f"hard link to a missing member {m.link!r}", m.raw_name)
            if target.type != "file":
                raise ImageError(f"hard link to a {target.type} member {m.link!r}", m.raw_name)
    for m in members:
        parts = m.name.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            p = by_name.get(parent)
            if p is not None and p.type != "dir":
                raise ImageError(f"is under {p.raw_name!r}, which is a {p.type}, not a directory", m.raw_name)
            dirs.add(parent)
    image = Image(path, size, members, by_name, {}, dirs)
    for m in members:
        if m.type == "symlink":
            _check_symlink(image, m)
    return image


def _norm_link(m: Member) -> str:
    return "/".join(p for p in m.link.split("/") if p not in ("", "."))


def _check_symlink(image: Image, m: Member) -> None:
    target = m.link
    if not target:
        raise ImageError("a symlink with an empty target", m.raw_name)
    if "\0" in target or len(target.encode()) > 4095:
        raise ImageError("a symlink target with NUL or over 4095 bytes", m.raw_name)
    parent = "/" + m.name.rpartition("/")[0]
    start = target if target.startswith("/") else parent.rstrip("/") + "/" + target
    try:
        resolve(start, image.kind_of)
    except PathEscape:
        raise ImageError(f"symlink target {target!r} leaves the image", m.raw_name) from None
    except (PathLoop, NotADir):
        pass  # ELOOP or ENOTDIR inside the image: harmless


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


BASE_LIMITS = set(KEYS) - {"threads"}  # images packed before threads had a limit


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise ImageError(what, META)


def _is_str(x) -> bool:
    return isinstance(x, str)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _abs_path(x) -> bool:
    return _is_str(x) and "\0" not in x and split_image_path(x) is not None and len(x) <= 4096


def _meta(reader: TarReader, image: Image) -> dict:
    m = image.by_name.get(META)
    if m is None:
        raise ImageError(f"no {META}: not an xax-emu image")
    if m.type != "file":
        raise ImageError(f"is a {m.type}, not a file", META)
    if m.size > META_MAX:
        raise ImageError(f"{m.size} bytes, over the {META_MAX >> 20} MiB cap", META)
    return parse_meta(reader.read(m.data_offset, m.size))


def parse_meta(raw: bytes) -> dict:
    """The bytes of .xax/meta.json, parsed and checked against the schema pack.py
    writes (validate() does this as one of its steps; a Monitor that validated the
    same image before does only this, launch/validated.py)."""
    if len(raw) > META_MAX:
        raise ImageError(f"{len(raw)} bytes, over the {META_MAX >> 20} MiB cap", META)
    try:
        meta = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError) as e:
        raise ImageError(f"not valid UTF-8 JSON: {e}", META) from None
    except RecursionError:
        raise ImageError("not valid JSON: nested too deeply", META) from None
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
        raise ImageError(str(e), META) from None
    layer = meta.get("layer")
    _need(isinstance(layer, dict) and layer.get("member") == LAYER and _is_int(layer.get("size"))
          and _hex64(layer.get("sha256")), f"layer is not {{member: {LAYER!r}, size, sha256}}")
    try:
        check_http(meta.get("http"))  # absent in images packed before [http] existed: none
    except HttpSpecError as e:
        _need(False, f"http.{e.key}: {e.message}")
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
        elif info.get("type") == "symlink":
            _need(_is_str(info.get("target")), f"{what}: a symlink needs a target")
        else:
            _need(False, f"{what}: type is neither file nor symlink")
    return meta


def _check_limits(limits) -> None:
    """The limits pack writes (every key of limits.py's, null when not set), each in its range."""
    _need(isinstance(limits, dict) and set(limits) in (BASE_LIMITS, set(KEYS)),
          f"limits is not an object with {', '.join(KEYS)} (threads optional)")
    for k, v in limits.items():
        try:
            if v is not None:
                check(k, v)
        except LimitError as e:
            raise ImageError(f"limits.{k}: {e}", META) from None


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _hex64(x) -> bool:
    return _is_str(x) and _HEX64.fullmatch(x) is not None


# -- the contents against the metadata ------------------------------------------------


def _sha256(reader: TarReader, m: Member) -> str:
    return reader.sha256(m.data_offset, m.size)


def _contents(reader: TarReader, image: Image, check_data: bool) -> None:
    meta = image.meta
    layer = image.by_name.get(LAYER)
    if layer is None or layer.type != "file":
        raise ImageError("missing, or not a regular file", LAYER)
    if layer.size != meta["layer"]["size"] or (check_data and _sha256(reader, layer) != meta["layer"]["sha256"]):
        raise ImageError(f"does not match the size and sha256 {META} gives", LAYER)
    files = meta["files"]
    for m in image.members:
        if m.name == RESERVED or m.name.startswith(RESERVED + "/"):
            if m.name in (META, LAYER, RESERVED, PAD_DIR.rstrip("/")) or (
                    m.name.startswith(PAD_DIR) and m.type == "file" and "/" not in m.name[len(PAD_DIR):]):
                continue
            raise ImageError(f"an unknown member in /{RESERVED}", m.raw_name)
        if m.type == "dir" or m.name == "":
            continue
        info = files.get("/" + m.name)
        if info is None:
            raise ImageError(f"is not listed in {META}", m.raw_name)
        if info["type"] != m.type:
            raise ImageError(f"is a {m.type}, {META} says {info['type']}", m.raw_name)
    for path, info in files.items():
        m = image.by_name.get(path.strip("/"))
        if m is None:
            raise ImageError(f"{META} lists it, the image does not have it", path)
        if info["type"] == "symlink":
            if m.link != info["target"]:
                raise ImageError(f"symlink target {m.link!r}, {META} says {info['target']!r}", m.raw_name)
        elif m.size != info["size"] or (check_data and _sha256(reader, m) != info["sha256"]):
            raise ImageError(f"does not match the size and sha256 {META} gives", m.raw_name)
    entry = meta["app"]["entry"]
    try:
        where = resolve(entry, image.kind_of)
    except (PathEscape, PathLoop, NotADir):
        where = None
    m = image.by_name.get(where.strip("/")) if where else None
    if m is None or m.type not in ("file", "hardlink"):
        raise ImageError(f"the entry {entry} is not a regular file in the image", META)
    pages = (meta.get("http") or {}).get("pages")
    if pages is not None:
        try:
            where = resolve(pages, image.kind_of)
        except (PathEscape, PathLoop, NotADir):
            where = None
        if where is None or where.strip("/") not in image.dirs:
            raise ImageError(f"http.pages {pages} is not a directory in the image", META)
