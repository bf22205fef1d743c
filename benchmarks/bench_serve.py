"""7. `xax-emu serve` (issue 11's benchmarks): one real `xax-emu serve` subprocess in front of
a real nginx origin (tests/nginx_origin.py, the browser tests' own), measured beside peers in
the same run:

  launch     the launch request to the first byte of the app's answer: the libxax app
             (tests/xax/httpd.c) and benchmarks/page.c behind the websocket and stdio
             interfaces, against the same programs natively, under websocketd (unsealed)
             and as CGI
  requests   requests/s and p50/p99 of a small page from the libxax app and through the
             stdio interface, against the same programs natively, as CGI under websocketd
             and under Python's CGI server (`python3 -m http.server --cgi`)
  proxy      plain pass-through to nginx, through the proxy and the gateway, against direct
  50 pages   50 pages at once on one Monitor, each launching an instance, holding its
             lifecycle connection, making requests and leaving: served, lost, leaked
             (instances from serve's log, children and fds from /proc)

The load generator is wrk (Debian's): C on epoll, the lightest client there is for a
machine whose two cores it shares with the server, keep-alive like a browser, with its
latency percentiles and error counts read out by a Lua `done` hook; a Lua script sets the
absolute-form target a proxy needs.  The launch and 50-page clients are Python (h11's peers:
http.client, wsproto), sequential or one thread per page: they time one exchange each, and
count rather than load.
"""
from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import wsproto
import wsproto.events as wsev

from harness import PYTHON, ROOT, Section, build, cli_env, median, ms

sys.path.insert(0, str(ROOT / "tests"))  # the tests' nginx origin and serve subprocess, shared
from nginx_origin import Nginx, free_port, wait_for_port  # noqa: E402
from serve_support import Serve, children, open_fds, pack_xax_app, settled  # noqa: E402

from xax_emu.image import pack_image  # noqa: E402

LAUNCHES = 21            # rounds of launches over every row (after each row's first, cold one)
WRK_SECONDS = 4
WRK_ROUNDS = 3           # round-robin rounds of every wrk row; the medians are reported
CONNECTIONS = 8          # wrk's concurrent connections
PAGES = 50
REQUESTS_PER_PAGE = 20
SETTLE = 30.0            # seconds to wait for serve to release what a finished page held
MAX_INSTANCES = 256      # the launch rounds start 3 instances each, which end 2 s after their page (the grace)
IMAGE_MEMORY = "256M"    # each image's [limits] memory: 50 at once fit the default --memory-budget (64G)
PAGE_BODY = b"hello from a program that speaks stdio"
HTTPD_BODY = b"hello from a picoprocess"


# -- images and the site ---------------------------------------------------------------

def site(work: Path) -> tuple[Path, dict[str, Path]]:
    """nginx's root: the three images under /apps/, a small page and a 1 MiB file; and the
    native programs."""
    root = work / "site"
    (root / "apps").mkdir(parents=True, exist_ok=True)
    progs = {
        "httpd-native": build(work, "tests/xax/httpd.c", after=(str(ROOT / "tests/xax/xabi_posix.c"),),
                              name="httpd-native"),
        "page": build(work, "page.c"),
    }

    def build_for_pack(source, libc, extra):  # serve_support.pack_xax_app's build(source, libc, extra=[...])
        return build(work, f"tests/{source}", after=tuple(extra), name="httpd-xax")

    pack_xax_app(build_for_pack, work, "xax/httpd.c", "httpd", f'\n[limits]\nmemory = "{IMAGE_MEMORY}"\n')
    os.replace(work / "httpd.tar", root / "apps/httpd.tar")
    for name, http in (("page-stdio", '[http]\ninterface = "stdio"\nendpoint = "/run"\ncontent_type = "text/html"\n'),
                       ("page-ws", '[http]\ninterface = "websocket"\nendpoint = "/ws"\n')):
        args = '["-l"]' if name == "page-ws" else "[]"
        manifest = work / f"{name}.toml"
        manifest.write_text(f'[app]\nname = "{name}"\nentry = "/bin/page"\nargs = {args}\ncwd = "/"\n'
                            f'profile = "static-libc"\n\n[files]\n"/bin/page" = "{progs["page"]}"\n\n'
                            f'[limits]\nmemory = "{IMAGE_MEMORY}"\n\n{http}')
        pack_image(str(manifest), str(root / "apps" / f"{name}.tar"))
    (root / "small.html").write_bytes(b"<!doctype html><title>small</title>" + b"<p>a small page</p>\n" * 48)
    (root / "big.bin").write_bytes(os.urandom(1 << 20))
    cgi = work / "cgi" / "cgi-bin"
    cgi.mkdir(parents=True, exist_ok=True)
    (cgi / "page").write_bytes(progs["page"].read_bytes())
    (cgi / "page").chmod(0o755)
    # Python's CGI server, run as root, runs its programs as nobody: the directories down to the
    # program must let nobody through (a temporary directory is 0700); only those under the
    # system's temporary directory are opened, never a home
    tmp = Path(tempfile.gettempdir()).resolve()
    for d in (cgi.resolve(), *cgi.resolve().parents):
        if tmp not in d.parents:
            break
        d.chmod(d.stat().st_mode | 0o711)
    return root, progs


