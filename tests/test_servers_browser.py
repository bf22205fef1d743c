"""Unmodified Debian servers behind their pages (issue 12): `python3 -m http.server` serving the
files of its image, a guestbook on the standard library's wsgiref keeping its entries on the RAM
disk, and lighttpd with a one-process config — each an image in images/ that serves HTTP itself
on a socket of its own, sealed, its listening socket taking the page's connections through
`xax-emu serve`.  Debian's chromium (headless, Playwright) uses each page as a person would,
through serve as its proxy and as a gateway, with Debian's nginx as the origin; every response
the browser got is compared with the same server run natively, sent the same request: the same
status, headers and body bytes, but the date (and the hop-by-hop headers, which belong to each
connection: serve re-frames the response for the browser's)."""
from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from browser_support import free_port, wait_for_port
from image_support import IMAGES
from test_serve_browser import INSTANCE, Serve, serve_available
from xax_emu.image import pack_image

PYTHON = "/usr/bin/python3.11"
LIGHTTPD = "/usr/sbin/lighttpd"
SERVERS = ("httpserver", "guestbook", "lighttpd")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "date", "proxy-connection"}


def build(name: str, work: Path) -> Path:
    """images/NAME copied (mtimes kept: they are Last-Modified) and built; the copy's directory."""
    dst = work / name
    if not dst.exists():
        shutil.copytree(IMAGES / name, dst, ignore=shutil.ignore_patterns("build", "*.tar"))
        if (dst / "Makefile").exists():
            subprocess.run(["make", "-s", "-C", str(dst)], check=True, capture_output=True)
        for f in dst.rglob("*"):  # whole seconds, as a tar keeps them (lighttpd's ETag reads the nanoseconds)
            st = f.stat()
            os.utime(f, (int(st.st_atime), int(st.st_mtime)))
    return dst


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    serve_available()
    for program in (PYTHON, LIGHTTPD):
        if not Path(program).exists():
            pytest.fail(f"{program} is missing (bootstrap.sh installs it)")
    work = tmp_path_factory.mktemp("servers")
    root = work / "site"
    (root / "apps").mkdir(parents=True)
    for name in SERVERS:
        pack_image(str(build(name, work) / "manifest.toml"), str(root / "apps" / f"{name}.tar"))
    (root / "index.html").write_text("<!doctype html><title>servers</title>\n")
    return root, work


@pytest.fixture(params=["proxy", "gateway"])
def web(request, site, nginx_factory, chromium_factory, tmp_path):
    root, _ = site
    nginx = nginx_factory(root)
    if request.param == "proxy":
        serve = Serve(tmp_path, None)
        browser, base = chromium_factory(proxy_port=serve.port), nginx.base
    else:
        serve = Serve(tmp_path, nginx.base)
        browser, base = chromium_factory(), f"http://127.0.0.1:{serve.port}"
    yield browser, base, serve
    status = serve.stop()
    assert status in (0, -15), f"serve ended with {status}: {serve.log.read_text(errors='replace')[-2000:]}"


# -- the same servers, natively --------------------------------------------------------------------

class Native:
    """The server of an image run natively on a free loopback port, with the image's files."""

    def __init__(self, name: str, work: Path):
        src = work / name
        self.port = free_port()
        self.dir = work / f"native-{name}-{self.port}"
        self.dir.mkdir()
        env = {"LC_ALL": "C"}
        if name == "httpserver":
            argv = [PYTHON, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
                    "--directory", str(src / "www")]
        elif name == "guestbook":
            env["GUESTBOOK_DIR"] = str(self.dir)
            argv = [PYTHON, str(src / "app.py"), str(self.port)]
        else:  # the image's config, its document root and port the native ones
            www = self.dir / "www"
            shutil.copytree(src / "www", www)
            shutil.copy2(src / "build" / "big.txt", www / "big.txt")
            conf = (src / "etc" / "lighttpd.conf").read_text().replace('"/srv/www"', f'"{www}"')
            conf = conf.replace("server.port = 8080", f"server.port = {self.port}\nserver.bind = \"127.0.0.1\"")
            conf += f'server.upload-dirs = ("{self.dir}")\n'
            (self.dir / "lighttpd.conf").write_text(conf)
            argv = [LIGHTTPD, "-D", "-f", str(self.dir / "lighttpd.conf")]
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.proc, name)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def native(site):
    _, work = site
    started = []

    def start(name: str) -> Native:
        n = Native(name, work)
        started.append(n)
        return n

    yield start
    for n in started:
        n.stop()


def comparable(status: int, headers: dict, body: bytes):
    return status, {k.lower(): v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}, body


def seen(response):
    """What the browser got for one response: status, headers, body (a redirect's body the
    browser does not keep: the headers say it is empty, Content-Length 0, and they are compared)."""
    body = b"" if 300 <= response.status < 400 else response.body()
    return comparable(response.status, response.headers, body)


