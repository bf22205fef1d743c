"""Helpers for the image tests: a raw tar builder (to make images libarchive never
would), small valid images built with it, and the example apps built and packed."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from tar_corpus import APP_DATA, LAYER_DATA, meta  # noqa: F401 (meta: the tests' .xax/meta.json, one definition)

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "images"


def header(name: bytes, typeflag: bytes = b"0", size: int = 0, link: bytes = b"", mode: int = 0o644,
           magic: bytes = b"ustar\x0000", prefix: bytes = b"", size_field: bytes | None = None,
           checksum: bool = True) -> bytes:
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field if size_field is not None else b"%011o\0" % size
    h[136:148] = b"%011o\0" % 0
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[157:157 + len(link)] = link
    h[257:265] = magic
    h[345:345 + len(prefix)] = prefix
    if checksum:
        h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def fix_checksum(block: bytearray) -> None:
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


def member(name: str | bytes, data: bytes = b"", typeflag: bytes = b"0", link: str | bytes = b"", **kw) -> bytes:
    name = name.encode() if isinstance(name, str) else name
    link = link.encode() if isinstance(link, str) else link
    return header(name, typeflag, len(data), link, **kw) + padded(data)


def pax_record(key: str, value: bytes | str) -> bytes:
    value = value.encode() if isinstance(value, str) else value
    body = b" " + key.encode() + b"=" + value + b"\n"
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return str(n).encode() + body


def pax(records: bytes, typeflag: bytes = b"x") -> bytes:
    return member(b"PaxHeader/x", records, typeflag)


END = bytes(1024)
APP = APP_DATA
LAYER = LAYER_DATA


def file_info(data: bytes) -> dict:
    return {"type": "file", "size": len(data), "mode": 0o755, "mtime": 0,
            "sha256": hashlib.sha256(data).hexdigest(), "elf": data[:4] == b"\x7fELF"}


def image(members: list[bytes], listed: dict | None = None, meta_obj: dict | None = None,
          meta_bytes: bytes | None = None, end: bytes = END, app: bool = True) -> bytes:
    """A raw image: meta.json, the layer (its data on a page, after a padding member if it
    needs one), /bin/app (unless app=False), the given members (raw: they must keep the
    format's rules themselves, the order of their paths included), the end blocks.
    `listed`: more meta.json files entries, besides /bin/app."""
    files = dict(listed or {})
    if app:
        files = {"/bin/app": file_info(APP), **files}
        members = [member("bin/", typeflag=b"5"), member("bin/app", APP), *members]
    if meta_bytes is None:
        meta_bytes = json.dumps(meta_obj if meta_obj is not None else meta(files)).encode()
    first = member(".xax/meta.json", meta_bytes)
    gap = -(len(first) + 512) % 4096
    pad = member(".xax/pad/000001", bytes(gap - 512)) if gap else b""
    return first + pad + member(".xax/layer", LAYER) + b"".join(members) + end


def build_example(name: str, tmp_path: Path) -> Path:
    """Copy images/NAME to tmp_path, build its program there; returns the manifest."""
    if shutil.which("musl-gcc") is None:
        import pytest
        pytest.fail("musl-gcc is not installed (bootstrap.sh installs it)")
    dst = tmp_path / name
    shutil.copytree(IMAGES / name, dst, ignore=shutil.ignore_patterns("build", "*.tar"))
    subprocess.run(["make", "-s", "-C", str(dst)], check=True, capture_output=True)
    return dst / "manifest.toml"
