"""`xax-emu serve` under 50 pages at once (issue 11: "limits per instance and across
instances hold under 50 concurrent pages"): every page is answered — launched or refused with
a 503 that names the limit, never anything else — every request of a launched page is served,
each picoprocess carries its image's own limit, the across-instance limits (--max-instances,
--memory-budget) are never exceeded, and once the pages are gone serve is back where it
started: no child, no fd, no thread left.  Counts, not speed: benchmarks/bench_serve.py
times the same load."""
from __future__ import annotations

import re
import socket
import threading

import pytest

from loopback import HttpOrigin
from serve_support import Serve, children, open_fds, pack_xax_app, request, settled

PAGES = 50
REQUESTS = 5
HANG = 120           # seconds: a hang detector, never a speed assertion
MEMORY = 64 << 20    # each image's [limits] memory
LIMITS = f'\n[limits]\nmemory = "{MEMORY >> 20}M"\n'


@pytest.fixture(scope="module")
def httpd_image(build, tmp_path_factory):
    return pack_xax_app(build, tmp_path_factory.mktemp("httpd"), "xax/httpd.c", "httpd", LIMITS).read_bytes()


@pytest.fixture(scope="module")
def sleeper_image(tmp_path_factory):
    """busybox's sleep behind the stdio interface: a request that holds its picoprocess a while."""
    from xax_emu.image import pack_image
    work = tmp_path_factory.mktemp("sleeper")
    manifest = work / "sleeper.toml"
    manifest.write_text('[app]\nname = "sleeper"\nentry = "/bin/busybox"\nargs = ["sleep"]\ncwd = "/"\n'
                        'profile = "static-libc"\n\n[files]\n"/bin/busybox" = "/bin/busybox"\n' + LIMITS +
                        '\n[http]\ninterface = "stdio"\nendpoint = "/run"\nargs = ["{s}"]\n\n'
                        '[http.params.s]\npattern = "[0-9]"\n')
    pack_image(str(manifest), str(work / "sleeper.tar"))
    return (work / "sleeper.tar").read_bytes()


@pytest.fixture
def origin(httpd_image, sleeper_image):
    with HttpOrigin() as o:
        o.add("/apps/httpd.tar", httpd_image)
        o.add("/apps/sleeper.tar", sleeper_image)
        yield o


def at_rest(serve: Serve) -> tuple[int, int, int]:
    """(children, open fds, threads) of the serve process."""
    pid = serve.proc.pid
    threads = int(re.search(r"^Threads:\s+(\d+)", open(f"/proc/{pid}/status").read(), re.M)[1])
    return len(children(pid)), open_fds(pid), threads


def steady(serve: Serve, origin) -> tuple[int, int, int]:
    """at_rest() of a serve that is up and idle: after one answered request (its accepting
    thread runs), once the reading stays the same (that request's thread is gone)."""
    assert request(serve.address, "GET", origin.base + "/.xax/xax.js").status == 200
    last, same = None, 0
    while same < 3:
        now = at_rest(serve)
        same = same + 1 if now == last else 0
        last = now
        threading.Event().wait(0.1)
    return last


def address_space_limit(pid: int) -> int:
    with open(f"/proc/{pid}/limits") as f:
        line = next(l for l in f if l.startswith("Max address space"))
    return int(line.split()[3])