def launch(browser, base: str, app: str):
    page = browser.new_page()
    response = page.goto(f"{base}/apps/{app}.tar?xax")
    assert response is not None and response.ok, response and response.status
    m = INSTANCE.search(page.url)
    assert m and page.url.startswith(base + "/.xax/"), page.url
    return page, response


def fetch_same(page, n: Native, path: str) -> None:
    """The page's own fetch of path (relative to its instance), against the native server's answer."""
    with page.expect_response(lambda r: r.url.endswith(path)) as info:
        page.evaluate("p => fetch(p).then(r => r.arrayBuffer())", path)
    assert seen(info.value) == comparable(*n.request("GET", "/" + path)), path


# -- python3 -m http.server ----------------------------------------------------------------------------

def test_http_server_serves_its_image_files_as_natively(web, native, artifacts):
    browser, base, serve = web
    n = native("httpserver")
    page, first = launch(browser, base, "httpserver")
    assert page.title() == "http.server in a picoprocess"
    assert seen(first) == comparable(*n.request("GET", "/"))
    page.wait_for_function("document.getElementById('shown').textContent.includes('sealed')")
    for path in ("hello.txt", "data.json", "style.css", "notes/", "notes/second.txt", "missing.txt"):
        fetch_same(page, n, path)
    with page.expect_response(lambda r: r.url.endswith("/notes/")) as info:
        page.click("#notes")
    assert seen(info.value) == comparable(*n.request("GET", "/notes/"))
    assert page.eval_on_selector_all("li a", "as => as.map(a => a.textContent)") == ["first.txt", "second.txt"]
    page.screenshot(path=str(artifacts / "httpserver.png"))
    # its access log (stderr) reached serve's log, with the browser as ::ffff:127.0.0.1
    assert re.search(r"stderr: ::ffff:127\.0\.0\.1 - - .*\"GET /notes/ HTTP/1\.1\" 200", serve.log.read_text())


# -- the guestbook: wsgiref, its state on the RAM disk -------------------------------------------------

def test_guestbook_keeps_entries_on_its_ram_disk_as_natively(web, native, artifacts):
    browser, base, _ = web
    n = native("guestbook")
    page, first = launch(browser, base, "guestbook")
    assert seen(first) == comparable(*n.request("GET", "/"))
    for text in ("Hello from the browser", "A second <entry> & more"):
        page.fill("#text", text)
        with page.expect_response(lambda r: r.url.endswith("/add")) as added:
            page.click("#sign")
        form = "text=" + text.replace(" ", "+").replace("<", "%3C").replace(">", "%3E").replace("&", "%26")
        assert seen(added.value) == comparable(*n.request(
            "POST", "/add", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}))
        page.wait_for_load_state()
    shown = page.eval_on_selector_all("#entries li", "lis => lis.map(li => li.textContent)")
    assert shown == ["Hello from the browser", "A second <entry> & more"]
    fetch_same(page, n, "entries.json")
    page.reload()
    assert page.eval_on_selector_all("#entries li", "lis => lis.length") == 2  # kept: a file on the RAM disk
    fetch_same(page, n, "nothing-here")
    page.screenshot(path=str(artifacts / "guestbook.png"))


# -- lighttpd -----------------------------------------------------------------------------------------------

def test_lighttpd_serves_static_files_as_natively(web, native, artifacts):
    browser, base, _ = web
    n = native("lighttpd")
    page, first = launch(browser, base, "lighttpd")
    assert page.title() == "lighttpd in a picoprocess"
    assert seen(first) == comparable(*n.request("GET", "/"))
    page.wait_for_function("document.getElementById('size').textContent.includes('lines')")
    assert page.text_content("#size") == "big.txt: 244400 bytes, 5200 lines"
    for path in ("readme.txt", "big.txt", "style.css", "docs/", "docs/about.json", "none.html"):
        fetch_same(page, n, path)
    with page.expect_response(lambda r: r.url.endswith("/docs/")) as info:
        page.click("#docs")
    assert seen(info.value) == comparable(*n.request("GET", "/docs/"))
    page.screenshot(path=str(artifacts / "lighttpd.png"))


def test_closing_the_page_ends_the_server(web):
    """The servers' pages load /.xax/xax.js: when the tab closes, the instance and its
    server end (serve says why)."""
    browser, base, serve = web
    page, _ = launch(browser, base, "lighttpd")
    iid = INSTANCE.search(page.url).group(1)
    page.wait_for_function("window.xax && window.xax.alive.readyState === 1")
    page.close()
    deadline = time.monotonic() + 30
    while f"instance {iid} ended" not in serve.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"instance {iid} ended: its page is gone" in serve.log.read_text()