# -- clients -----------------------------------------------------------------------------

def _http(port: int, timeout: float = 60) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


def launch(conn: http.client.HTTPConnection, image: str) -> str:
    """GET IMAGE?xax on `conn` (kept alive): the instance's namespace."""
    conn.request("GET", f"{image}?xax")
    r = conn.getresponse()
    r.read()
    if r.status != 302:
        raise RuntimeError(f"launching {image}: {r.status} {r.reason}")
    return r.getheader("location")


def get_head(conn: http.client.HTTPConnection, target: str, want: bytes) -> None:
    conn.request("GET", target)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200 or want not in body:
        raise RuntimeError(f"GET {target}: {r.status} {body[:200]!r}")


def hold(port: int, base: str) -> socket.socket:
    """What a page's /.xax/xax.js does: the instance's lifecycle connection, held open (the
    gateway's Host, as a browser sends it: the page's origin is the gateway)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(f"GET {base}.xax/alive HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    head = s.recv(4096)
    if not head.startswith(b"HTTP/1.1 200 "):
        s.close()
        raise RuntimeError(f"{base}.xax/alive was not held: {head[:100]!r}")
    return s


def end_instance(port: int, base: str) -> None:
    """What a page that leaves does: its lifecycle connection closes (the instance ends 2 s later)."""
    hold(port, base).close()


def ws_first_message(port: int, target: str, t0: float | None = None) -> float:
    """A WebSocket to `target`: seconds from t0 (default: the connect) to its first text
    message (wsproto on both sides of the comparison)."""
    ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    t0 = time.perf_counter() if t0 is None else t0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(ws.send(wsev.Request(host=f"127.0.0.1:{port}", target=target)))
        while True:
            data = s.recv(65536)
            if not data:
                raise RuntimeError(f"WebSocket {target}: closed before a message")
            ws.receive_data(data)
            for ev in ws.events():
                if isinstance(ev, wsev.RejectConnection):
                    raise RuntimeError(f"WebSocket {target}: refused with {ev.status_code}")
                if isinstance(ev, wsev.TextMessage):
                    t = time.perf_counter() - t0
                    if PAGE_BODY not in ev.data.encode():
                        raise RuntimeError(f"WebSocket {target}: {ev.data[:200]!r}")
                    s.sendall(ws.send(wsev.CloseConnection(code=1000)))
                    return t


def native_first_byte(argv: list[str]) -> float:
    """fork+exec of the program to the first byte on its stdout."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    first = p.stdout.read(1)
    t = time.perf_counter() - t0
    p.stdin.close()
    p.stdout.read()
    p.wait()
    if not first:
        raise RuntimeError(f"{argv}: no output")
    return t


def native_httpd_first_byte(prog: Path) -> float:
    """The libxax app built with xabi_posix.c: exec, connect (as soon as it listens), GET /,
    its first byte."""
    port = free_port()
    t0 = time.perf_counter()
    p = subprocess.Popen([str(prog)], env={"XABI_POSIX_PORT": str(port)}, stdout=subprocess.DEVNULL)
    try:
        while True:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except ConnectionRefusedError:
                if p.poll() is not None:
                    raise RuntimeError(f"{prog} exited with {p.returncode}") from None
                time.sleep(0.0002)
        with s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            first = s.recv(1)
            t = time.perf_counter() - t0
            if not first:
                raise RuntimeError(f"{prog}: closed without an answer")
        return t
    finally:
        p.kill()
        p.wait()


