#!/usr/bin/env python3
"""Build the demo site: the article's four apps and the three unmodified servers of images/
packed as images, with what their
pages need, in a directory any static HTTP server (nginx, a CDN, `python3 -m http.server`) can
serve as the apps' origin; `xax-emu serve` then launches them from there.

Usage: python3 tools/demo_site.py [OUT]      (default: build/site)

    OUT/index.html            links that launch each app (APP.tar?xax)
    OUT/apps/NAME.tar         espeak-ng, python3, ghostscript, gldemo; httpserver, guestbook, lighttpd
    OUT/docs/sample.pdf       the document the GhostScript viewer shows
"""
from __future__ import annotations

import html
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xax_emu import runtime  # noqa: E402
from xax_emu.image import load_manifest, pack_image  # noqa: E402

APPS = ("espeak-ng", "python3", "ghostscript", "gldemo", "httpserver", "guestbook", "lighttpd")


def build(name: str) -> Path:
    """Build what images/NAME builds (its Makefile, against this tree's runtime); its manifest."""
    directory = ROOT / "images" / name
    if (directory / "Makefile").exists():
        subprocess.run(["make", "-s", "-C", str(directory), f"XAX_INCLUDE={runtime.include_dir()}",
                        f"LIBXAX={runtime.libxax()}"], check=True)
    return directory / "manifest.toml"


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else ROOT / "build" / "site")
    (out / "apps").mkdir(parents=True, exist_ok=True)
    (out / "docs").mkdir(exist_ok=True)
    links = []
    for name in APPS:
        manifest = build(name)
        result = pack_image(str(manifest), str(out / "apps" / f"{name}.tar"))
        print(f"demo_site: {name}: {result.files} files, {result.bytes >> 20} MiB, id {result.id[:16]}",
              file=sys.stderr)
        title = load_manifest(manifest).name
        links.append(f'<li><a href="apps/{html.escape(name)}.tar?xax">{html.escape(title)}</a></li>')
    shutil.copyfile(ROOT / "images" / "ghostscript" / "build" / "docs" / "sample.pdf", out / "docs" / "sample.pdf")
    (out / "index.html").write_text(
        "<!doctype html><meta charset=utf-8><title>Legacy apps, sealed, behind their pages</title>\n"
        "<h1>Legacy apps behind their pages</h1>\n<p>Each link launches the app in a sealed picoprocess "
        "(<code>xax-emu serve</code> must be the browser's proxy, or the gateway for this site).</p>\n"
        f"<ul>\n{chr(10).join(links)}\n</ul>\n")
    print(f"demo_site: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