def hold(serve: Serve, url: str) -> socket.socket:
    """A page's lifecycle connection (what /.xax/xax.js holds), through the proxy."""
    s = socket.create_connection(("127.0.0.1", serve.port), timeout=HANG)
    s.sendall(f"GET {url}.xax/alive HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert s.recv(4096).startswith(b"HTTP/1.1 200 ")
    return s


@pytest.mark.parametrize("limit, admitted, says", [
    (("--max-instances", "40"), 40, b"40 instances are running"),
    (("--memory-budget", f"{10 * MEMORY >> 20}M"), 10, b"memory budget"),
], ids=["max-instances", "memory-budget"])
def test_fifty_pages_at_once_are_served_within_the_limits_and_leave_nothing(origin, tmp_path, limit, admitted, says):
    with Serve(*limit, cache_dir=tmp_path) as serve:
        start = steady(serve, origin)
        launched: dict[int, str] = {}
        refused: list[tuple[int, bytes]] = []
        served: list[int] = []
        failures: list[str] = []
        lock = threading.Lock()
        all_in, go, answered, leave = (threading.Barrier(PAGES + 1) for _ in range(4))

        def page(i: int) -> None:
            held = None
            try:
                r = request(serve.address, "GET", origin.base + "/apps/httpd.tar?xax", timeout=HANG)
                if r.status == 302:
                    held = hold(serve, origin.base + r.headers["location"])
                    with lock:
                        launched[i] = r.headers["location"]
                else:
                    with lock:
                        refused.append((r.status, r.body))
                all_in.wait()
                go.wait()
                for _ in range(REQUESTS if i in launched else 0):
                    got = request(serve.address, "GET", origin.base + launched[i], timeout=HANG)
                    with lock:
                        if got.status == 200 and b"hello from a picoprocess" in got.body:
                            served.append(i)
                        else:
                            failures.append(f"page {i}: {got.status} {got.body[:100]!r}")
                answered.wait()
                leave.wait()  # (the pages stay while the test reads their picoprocesses' limits)
            except Exception as e:  # noqa: BLE001 - collected and asserted on below
                with lock:
                    failures.append(f"page {i}: {e!r}")
                for barrier in (all_in, go, answered, leave):
                    barrier.abort()
            finally:
                if held is not None:
                    held.close()

        pages = [threading.Thread(target=page, args=(i,), daemon=True) for i in range(PAGES)]
        for t in pages:
            t.start()
        try:
            all_in.wait(HANG)  # every page has launched or been refused, and holds its instance
            running = children(serve.proc.pid)
            go.wait(HANG)
            answered.wait(HANG)  # every instance has answered, so its boot block has set its limits
            limits = {address_space_limit(pid) for pid in running}
            leave.wait(HANG)
        except threading.BrokenBarrierError:
            pytest.fail(f"a page failed: {failures[:5]}")
        for t in pages:
            t.join(HANG)
        assert not failures, failures[:5]
        assert len(launched) == admitted and len(set(launched.values())) == admitted
        assert len(refused) == PAGES - admitted
        assert all(status == 503 and says in body for status, body in refused), refused[:3]
        assert len(running) == admitted and limits == {MEMORY}  # each picoprocess bounded as its image says
        assert len(served) == admitted * REQUESTS
        # the pages are gone: every instance ends, and serve holds nothing more than at its start
        assert settled(lambda: serve.count(r"ended: its page is gone"), admitted, HANG) == admitted
        assert serve.count(r"instance [0-9a-f]{32} started") == admitted
        assert settled(lambda: at_rest(serve), start, HANG) == start
        assert request(serve.address, "GET", origin.base + "/apps/httpd.tar?xax").status == 302  # and goes on


def test_the_memory_budget_bounds_stdio_picoprocesses_under_fifty_pages(origin, tmp_path):
    """Each request to a stdio endpoint is a picoprocess: 50 at once against a budget for 3."""
    budget = 3
    with Serve("--memory-budget", f"{budget * MEMORY >> 20}M", cache_dir=tmp_path) as serve:
        start = steady(serve, origin)
        r = request(serve.address, "GET", origin.base + "/apps/sleeper.tar?xax")
        assert r.status == 302
        held = hold(serve, origin.base + r.headers["location"])  # its page, there throughout
        run = origin.base + r.headers["location"] + "run?s=2"
        answers: list[tuple[int, bytes]] = []
        lock = threading.Lock()
        ready = threading.Barrier(PAGES)
        peak, done = [], threading.Event()

        def page() -> None:
            ready.wait(HANG)
            got = request(serve.address, "POST", run, body=b"", timeout=HANG)
            with lock:
                answers.append((got.status, got.body))

        def sample() -> None:  # how many picoprocesses run at once, while the pages wait
            while not done.is_set():
                peak.append(len(children(serve.proc.pid)))
                done.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        pages = [threading.Thread(target=page, daemon=True) for _ in range(PAGES)]
        for t in pages:
            t.start()
        for t in pages:
            t.join(HANG)
        done.set()
        sampler.join(HANG)
        statuses = sorted(status for status, _ in answers)
        assert len(answers) == PAGES
        assert set(statuses) <= {200, 503}, statuses
        assert statuses.count(200) >= 1 and statuses.count(503) >= 1, statuses
        assert all(b"memory budget" in body for status, body in answers if status == 503)
        assert all(body == b"" for status, body in answers if status == 200)  # sleep writes nothing
        assert peak and max(peak) <= budget, max(peak)
        held.close()  # the page leaves: its instance ends, and serve holds nothing more than at its start
        serve.wait_for(r"ended: its page is gone", HANG)
        assert settled(lambda: at_rest(serve), start, HANG) == start