def cgi_first_byte(port: int, target: str) -> float:
    conn = _http(port)
    t0 = time.perf_counter()
    conn.request("GET", target)
    r = conn.getresponse()
    t = time.perf_counter() - t0
    body = r.read()
    conn.close()
    if r.status != 200 or PAGE_BODY not in body:
        raise RuntimeError(f"GET {target} on {port}: {r.status} {body[:200]!r}")
    return t


# -- the launch rows ---------------------------------------------------------------------

def serve_launch(port: int, image: str, then: str) -> tuple[float, float]:
    """(to the 302, to the first byte of the app's answer) of one launch through the gateway:
    `then` is "page" (GET /.xax/ID/ of the libxax app), "run" (the stdio endpoint) or "ws"
    (a WebSocket to the websocket endpoint, its first message)."""
    conn = _http(port)
    t0 = time.perf_counter()
    base = launch(conn, image)
    t302 = time.perf_counter() - t0
    if then == "ws":
        conn.close()
        t = ws_first_message(port, base + "ws", t0)
    else:
        conn.request("GET", base + ("run" if then == "run" else ""))
        r = conn.getresponse()
        t = time.perf_counter() - t0
        body = r.read()
        if r.status != 200 or (HTTPD_BODY if then == "page" else PAGE_BODY) not in body:
            raise RuntimeError(f"{base}: {r.status} {body[:200]!r}")
        conn.close()
    end_instance(port, base)
    return t302, t


@dataclass
class Timed:
    first: float
    times: list[float]

    @property
    def med(self) -> float:
        return median(self.times)


# -- wrk ------------------------------------------------------------------------------

WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("xax requests %d\\nxax duration_us %d\\nxax bytes %d\\nxax connect %d\\nxax read %d\\n" ..
    "xax write %d\\nxax status %d\\nxax timeout %d\\nxax p50_us %d\\nxax p99_us %d\\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Load:
    rps: float
    p50: float        # seconds
    p99: float
    mbps: float
    errors: dict
    answers: int      # requests wrk counted as answered (summed over the runs, for med_load's)

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


def wrk(work: Path, port: int, target: str) -> Load:
    """wrk for WRK_SECONDS on CONNECTIONS connections against 127.0.0.1:port, requesting
    `target` (origin-form, or absolute-form through a proxy)."""
    script = work / "wrk.lua"
    script.write_text(f"-- generated by benchmarks/bench_serve.py\nwrk.path = {target!r}\n{WRK_DONE}")
    r = subprocess.run(["wrk", "-t", "1", "-c", str(CONNECTIONS), "-d", f"{WRK_SECONDS}s", "--timeout", "30s",
                        "-s", str(script), f"http://127.0.0.1:{port}/"], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"wrk {target}: exit {r.returncode}: {r.stderr[-1000:]}")
    v = {m[1]: int(m[2]) for m in re.finditer(r"^xax (\w+) (\d+)$", r.stdout, re.M)}
    secs = v["duration_us"] / 1e6
    errors = {k: v[k] for k in ("connect", "read", "write", "status", "timeout")}
    return Load(v["requests"] / secs, v["p50_us"] / 1e6, v["p99_us"] / 1e6, v["bytes"] / secs / 1e6, errors,
                v["requests"])


def med_load(runs: list[Load]) -> Load:
    errors = {k: sum(r.errors[k] for r in runs) for k in runs[0].errors}
    return Load(median(r.rps for r in runs), median(r.p50 for r in runs), median(r.p99 for r in runs),
                median(r.mbps for r in runs), errors, sum(r.answers for r in runs))


# -- 50 pages ----------------------------------------------------------------------------

@dataclass
class Snapshot:
    children: int
    fds: int
    threads: int
    rss_kib: int


def snapshot(pid: int) -> Snapshot:
    status = Path(f"/proc/{pid}/status").read_text()
    field = lambda name: int(re.search(rf"^{name}:\s+(\d+)", status, re.M)[1])  # noqa: E731
    return Snapshot(len(children(pid)), open_fds(pid), field("Threads"), field("VmRSS"))


@dataclass
class PagesRun:
    launched: int
    refused: dict
    served: int
    failed: list
    launch_times: list[float]
    wall: float
    peak: Snapshot


def fifty_pages(serve: Serve, image: str) -> PagesRun:
    """PAGES threads, each a page: launch, hold the lifecycle connection, wait for every
    other page to hold its own (all instances alive at once), make REQUESTS_PER_PAGE
    requests on a kept-alive connection, then leave (close both)."""
    port = serve.port
    barrier = threading.Barrier(PAGES + 1)
    left = threading.Barrier(PAGES + 1)
    lock = threading.Lock()
    out = {"launched": 0, "refused": {}, "served": 0, "failed": [], "times": []}

    def page(i: int) -> None:
        held = None
        conn = _http(port)
        try:
            try:
                t0 = time.perf_counter()
                base = launch(conn, image)
                with lock:
                    out["launched"] += 1
                    out["times"].append(time.perf_counter() - t0)
                held = hold(port, base)
            except Exception as e:  # noqa: BLE001 - counted, and shown in the section
                with lock:
                    out["refused"][str(e)[:120]] = out["refused"].get(str(e)[:120], 0) + 1
                base = None
            barrier.wait()
            if base is not None:
                for _ in range(REQUESTS_PER_PAGE):
                    try:
                        get_head(conn, base, HTTPD_BODY)
                        with lock:
                            out["served"] += 1
                    except Exception as e:  # noqa: BLE001
                        with lock:
                            out["failed"].append(f"page {i}: {e}"[:200])
                        conn.close()
                        conn = _http(port)
        finally:
            conn.close()
            left.wait()
            if held is not None:
                held.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=page, args=(i,), daemon=True) for i in range(PAGES)]
    for t in threads:
        t.start()
    barrier.wait()                   # every page has launched (or been refused) and holds its instance
    peak = snapshot(serve.proc.pid)
    left.wait()                      # every page has made its requests; they close now
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return PagesRun(out["launched"], out["refused"], out["served"], out["failed"], out["times"], wall, peak)


