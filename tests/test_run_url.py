"""`xax-emu run URL`: the Monitor fetches the program from its origin (through the
HTTP cache) and that URL's origin becomes the program's origin."""
import http.server
import shutil
import subprocess
import sys
import threading

import pytest


@pytest.fixture
def origin_server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            requests.append((self.command, self.path, self.headers.get("If-Modified-Since")))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def run_cli(args, cache_dir, **kw):
    env = {"XDG_CACHE_HOME": str(cache_dir), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "xax_emu", "run", *args], capture_output=True, timeout=60,
                          env=env, **kw)


def test_run_program_from_its_url_uses_the_cache(build, origin_server, tmp_path):
    root, base, requests = origin_server
    shutil.copy(build("programs/hello.c"), root / "hello")
    first = run_cli([f"{base}/hello", "--", "x"], tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    assert b"hello from a program with 1 argument" in first.stdout
    second = run_cli([f"{base}/hello"], tmp_path / "cache")
    assert second.returncode == 0
    # The second run revalidated its cached copy instead of downloading it again.
    assert [r[2] is not None for r in requests if r[1] == "/hello"] == [False, True]


def test_run_missing_url_fails_with_one_line(origin_server, tmp_path):
    _, base, _ = origin_server
    r = run_cli([f"{base}/nothing-here"], tmp_path / "cache")
    assert r.returncode == 2
    assert r.stderr == f"xax-emu: cannot fetch the program: {base}/nothing-here: HTTP 404\n".encode()


def test_run_url_and_different_origin_refused(build, origin_server, tmp_path):
    _, base, _ = origin_server
    r = run_cli(["--origin", "http://127.0.0.2:1", f"{base}/hello"], tmp_path / "cache")
    assert r.returncode == 2
    assert b"is not on the given --origin" in r.stderr


def test_download_limit_applies_to_the_program_itself(build, origin_server, tmp_path):
    root, base, _ = origin_server
    shutil.copy(build("programs/hello.c"), root / "hello")
    r = run_cli(["--download-limit", "1K", f"{base}/hello"], tmp_path / "cache")
    assert r.returncode == 2
    assert b"exceed the download limit of 1024" in r.stderr
