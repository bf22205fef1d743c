"""Fuzz target `image`: an image's bytes as the Monitor receives them from an origin.

The first byte picks what the rest is:
  0  a whole tar, as it is;
  1  a whole tar whose ustar headers get their checksums fixed first, so that the
     fuzzer's changes reach what lies behind the checksum (names, sizes, pax, links);
  2  the bytes of .xax/meta.json, given to parse_meta;
  3  the bytes of .xax/meta.json inside an otherwise valid image (validate's checks of
     the members against the metadata);
  4  a member list: a few members of fuzzed name, type, link and data around a valid
     image's own.
Allowed: ImageError (one line: validate's contract).  Checked for an image that is
accepted: every member name is relative and normalized, without '..'; the entry is a
regular file of the image; what parse_meta accepted is an object of the schema.
"""
from __future__ import annotations

import json

from fuzzlib import Reader, check
from image_support import APP, file_info, fix_checksum, image, member, meta, pax, pax_record

from xax_emu.image import ImageError, validate
from xax_emu.image.validate import parse_meta

NAME = "image"
INSTRUMENT = ("xax_emu.image",)

TYPEFLAGS = (b"0", b"\0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"L", b"K", b"x", b"g", b"V", b"S", b"M")
NAMES = ("bin/app", "bin/", "a", "./a", "a/../b", "/abs", "d/", "d/x", ".xax/meta.json", ".xax/layer", ".xax/",
         ".xax/pad/0", "l", "h", "", ".", "..", "a" * 100, "b" * 256)


def _fix_checksums(data: bytes) -> bytes:
    out = bytearray(data)
    for off in range(0, len(out) - 511, 512):
        block = out[off:off + 512]
        if block[257:262] == b"ustar":
            fix_checksum(block)
            out[off:off + 512] = block
    return bytes(out)


def _members(r: Reader) -> list[bytes]:
    out = []
    for _ in range(r.u8() % 6):
        kind = r.u8() % 4
        name = r.choose(NAMES) if r.u8() % 2 else r.text(120)
        typeflag = r.choose(TYPEFLAGS)
        link = r.choose(NAMES) if r.u8() % 2 else r.text(120)
        data = r.blob(600) if typeflag in (b"0", b"\0", b"7", b"x", b"g", b"L", b"K") else b""
        enc = name.encode("utf-8", "surrogateescape")[:100]
        if kind == 0:
            out.append(pax(pax_record(r.choose(("path", "linkpath", "size", "mtime", "x")), r.text(300))
                           + (pax_record("size", r.text(24)) if r.u8() & 1 else b""), r.choose((b"x", b"g"))))
        out.append(member(enc, data, typeflag, link.encode("utf-8", "surrogateescape")[:100]))
    return out


def _check_accepted(img) -> None:
    for m in img.members:
        check(not m.name.startswith("/") and ".." not in m.name.split("/"), f"accepted member name {m.raw_name!r}")
        check(m.name == "/".join(x for x in m.name.split("/") if x not in ("", ".")), f"unnormalized {m.name!r}")
    entry = img.meta["app"]["entry"]
    check(img.kind_of(entry) is not None, f"accepted an entry {entry!r} that is not in the image")


def one_input(data: bytes) -> None:
    r = Reader(data)
    mode = r.u8() % 5
    try:
        if mode == 2:
            parsed = parse_meta(r.rest())
            check(isinstance(parsed, dict) and isinstance(parsed.get("files"), dict), "parse_meta accepted a non-schema")
            return
        if mode == 0:
            tar = r.rest()
        elif mode == 1:
            tar = _fix_checksums(r.rest())
        elif mode == 3:
            tar = image([], meta_bytes=r.rest())
        else:
            check_data = bool(r.u8() & 1)
            members = _members(r)
            listed = {}
            try:
                listed = json.loads(r.rest() or b"{}")
            except ValueError:
                pass
            tar = image(members, listed=listed if isinstance(listed, dict) else {})
            _check_accepted(validate(tar, check_data=check_data))
            return
        _check_accepted(validate(tar))
    except ImageError as e:
        check("\n" not in str(e) and "\r" not in str(e), "an ImageError of more than one line")


def seeds() -> list[bytes]:
    good = image([member("lib/", typeflag=b"5"), member("lib/x", b"x"),
                  member("l", typeflag=b"2", link="/bin/app")],
                 listed={"/lib/x": file_info(b"x"), "/l": {"type": "symlink", "target": "/bin/app"}})
    long = image([pax(pax_record("path", "p/" + "y" * 200)) + member("short", b"y")],
                 listed={"/p/" + "y" * 200: file_info(b"y")})
    meta_text = json.dumps(meta({"/bin/app": file_info(APP)}, http={
        "interface": "stdio", "pages": None, "endpoint": "/run", "args": ["-r{dpi}"],
        "params": {"dpi": {"pattern": "[0-9]{1,3}", "default": "72", "max_length": 8}},
        "content_type": "text/plain", "max_body": 1024, "max_output": 4096})).encode()
    return [b"\0" + good, b"\1" + long, b"\2" + meta_text, b"\3" + meta_text,
            b"\4\1" + bytes([3, 1, 0, 1, 2, 0, 1, 5, 1, 0]) + b"{}"]