def quiet(serve: Serve, timeout: float = SETTLE) -> bool:
    """Until every instance serve logged as started has ended and no child is left (True), or
    `timeout` seconds (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (serve.count(r"instance [0-9a-f]{32} started") == serve.count(r"instance [0-9a-f]{32} ended")
                and not children(serve.proc.pid)):
            return True
        time.sleep(0.1)
    return False


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


# -- the section -------------------------------------------------------------------------

def _peer(argv: list[str], port: int, what: str, env: dict | None = None) -> subprocess.Popen:
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_for_port(port, p, what)
    return p


def _stop(p: subprocess.Popen) -> None:
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


@dataclass
class Results:
    launches: dict          # serve rows: Timed of (to the 302, to the first byte)
    natives: dict           # peer rows: Timed
    loads: dict             # wrk rows: Load
    pages: PagesRun | None = None
    rest: dict | None = None        # serve at rest: name -> (Snapshot, settled)
    started: int = 0
    ended: int = 0
    gone: int = 0
    traceback: bool = False
    load_avg: tuple = ()
    proxy: tuple = ()               # the proxy's serve: (before its load runs, (after, settled))


def _launch_rows(gw: Serve, ports: dict, progs: dict) -> tuple[dict, dict]:
    """Each row's first launch (for serve: the image fetched from nginx and validated), then
    LAUNCHES rounds over every row, round-robin, so that a burst of other work on the machine
    falls on all rows alike."""
    page = str(progs["page"])
    serve_rows = {
        "httpd": lambda: serve_launch(gw.port, "/apps/httpd.tar", "page"),
        "ws": lambda: serve_launch(gw.port, "/apps/page-ws.tar", "ws"),
        "stdio": lambda: serve_launch(gw.port, "/apps/page-stdio.tar", "run"),
    }
    native_rows = {
        "httpd": lambda: native_httpd_first_byte(progs["httpd-native"]),
        "ws-websocketd": lambda: ws_first_message(ports["websocketd"], "/"),
        "ws": lambda: native_first_byte([page, "-l"]),
        "stdio": lambda: native_first_byte([page]),
        "cgi-websocketd": lambda: cgi_first_byte(ports["websocketd-cgi"], "/page"),
        "cgi-python": lambda: cgi_first_byte(ports["python-cgi"], "/cgi-bin/page"),
    }
    launches = {k: Timed(fn(), []) for k, fn in serve_rows.items()}
    natives = {k: Timed(fn(), []) for k, fn in native_rows.items()}
    for _ in range(LAUNCHES):
        for k, fn in serve_rows.items():
            launches[k].times.append(fn())
        for k, fn in native_rows.items():
            natives[k].times.append(fn())
    return launches, natives


def _load_rows(work: Path, gw: Serve, proxy: Serve, nginx: Nginx, ports: dict) -> dict:
    """wrk against every row, WRK_ROUNDS rounds round-robin; the apps' instances held by a page."""
    conn = _http(gw.port)
    httpd_base = launch(conn, "/apps/httpd.tar")
    stdio_base = launch(conn, "/apps/page-stdio.tar")
    conn.close()
    holders = [hold(gw.port, base) for base in (httpd_base, stdio_base)]
    rows = {
        "httpd-serve": (gw.port, httpd_base),
        "httpd-native": (ports["httpd-native"], "/"),
        "stdio-serve": (gw.port, stdio_base + "run"),
        "cgi-websocketd": (ports["websocketd-cgi"], "/page"),
        "cgi-python": (ports["python-cgi"], "/cgi-bin/page"),
        "small-direct": (nginx.port, "/small.html"),
        "small-proxy": (proxy.port, nginx.base + "/small.html"),
        "small-gateway": (gw.port, "/small.html"),
        "big-direct": (nginx.port, "/big.bin"),
        "big-proxy": (proxy.port, nginx.base + "/big.bin"),
        "big-gateway": (gw.port, "/big.bin"),
    }
    runs: dict[str, list[Load]] = {k: [] for k in rows}
    try:
        for _ in range(WRK_ROUNDS):
            for key, (port, target) in rows.items():
                runs[key].append(wrk(work, port, target))
    finally:
        for h in holders:
            h.close()
    return {k: med_load(v) for k, v in runs.items()}


