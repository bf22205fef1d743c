"""`xax-emu serve` at the HTTP level: launching an app from its image's URL, the
/.xax/ID/ namespace, apps that serve HTTP through xabi_accept, pass-through to the
origin, the lifecycle, and hostile apps and pages (docs/serve.md).  The browser
tests (Chromium, nginx) build on these."""
from __future__ import annotations

import os
import re
import socket
import time

import pytest

from loopback import HttpOrigin
from serve_support import Serve, pack_xax_app, raw_exchange, request

HANG = 60  # seconds: a hang detector, never a speed assertion


@pytest.fixture(scope="module")
def httpd_image(build, tmp_path_factory):
    return pack_xax_app(build, tmp_path_factory.mktemp("httpd"), "xax/httpd.c", "httpd").read_bytes()


@pytest.fixture
def origin(httpd_image):
    with HttpOrigin() as o:
        o.add("/apps/httpd.tar", httpd_image)
        o.add("/hello.txt", b"hello from the origin\n")
        yield o


def launch(address: str, url: str, **kw) -> str:
    r = request(address, "GET", url + "?xax", **kw)
    assert r.status == 302, (r.status, r.body)
    loc = r.headers["location"]
    assert re.fullmatch(r"/\.xax/[0-9a-f]{32}/", loc)
    return loc


def test_launch_through_the_proxy_and_talk_to_the_app(origin, tmp_path):
    with Serve(cache_dir=tmp_path) as serve:
        base = launch(serve.address, origin.base + "/apps/httpd.tar")
        page = request(serve.address, "GET", origin.base + base)
        assert page.status == 200 and b"hello from a picoprocess" in page.body
        assert page.headers["content-type"] == "text/html"
        echo = request(serve.address, "POST", origin.base + base + "echo?q=1", body=b"the body",
                       headers={"X-Test": "yes"})
        assert echo.status == 200
        head, _, body = echo.body.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"POST /echo?q=1 HTTP/1.1"  # the instance's prefix is gone
        assert b"x-test: yes" in lines and b"connection: close" in lines
        assert body == b"the body"
        stream = request(serve.address, "GET", origin.base + base + "stream")
        assert stream.body == b"".join(b"piece %02d\n" % i for i in range(20))
        big = request(serve.address, "GET", origin.base + base + "big")
        assert big.body == b"b" * (4 << 20) and big.headers["content-length"] == str(4 << 20)
        serve.wait_for(r"instance [0-9a-f]{32} started: httpd from http://127\.0\.0\.1:\d+/apps/httpd\.tar", 5)


def test_many_requests_on_one_kept_alive_connection(origin, tmp_path):
    import http.client
    with Serve(cache_dir=tmp_path) as serve:
        base = launch(serve.address, origin.base + "/apps/httpd.tar")
        conn = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=HANG)
        counts = []
        for _ in range(5):
            conn.request("GET", origin.base + base + "count")
            resp = conn.getresponse()
            counts.append(int(resp.read()))
        conn.request("GET", origin.base + "/hello.txt")  # a pass-through on the same connection
        assert conn.getresponse().read() == b"hello from the origin\n"
        conn.close()
        assert counts == sorted(counts) and len(set(counts)) == 5  # each request its own accepted channel


def test_gateway_serves_the_origin_and_its_apps_under_its_own_address(origin, tmp_path):
    origin.redirect("/moved", origin.base + "/hello.txt")
    with Serve("--origin", origin.base, cache_dir=tmp_path) as serve:
        assert request(serve.address, "GET", "/hello.txt").body == b"hello from the origin\n"
        moved = request(serve.address, "GET", "/moved")
        assert moved.status == 302 and moved.headers["location"] == "/hello.txt"  # back into the gateway
        base = launch(serve.address, "/apps/httpd.tar")
        assert b"hello from a picoprocess" in request(serve.address, "GET", base).body
        seen = [r for r in origin.requests if r.path == "/hello.txt"]
        host = {k.lower(): v for k, v in seen[0].headers.items()}["host"]
        assert host == f"127.0.0.1:{origin.port}"  # the gateway speaks to the origin as itself


