"""gldemo's page and protocol on their own, before any Monitor: the program built against a
test double of the Xax ABI over a loopback socket (tests/xax/xabi_posix.c), natively, and
Debian's chromium loading its page. The stream's messages and the canvas's pixels are the
frames gldemo renders (`frames` mode); through `xax-emu serve`, sealed: test_serve_browser.py."""
import base64
import os
import struct
import subprocess
import urllib.error
import urllib.request

import pytest

from browser_support import free_port, wait_for_port
from image_support import IMAGES
from webapps_support import FRAME_H, FRAME_W, READ_CANVAS, app_env, build_app, native_frames
from xax_emu import runtime

TESTS = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("gldemo-posix")
    build_app("gldemo", d)  # fails, saying what to install, without OSMesa
    src = IMAGES / "gldemo"
    program = d / "gldemo-posix"
    subprocess.run(["gcc", "-O2", "-Wall", "-I", str(runtime.include_dir()), "-I", str(src), "-o", str(program),
                    *(str(src / f) for f in ("main.c", "render.c", "server.c")),
                    os.path.join(TESTS, "xax", "xabi_posix.c"), "-lOSMesa"], check=True)
    port = free_port()
    proc = subprocess.Popen([str(program), "serve", str(src / "www")],
                            env={**app_env("gldemo"), "XABI_POSIX_PORT": str(port)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc, "gldemo (xabi_posix)")
        yield f"http://127.0.0.1:{port}", d
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def get(url: str, method: str = "GET") -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def messages(stream: bytes) -> list[tuple[str, bytes]]:
    out = []
    while stream:
        (n,) = struct.unpack(">I", stream[:4])
        assert len(stream) >= 4 + n, "a truncated message"
        out.append((chr(stream[4]), stream[5:4 + n]))
        stream = stream[4 + n:]
    return out


def test_the_stream_is_a_status_then_the_frames(server):
    base, d = server
    status, headers, body = get(f"{base}/frames?count=3")
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    msgs = messages(body)
    assert [m[0] for m in msgs] == ["S", "F", "F", "F"]
    assert msgs[0][1].startswith(b"Mesa llvmpipe") and msgs[0][1].endswith(b", 256x192")
    want = native_frames(d, 3, 0)
    for i, (_, args) in enumerate(msgs[1:]):
        n, w, h = struct.unpack(">IHH", args[:8])
        assert (n, w, h) == (i, FRAME_W, FRAME_H)
        assert args[8:] == want[i]


def test_its_files_and_its_refusals(server):
    base, _ = server
    status, headers, body = get(f"{base}/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert body == (IMAGES / "gldemo" / "www" / "index.html").read_bytes()
    assert get(f"{base}/gldemo.js")[2] == (IMAGES / "gldemo" / "www" / "gldemo.js").read_bytes()
    assert get(f"{base}/nothing")[0] == 404
    assert get(f"{base}/", method="POST")[0] == 405


def test_the_page_draws_the_frames_on_its_canvas(server, chromium, artifacts):
    base, d = server
    page = chromium.new_page()
    page.goto(f"{base}/")
    page.wait_for_function("document.getElementById('view').dataset.frame !== undefined")
    n1, w, h, first = page.evaluate(READ_CANVAS)
    page.wait_for_function(f"Number(document.getElementById('view').dataset.frame) >= {n1 + 3}")
    n2, _, _, second = page.evaluate(READ_CANVAS)
    page.screenshot(path=str(artifacts / "gldemo-posix.png"))
    assert (w, h) == (FRAME_W, FRAME_H) and n2 > n1
    assert base64.b64decode(first) == native_frames(d, 1, n1)[0]
    assert base64.b64decode(second) == native_frames(d, 1, n2)[0]
    assert page.text_content("#status").startswith("Mesa llvmpipe")