def _start_peers(work: Path, progs: dict) -> tuple[dict, list]:
    """websocketd running `page -l` per WebSocket; websocketd and Python's CGI server running
    `page` per request; the libxax app natively (xabi_posix.c)."""
    ports = {k: free_port() for k in ("websocketd", "websocketd-cgi", "python-cgi", "httpd-native")}
    peers = []
    try:
        peers.append(_peer(["websocketd", "--address", "127.0.0.1", "--port", str(ports["websocketd"]),
                            "--loglevel", "error", str(progs["page"]), "-l"], ports["websocketd"], "websocketd"))
        peers.append(_peer(["websocketd", "--address", "127.0.0.1", "--port", str(ports["websocketd-cgi"]),
                            "--loglevel", "error", "--cgidir", str(work / "cgi" / "cgi-bin")], ports["websocketd-cgi"],
                           "websocketd --cgidir"))
        peers.append(_peer([PYTHON, "-m", "http.server", "--cgi", "--bind", "127.0.0.1", "--directory",
                            str(work / "cgi"), str(ports["python-cgi"])], ports["python-cgi"],
                           "python3 -m http.server --cgi"))
        # xabi_posix.c listens at the program's first xabi call
        peers.append(_peer([str(progs["httpd-native"])], ports["httpd-native"], "httpd (xabi_posix)",
                           env={"XABI_POSIX_PORT": str(ports["httpd-native"])}))
    except BaseException:
        for p in peers:
            _stop(p)
        raise
    return ports, peers


def _at_rest(serve: Serve, want: Snapshot | None = None) -> tuple[Snapshot, bool]:
    """serve once every instance has ended and no child is left, and (given `want`) its
    children, fds and threads are back to want's; and whether that happened within SETTLE."""
    ok = quiet(serve)
    pid = serve.proc.pid
    if want is not None:
        key = lambda sn: (sn.children, sn.fds, sn.threads)  # noqa: E731
        ok = settled(lambda: key(snapshot(pid)), key(want), SETTLE) == key(want) and ok
    return snapshot(pid), ok


