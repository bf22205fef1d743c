"""The article's four apps of images/ (espeak-ng, python3, ghostscript, gldemo): built, packed,
and what the same programs produce natively, for the sealed runs (test_webapps.py) and the
browser tests (test_serve_browser.py) to compare with."""
from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from image_support import IMAGES
from xax_emu import runtime
from xax_emu.image import load_manifest, pack

WEBAPPS = ("espeak-ng", "python3", "ghostscript", "gldemo")
PROGRAMS = {"espeak-ng": "/usr/bin/espeak-ng", "python3": "/usr/bin/python3.11", "ghostscript": "/usr/bin/gs",
            "gldemo": "/usr/lib/x86_64-linux-gnu/libOSMesa.so.8"}
FRAME_W, FRAME_H = 256, 192  # images/gldemo/render.h
PPM_HEADER = b"P6\n%d %d\n255\n" % (FRAME_W, FRAME_H)
# the bytes behind an element's blob: URL (the <audio> or <img> a page filled from a response),
# as base64: what the page received, read in the page (Playwright's copy of a fetch's body can be
# gone once the page consumed it)
READ_BLOB = """async (selector) => {
    const bytes = new Uint8Array(await (await fetch(document.querySelector(selector).src)).arrayBuffer());
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
}"""
# gldemo's page: which frame its canvas shows and the canvas's RGB, read in one task (no frame
# is drawn between the two)
READ_CANVAS = """() => {
    const c = document.getElementById("view");
    const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let rgb = "";
    for (let i = 0; i < px.length; i += 4) rgb += String.fromCharCode(px[i], px[i + 1], px[i + 2]);
    return [Number(c.dataset.frame), c.width, c.height, btoa(rgb)];
}"""


def build_app(name: str, tmp_path: Path) -> Path:
    """Copy images/NAME to tmp_path and build what it builds (its Makefile, if any), with this
    tree's runtime (libxax, xabi.h); returns the copied manifest."""
    if not Path(PROGRAMS[name]).exists():
        pytest.fail(f"{PROGRAMS[name]} is missing (bootstrap.sh installs it)")
    dst = tmp_path / name
    if not dst.exists():
        shutil.copytree(IMAGES / name, dst, ignore=shutil.ignore_patterns("build", "*.tar"))
        if (dst / "Makefile").exists():
            subprocess.run(["make", "-s", "-C", str(dst), f"XAX_INCLUDE={runtime.include_dir()}",
                            f"LIBXAX={runtime.libxax()}"], check=True, capture_output=True)
    return dst / "manifest.toml"


def pack_app(name: str, tmp_path: Path, out: Path | None = None) -> Path:
    """The app's image, packed once per tmp_path (or to `out`, packed again)."""
    manifest = build_app(name, tmp_path)
    if out is None:
        out = tmp_path / f"{name}.tar"
        if out.exists():
            return out
    out.parent.mkdir(parents=True, exist_ok=True)
    pack(manifest, out)
    return out


def app_env(name: str) -> dict[str, str]:
    return tomllib.loads((IMAGES / name / "manifest.toml").read_text())["app"].get("env", {})


def http_table(name: str) -> dict:
    """The app's [http] table as pack puts it in the image's metadata."""
    return load_manifest(IMAGES / name / "manifest.toml").http


def app_args(name: str) -> list[str]:
    return list(load_manifest(IMAGES / name / "manifest.toml").args)


def sample_pdf(tmp_path: Path) -> Path:
    """The viewer's sample document (images/ghostscript/docs/sample.ps, made into a PDF by gs)."""
    manifest = build_app("ghostscript", tmp_path)
    return manifest.parent / "build" / "docs" / "sample.pdf"


def native(argv: list[str], name: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    """The program run natively with the image's environment (nothing else of ours)."""
    return subprocess.run(argv, input=stdin, capture_output=True, env=app_env(name), timeout=120)


def native_espeak(text: bytes, http_argv: list[str]) -> bytes:
    r = native(["/usr/bin/espeak-ng", *app_args("espeak-ng"), *http_argv], "espeak-ng", stdin=text)
    assert r.returncode == 0 and r.stdout[:4] == b"RIFF", r.stderr
    return r.stdout


def native_gs(pdf: Path, http_argv: list[str]) -> subprocess.CompletedProcess:
    """gs as the image runs it, the origin's /docs/NAME read from the local file instead."""
    argv = [str(pdf) if a.startswith("/docs/") else a for a in http_argv]
    return native(["/usr/bin/gs", *app_args("ghostscript"), *argv], "ghostscript")


def native_frames(tmp_path: Path, count: int, first: int = 0) -> list[bytes]:
    """Frames first .. first+count-1 of gldemo rendered natively, as RGB bytes."""
    program = build_app("gldemo", tmp_path).parent / "build" / "gldemo"
    r = native([str(program), "frames", str(count), str(first)], "gldemo")
    assert r.returncode == 0, r.stderr
    return split_ppm(r.stdout, count)


def split_ppm(data: bytes, count: int) -> list[bytes]:
    size = len(PPM_HEADER) + FRAME_W * FRAME_H * 3
    assert len(data) == count * size, (len(data), count * size)
    frames = []
    for i in range(count):
        chunk = data[i * size:(i + 1) * size]
        assert chunk.startswith(PPM_HEADER)
        frames.append(chunk[len(PPM_HEADER):])
    return frames