def test_pass_through_streams_and_keeps_the_origins_answer(origin, tmp_path):
    body = os.urandom(3 << 20)
    origin.add("/blob", body, ETag='"v1"', Cache_Control="max-age=60")
    with Serve(cache_dir=tmp_path) as serve:
        r = request(serve.address, "GET", origin.base + "/blob")
        assert r.body == body and r.headers["etag"] == '"v1"' and r.headers["cache-control"] == "max-age=60"
        again = request(serve.address, "GET", origin.base + "/blob", headers={"If-None-Match": '"v1"'})
        assert again.status == 304 and again.body == b""  # the browser's conditional request reached the origin
        missing = request(serve.address, "GET", origin.base + "/nope")
        assert missing.status == 404


def test_an_instance_answers_only_under_its_id_and_its_origin(origin, tmp_path):
    with HttpOrigin() as other:
        other.add("/x", b"other")
        with Serve(cache_dir=tmp_path) as serve:
            base = launch(serve.address, origin.base + "/apps/httpd.tar")
            iid = base.split("/")[2]
            # The same ID through another origin (here: another port of the same host) is unknown there.
            assert request(serve.address, "GET", other.base + base).status == 404
            assert request(serve.address, "GET", f"http://localhost:{origin.port}{base}").status == 404
            wrong = iid[:-1] + ("0" if iid[-1] != "0" else "1")
            assert request(serve.address, "GET", f"{origin.base}/.xax/{wrong}/").status == 404
            assert request(serve.address, "GET", f"{origin.base}/.xax/not-an-id/").status == 404
            assert request(serve.address, "GET", f"{origin.base}/.xax/").status == 404
            assert request(serve.address, "GET", f"{origin.base}{base}.xax/anything").status == 404
            count = request(serve.address, "GET", origin.base + base + "count")
            assert count.body == b"1\n"  # none of the refused requests reached the app
            assert other.requests == [] and all("/.xax/" not in r.path for r in origin.requests)