def run_section(work: Path) -> Section:
    sec = Section("7. `xax-emu serve`")
    work = work / "serve"
    work.mkdir(exist_ok=True)
    load_before = os.getloadavg()
    root, progs = site(work)
    env = cli_env(work)
    with Nginx(root, work / "nginx", cache_control={"/apps/": "max-age=3600"}) as nginx, \
            Serve("--origin", nginx.base, "--max-instances", str(MAX_INSTANCES), cache_dir=work / "cache-gw",
                  env=env) as gw, \
            Serve(cache_dir=work / "cache-proxy", env=env) as proxy:
        ports, peers = _start_peers(work, progs)
        try:
            launches, natives = _launch_rows(gw, ports, progs)
            rest = {"after the launches": _at_rest(gw)}
            proxy_before = snapshot(proxy.proc.pid)
            res = Results(launches, natives, _load_rows(work, gw, proxy, nginx, ports))
            res.proxy = (proxy_before, _at_rest(proxy, proxy_before))
            rest["after the load runs"] = before = _at_rest(gw)
            res.pages = fifty_pages(gw, "/apps/httpd.tar")
            rest["after the 50 pages"] = _at_rest(gw, before[0])
            res.rest = rest
        finally:
            for p in peers:
                _stop(p)
        res.started = gw.count(r"instance [0-9a-f]{32} started")
        res.ended = gw.count(r"instance [0-9a-f]{32} ended")
        res.gone = gw.count(r"instance [0-9a-f]{32} ended: its page is gone")
        res.traceback = "Traceback" in gw.log() + proxy.log()
    res.load_avg = (load_before[0], os.getloadavg()[0])
    _write(sec, res)
    return sec


def _failed(load: Load) -> str:
    if not load.failed:
        return "0"
    return f"{load.failed} (" + ", ".join(f"{k} {v}" for k, v in load.errors.items() if v) + ")"


