"""The browser tests' real parts, checked on their own: Debian's nginx as an origin (ETag,
Last-Modified, 304s, Cache-Control per location, an access log) and Debian's chromium,
headless under Playwright, loading a page from it directly and through an HTTP proxy."""
import http.server
import struct
import threading
import urllib.error
import urllib.request

import pytest


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>smoke</title></head>
<body><h1 id="title">static</h1><p id="data">loading</p>
<script>
document.getElementById("title").textContent = "scripted " + (6 * 7);
fetch("data/value.txt").then(r => r.text()).then(t => { document.getElementById("data").textContent = t.trim(); });
</script></body></html>
"""


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    (root / "data").mkdir(parents=True)
    (root / "index.html").write_text(PAGE)
    (root / "data" / "value.txt").write_text("from nginx\n")
    return root


def get(url: str, **headers) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_nginx_serves_with_validators_and_cache_control_per_location(site, nginx_factory):
    n = nginx_factory(site, cache_control={"/data/": "max-age=60", "= /index.html": "no-cache"})
    status, headers, body = get(f"{n.base}/data/value.txt")
    assert (status, body) == (200, b"from nginx\n")
    assert headers["Cache-Control"] == "max-age=60" and headers["Content-Type"] == "text/plain"
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert get(f"{n.base}/data/value.txt", **{"If-None-Match": etag})[0] == 304
    assert get(f"{n.base}/data/value.txt", **{"If-Modified-Since": modified})[0] == 304
    assert get(f"{n.base}/index.html")[1]["Cache-Control"] == "no-cache"
    assert get(f"{n.base}/missing")[0] == 404
    # a changed file has a new validator: the old one no longer gives 304
    (site / "data" / "value.txt").write_text("changed, and longer\n")
    assert get(f"{n.base}/data/value.txt", **{"If-None-Match": etag})[0] == 200
    log = n.requests_when(lambda lines: len(lines) >= 6)
    assert [(r.method, r.uri, r.status) for r in log] == [
        ("GET", "/data/value.txt", 200), ("GET", "/data/value.txt", 304), ("GET", "/data/value.txt", 304),
        ("GET", "/index.html", 200), ("GET", "/missing", 404), ("GET", "/data/value.txt", 200)]
    assert log[1].if_none_match == etag and log[2].if_modified_since == modified
    # nothing of nginx's lives outside its own directory
    assert (n.dir / "nginx.pid").exists() and n.access_log.parent == n.dir


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_chromium_loads_a_page_from_nginx(site, nginx_factory, chromium, artifacts):
    n = nginx_factory(site)
    page = chromium.new_page()
    page.set_viewport_size({"width": 640, "height": 360})
    page.goto(f"{n.base}/index.html")
    page.wait_for_function("document.getElementById('data').textContent === 'from nginx'")
    assert page.text_content("#title") == "scripted 42"
    shot = artifacts / "smoke.png"
    page.screenshot(path=str(shot))
    assert png_size(shot.read_bytes()) == (640, 360)
    wanted = {("/index.html", 200), ("/data/value.txt", 200)}
    assert {(r.uri, r.status) for r in n.requests_when(lambda lines: {(r.uri, r.status) for r in lines} >= wanted)} \
        >= wanted


class RecordingProxy:
    """A forward proxy for this test alone: it answers absolute-form GETs by fetching them."""

    def __init__(self):
        self.seen: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.seen.append(self.path)
                status, headers, body = get(self.path)
                self.send_response(status)
                self.send_header("Content-Type", headers.get("Content-Type", "application/octet-stream"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_chromium_through_a_proxy_sends_loopback_there_too(site, nginx_factory, chromium_factory):
    n = nginx_factory(site)
    with RecordingProxy() as proxy:
        page = chromium_factory(proxy_port=proxy.port).new_page()
        page.goto(f"{n.base}/index.html")
        page.wait_for_function("document.getElementById('data').textContent === 'from nginx'")
    assert f"{n.base}/index.html" in proxy.seen and f"{n.base}/data/value.txt" in proxy.seen