def test_the_lifecycle_script_and_a_held_page(origin, tmp_path):
    with Serve(cache_dir=tmp_path) as serve:
        script = request(serve.address, "GET", origin.base + "/.xax/xax.js")
        assert script.status == 200 and b"EventSource" in script.body
        assert script.headers["content-type"].startswith("text/javascript")
        base = launch(serve.address, origin.base + "/apps/httpd.tar")
        held = socket.create_connection(("127.0.0.1", serve.port), timeout=HANG)
        held.sendall(f"GET {origin.base}{base}.xax/alive HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert held.recv(4096).startswith(b"HTTP/1.1 200 ")
        time.sleep(3)  # longer than the grace period: a held instance stays
        assert request(serve.address, "GET", origin.base + base).status == 200
        held.close()  # the page is gone
        serve.wait_for(rf"instance {base.split('/')[2]} ended: its page is gone", 5 + 2)
        assert request(serve.address, "GET", origin.base + base).status == 404


def test_an_instance_no_page_holds_ends_at_the_idle_limit(origin, tmp_path):
    with Serve("--idle-seconds", "1", cache_dir=tmp_path) as serve:
        base = launch(serve.address, origin.base + "/apps/httpd.tar")
        serve.wait_for(rf"instance {base.split('/')[2]} ended: idle", HANG)


def test_hostile_apps_harm_neither_the_monitor_nor_other_instances(origin, tmp_path):
    with Serve("--app-timeout", "2", cache_dir=tmp_path) as serve:
        bad = launch(serve.address, origin.base + "/apps/httpd.tar")
        good = launch(serve.address, origin.base + "/apps/httpd.tar")
        assert request(serve.address, "GET", origin.base + bad + "malformed").status == 502
        assert request(serve.address, "GET", origin.base + bad + "half").status == 502
        assert request(serve.address, "GET", origin.base + bad + "hang").status == 504
        # A flood: read a little, then go away; the app's writes then fail, and it goes on.
        with socket.create_connection(("127.0.0.1", serve.port), timeout=HANG) as s:
            s.sendall(f"GET {origin.base}{bad}flood HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            got = b""
            while len(got) < 1 << 20:
                got += s.recv(65536)
        assert request(serve.address, "GET", origin.base + bad + "count").status == 200
        # Dying mid-response: the browser's connection closes short, and the instance is over.
        died = raw_exchange(serve.address, f"GET {origin.base}{bad}die HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert died.startswith(b"HTTP/1.1 200 ") and b"half a body" in died
        serve.wait_for(rf"instance {bad.split('/')[2]} ended: the app exited: status 3", HANG)
        assert request(serve.address, "GET", origin.base + bad).status == 404
        assert b"hello from a picoprocess" in request(serve.address, "GET", origin.base + good).body


def test_hostile_pages_get_4xx_and_the_monitor_goes_on(origin, tmp_path):
    with Serve("--request-timeout", "2", cache_dir=tmp_path) as serve:
        addr = serve.address
        assert raw_exchange(addr, b"\x16\x03\x01 not http\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        smuggle = (f"POST {origin.base}/hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n").encode()
        assert raw_exchange(addr, smuggle).startswith(b"HTTP/1.1 400 ")
        huge = f"GET {origin.base}/hello.txt HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * (64 << 10)}\r\n\r\n".encode()
        assert raw_exchange(addr, huge).startswith(b"HTTP/1.1 431 ")
        # slowloris: half a head, then nothing
        with socket.create_connection(("127.0.0.1", serve.port), timeout=HANG) as s:
            s.sendall(f"GET {origin.base}/hello.txt HTTP/1.1\r\nHost: x\r\n".encode())
            assert s.recv(4096).startswith(b"HTTP/1.1 408 ")
        assert request(addr, "GET", "/hello.txt").status == 400  # not a proxy request
        assert request(addr, "GET", origin.base + "/hello.txt").body == b"hello from the origin\n"
        assert origin.requests and all(r.path == "/hello.txt" and r.method == "GET" for r in origin.requests)


def test_max_instances_and_an_unlaunchable_url(origin, tmp_path):
    origin.add("/not-an-image", b"just bytes")
    with Serve("--max-instances", "2", cache_dir=tmp_path) as serve:
        launch(serve.address, origin.base + "/apps/httpd.tar")
        launch(serve.address, origin.base + "/apps/httpd.tar")
        assert request(serve.address, "GET", origin.base + "/apps/httpd.tar?xax").status == 503
        assert request(serve.address, "GET", origin.base + "/missing.tar?xax").status == 404
        assert request(serve.address, "GET", origin.base + "/not-an-image?xax").status in (415, 502)


def test_nothing_is_left_running_when_serve_exits(origin, tmp_path):
    serve = Serve(cache_dir=tmp_path)
    try:
        for _ in range(3):
            launch(serve.address, origin.base + "/apps/httpd.tar")
        children = _children(serve.proc.pid)
        assert len(children) >= 3
    finally:
        serve.close()
    assert serve.proc.returncode == 0
    assert "Traceback" not in serve.log()
    deadline = time.monotonic() + HANG
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children)
    serve.wait_for(r"ended: serve is shutting down", 1)


def _children(pid: int) -> list[int]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            out += [int(c) for c in open(f"/proc/{pid}/task/{task}/children").read().split()]
        except FileNotFoundError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


# -- programs that do not speak HTTP: the [http] interfaces ------------------------------------

BUSYBOX_STDIO = '''
[http]
interface = "stdio"
endpoint = "/run"
content_type = "text/plain"
max_body = "64K"
max_output = "1M"
args = ["{applet}", "{a}", "{b}"]

[http.params.applet]
pattern = "tr|false|head|yes"
max_length = 8

[http.params.a]
pattern = "[a-z0-9-]{1,8}"
default = "a-z"

[http.params.b]
pattern = "[A-Z0-9-]{1,8}"
default = "A-Z"
'''


@pytest.fixture(scope="module")
def busybox_stdio_image(tmp_path_factory):
    from xax_emu.image import pack_image
    work = tmp_path_factory.mktemp("bbstdio")
    manifest = work / "bb.toml"
    manifest.write_text('[app]\nname = "bb"\nentry = "/bin/busybox"\nargs = []\ncwd = "/"\nprofile = "static-libc"\n'
                        f'\n[files]\n"/bin/busybox" = "/bin/busybox"\n{BUSYBOX_STDIO}')
    pack_image(str(manifest), str(work / "bb.tar"))
    return (work / "bb.tar").read_bytes()


def test_the_stdio_interface_runs_one_picoprocess_per_request(origin, busybox_stdio_image, tmp_path):
    origin.add("/apps/bb.tar", busybox_stdio_image)
    with Serve(cache_dir=tmp_path) as serve:
        base = launch(serve.address, origin.base + "/apps/bb.tar")
        ok = request(serve.address, "POST", origin.base + base + "run?applet=tr", body=b"shout this\n")
        assert (ok.status, ok.headers["content-type"], ok.body) == (200, "text/plain", b"SHOUT THIS\n")
        mapped = request(serve.address, "POST", origin.base + base + "run?applet=tr&a=a-e&b=0-4", body=b"abcdef")
        assert mapped.body == b"01234f"
        failed = request(serve.address, "POST", origin.base + base + "run?applet=false", body=b"")
        assert failed.status == 500 and b"exited with status 1" in failed.body
        # parameters reach argv only through their patterns: each refusal names the parameter
        for query, name in (("applet=sh", "applet"), ("applet=tr&a=;rm", "a"), ("a=a-z", "applet"),
                            ("applet=tr&a=" + "a" * 300, "a")):
            bad = request(serve.address, "POST", origin.base + base + "run?" + query, body=b"x")
            assert bad.status == 400 and name.encode() in bad.body, (query, bad.body)
        too_big = request(serve.address, "POST", origin.base + base + "run?applet=tr", body=b"x" * (65 << 10))
        assert too_big.status == 413
        flood = request(serve.address, "POST", origin.base + base + "run?applet=yes", body=b"")
        assert flood.status == 502 and b"more than 1048576 bytes" in flood.body
        assert request(serve.address, "GET", origin.base + base + "elsewhere").status == 404


def test_connect_tunnels_tls_untouched_and_serves_plain_http_inside(origin, tmp_path):
    from loopback import TcpServer
    with TcpServer() as tls_peer, Serve(cache_dir=tmp_path) as serve:
        # TLS inside (a first byte 0x16): relayed as it is to the named host and port
        with socket.create_connection(("127.0.0.1", serve.port), timeout=HANG) as s:
            s.sendall(f"CONNECT 127.0.0.1:{tls_peer.port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert s.recv(4096).startswith(b"HTTP/1.1 200 ")
            hello = b"\x16\x03\x01\x00\x05hello END\n"
            s.sendall(hello)
            got = b""
            while chunk := s.recv(4096):
                got += chunk
            assert got == b"HELLO\n" + hello.upper()  # the peer's greeting, then its answer, both untouched
            assert tls_peer.received == [hello]
        # plain HTTP inside (Chromium's ws:// through a proxy): served as requests to that origin
        with socket.create_connection(("127.0.0.1", serve.port), timeout=HANG) as s:
            s.sendall(f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert s.recv(4096).startswith(b"HTTP/1.1 200 ")
            s.sendall(f"GET /apps/httpd.tar?xax HTTP/1.1\r\nHost: 127.0.0.1:{origin.port}\r\n\r\n".encode())
            head = s.recv(4096)
            assert head.startswith(b"HTTP/1.1 302 ") and b"location: /.xax/" in head