def _write(sec: Section, res: Results) -> None:
    def launch_row(name, t: Timed, base: float, split: Timed | None = None):
        return (f"| {name} | {ms(t.med)} | {t.med / base:.1f}x | {ms(t.first)} |"
                + (f" {ms(split.med)} |" if split else " |"))

    def lt(key):  # the serve rows timed (to the 302, to the first byte)
        t = res.launches[key]
        return Timed(t.first[1], [x[1] for x in t.times]), Timed(t.first[0], [x[0] for x in t.times])

    httpd, httpd302 = lt("httpd")
    ws, ws302 = lt("ws")
    stdio, stdio302 = lt("stdio")
    n = res.natives
    sec.lines += [
        "One `xax-emu serve` as the gateway for a real nginx origin (Debian's; `tests/nginx_origin.py`, the "
        "browser tests' own; `--max-instances " + str(MAX_INSTANCES) + "`: the launches below leave their "
        "instances to end 2 s after their page, as a browser does), and one as a forward proxy, each a subprocess "
        "as a user starts it. The apps are "
        "`tests/xax/httpd.c` linked with libxax (its small page: 70 bytes) and `benchmarks/page.c` (a small page "
        "written on stdout: 82 bytes), each image with `[limits] memory = \"" + IMAGE_MEMORY + "\"`; nginx serves the "
        "images with `Cache-Control: max-age=3600`, so a launch after an image's first finds it fresh in the "
        f"Monitor's cache and its validation on record. This 2-core machine was shared with other work: the load "
        f"average was {res.load_avg[0]:.2f} when the section started and {res.load_avg[1]:.2f} when it ended.",
        "",
        f"**Launch to the first byte** (medians of {LAUNCHES} rounds over every row, round-robin, one launch at a "
        "time, after each row's first, which for serve is the image's cold launch: fetched from nginx and validated). Through serve: `GET /apps/X.tar?xax` on a kept-alive connection to the gateway, its `302`, "
        "then the app's answer — `GET /.xax/ID/` of the libxax app, a WebSocket to the websocket endpoint and its "
        "first message, or `GET /.xax/ID/run` of the stdio endpoint; each instance then ends as a page's leaving "
        "ends it. The peers run the same static binaries unsealed: natively (fork+exec to the first byte on its "
        "stdout; the libxax app built with `tests/xax/xabi_posix.c`, which takes connections on a TCP socket: exec "
        "to the first byte of `GET /`, connecting as soon as it listens), under websocketd (a WebSocket to a "
        "running websocketd, which starts `page -l` per connection) and as CGI (a `GET` to a running CGI server, "
        "which starts `page` per request).",
        "",
        "| app, started how | launch to first byte | vs native | first (cold) launch | of which the 302 |",
        "|---|---:|---:|---:|---:|",
        launch_row("libxax httpd, serve: launch, `GET /.xax/ID/`", httpd, n["httpd"].med, httpd302),
        launch_row("libxax httpd natively (xabi_posix): exec, connect, `GET /`", n["httpd"], n["httpd"].med),
        launch_row("`page -l`, serve's websocket interface: launch, WebSocket, first message", ws, n["ws"].med, ws302),
        launch_row("`page -l` under websocketd (unsealed): WebSocket, first message", n["ws-websocketd"], n["ws"].med),
        launch_row("`page -l` natively: exec, first byte", n["ws"], n["ws"].med),
        launch_row("`page`, serve's stdio interface: launch, `GET /.xax/ID/run`", stdio, n["stdio"].med, stdio302),
        launch_row("`page` as CGI under websocketd (`--cgidir`): `GET`", n["cgi-websocketd"], n["stdio"].med),
        launch_row("`page` as CGI under `python3 -m http.server --cgi`: `GET`", n["cgi-python"], n["stdio"].med),
        launch_row("`page` natively: exec, first byte", n["stdio"], n["stdio"].med),
        "",
        "The libxax app's `302` is sent once its picoprocess is spawned (an app that serves HTTP starts at launch); "
        "a stdio or websocket instance starts a picoprocess only with each request or WebSocket after it.",
        "",
    ]
    loads = res.loads

    def load_row(name, key, base_key):
        l, b = loads[key], loads[base_key]
        return (f"| {name} | {l.rps:,.0f} | {l.rps / b.rps:.2f}x | {l.p50 * 1e3:,.2f} ms | {l.p99 * 1e3:,.2f} ms "
                f"| {_failed(l)} |")

    sec.lines += [
        f"**Requests** (wrk: one thread, {CONNECTIONS} connections kept alive, {WRK_SECONDS} s a run, medians of "
        f"{WRK_ROUNDS} rounds run round-robin over every row of this and the next table; \"failed\" sums every "
        "round's socket errors, timeouts and statuses other than 2xx/3xx). The apps' instances are held by a page "
        "(their lifecycle connection) throughout. The libxax app closes each connection after its answer "
        "(`Connection: close`): natively each request is a new TCP connection to it; through serve the browser's "
        "connection stays open and each request is one `xabi_accept` channel. Each stdio or CGI request is a new "
        "process (a new picoprocess under serve).",
        "",
        "| small page from | requests/s | ratio | p50 | p99 | failed |",
        "|---|---:|---:|---:|---:|---:|",
        load_row("libxax httpd natively (xabi_posix)", "httpd-native", "httpd-native"),
        load_row("libxax httpd, serve (gateway): `GET /.xax/ID/`", "httpd-serve", "httpd-native"),
        load_row("`page` as CGI under websocketd `--cgidir` (native)", "cgi-websocketd", "cgi-websocketd"),
        load_row("`page` as CGI under `python3 -m http.server --cgi` (native)", "cgi-python", "cgi-websocketd"),
        load_row("`page`, serve's stdio interface: `GET /.xax/ID/run`", "stdio-serve", "cgi-websocketd"),
        "",
        "Ratios: requests/s over the native libxax app's, or over websocketd's CGI run. Python's CGI server answers "
        "in HTTP/1.0, its answers ending with the connection; wrk counts each such answer as served and also as a "
        f"read error, which is what that row's read errors are ({loads['cgi-python'].errors['read']:,} read errors for "
        f"{loads['cgi-python'].answers:,} answers in its runs).",
        "",
        "**Pass-through to nginx**: a 1 KiB page and a 1 MiB file, directly, through serve as the browser's forward "
        "proxy (absolute-form requests) and through serve as the gateway for nginx. Every pass-through request opens "
        "its own connection to the origin (the Monitor keeps no pool) and is relayed by one Python thread per "
        "browser connection.",
        "",
        "| | requests/s | vs direct | p50 | p99 | MB/s | failed |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size, label in (("small", "1 KiB page"), ("big", "1 MiB file")):
        for how, what in (("direct", "direct to nginx"), ("proxy", "through serve, proxy"),
                          ("gateway", "through serve, gateway")):
            l, b = loads[f"{size}-{how}"], loads[f"{size}-direct"]
            sec.lines.append(f"| {label}, {what} | {l.rps:,.0f} | {l.rps / b.rps:.2f}x | {l.p50 * 1e3:,.2f} ms "
                             f"| {l.p99 * 1e3:,.2f} ms | {l.mbps:,.0f} | {_failed(l)} |")
    pages, rest = res.pages, res.rest
    lt50, lt99 = percentile(pages.launch_times, 50), percentile(pages.launch_times, 99)
    want = PAGES * REQUESTS_PER_PAGE
    refused = "; ".join(f"{k} ({v})" for k, v in pages.refused.items()) or "none"
    (r0, ok0), (r1, ok1), (r2, ok2) = rest.values()
    leaked = (r2.children, r2.fds, r2.threads) != (r1.children, r1.fds, r1.threads) or not ok2
    ok = (pages.launched == PAGES and pages.served == want and not pages.failed and res.started == res.ended
          and not leaked and not res.traceback)

    def row(what, get, unit=""):
        return (f"| {what} | " + " | ".join(f"{get(sn)}{unit}{'' if settled_ok else ' (not at rest)'}"
                                            for sn, settled_ok in ((r0, ok0), (r1, ok1), (pages.peak, True),
                                                                   (r2, ok2))) + " |")

    sec.lines += [
        "",
        f"**{PAGES} pages at once on one Monitor** (the gateway's serve, after everything above): {PAGES} threads, "
        "each a page that launches the libxax app, holds its lifecycle connection, waits until every page holds its "
        f"own ({PAGES} instances alive at once), makes {REQUESTS_PER_PAGE} requests of its page on a kept-alive "
        "connection (each answer checked), then leaves. Instances are counted from serve's log (one line per start "
        "and end), its children and threads from /proc/PID/task, its fds from /proc/PID/fd, each at rest (every "
        "instance ended, no child left).",
        "",
        f"| | pages launched | requests served | lost | launch under load: p50 / p99 | all {PAGES} pages done |",
        "|---|---:|---:|---:|---:|---:|",
        f"| {PAGES} pages | {pages.launched} of {PAGES} | {pages.served:,} of {want:,} | {want - pages.served} | "
        f"{ms(lt50)} / {ms(lt99)} | {pages.wall:,.1f} s |",
        "",
        f"| serve | at rest after the launches above | at rest after the load runs (before) | with {PAGES} pages | "
        "at rest after them (after) |",
        "|---|---:|---:|---:|---:|",
        row("children (picoprocesses)", lambda sn: sn.children),
        row("open fds", lambda sn: sn.fds),
        row("threads", lambda sn: sn.threads),
        row("resident memory", lambda sn: f"{sn.rss_kib / 1024:,.0f}", " MiB"),
        "",
        "The proxy's serve before and after its load runs (pass-through only): "
        f"{res.proxy[0].fds} / {res.proxy[1][0].fds} fds, {res.proxy[0].threads} / {res.proxy[1][0].threads} threads"
        f"{'' if res.proxy[1][1] else ' (not back at rest)'}. "
        f"Instances in serve's log over the whole run: {res.started} started, {res.ended} ended ({res.gone} because "
        f"their page was gone); refused launches: {refused}; a traceback in serve's log: "
        f"{'**yes**' if res.traceback else 'no'}.",
    ]
    if pages.failed:
        sec.lines += ["", "Failed requests (the first 5): " + "; ".join(pages.failed[:5])]
    sec.goal(f"{PAGES} concurrent pages on one Monitor: all served, none lost, none leaked",
             f"{pages.served:,}/{want:,} served; instances {res.started} started / {res.ended} ended; children "
             f"{r1.children}→{r2.children}, fds {r1.fds}→{r2.fds}, threads {r1.threads}→{r2.threads}", ok,
             "section 7 shows the counts that differ")
