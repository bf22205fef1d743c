"""8. Servers and readiness (issue 12): requests per second and p50/p99 latency of
`python3 -m http.server` and lighttpd sealed behind `xax-emu serve` (a gateway, the images
launched from a loopback origin) against the same servers run natively, under the same client
(wrk, one thread, a few connections, a small file); and poll/epoll inside one process
(pollrt.c: a call that answers at once, and a round trip between two threads that wait),
natively and sealed.

    python3 benchmarks/bench_net.py     # this section alone: rewrites its part of RESULTS.md
"""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from harness import HERE, PYTHON, ROOT, Section, build, cli_env, measure, median, xax

DURATION = 10       # seconds of load per wrk run
CONNECTIONS = 4     # wrk's connections (one thread)
ROUNDS = 3          # wrk runs per server and way; the medians are reported
POLL_RUNS = 5       # runs of pollrt per way
TITLE = "8. Servers and readiness (sockets inside the picoprocess)"
SERVERS = [("python3 -m http.server", "httpserver", "hello.txt"), ("lighttpd", "lighttpd", "readme.txt")]

PROFILE = """\
from xax_emu.profiles import load
from xax_emu.syscalls.profile import Profile, emulate_all
APP = Profile("net", extends=[load("static-libc")], syscalls={**emulate_all("sockets")})
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, what: str) -> None:
    for _ in range(400):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} does not listen on {port}")


def wrk(url: str) -> dict[str, float]:
    """One wrk run: requests/s and the latency percentiles (ms)."""
    r = subprocess.run(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", url],
                       capture_output=True, text=True, timeout=DURATION + 60)
    out = r.stdout
    if r.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"wrk {url}: {r.stderr or out}")
    if re.search(r"Non-2xx or 3xx responses", out) or re.search(r"Socket errors", out):
        raise RuntimeError(f"wrk {url}: errors:\n{out}")

    def latency(pct: str) -> float:
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": latency("50"), "p99": latency("99")}


def summary(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: median([r[k] for r in runs]) for k in ("rps", "p50", "p99")}


def native_server(directory: str, work: Path, port: int) -> subprocess.Popen:
    src = ROOT / "images" / directory
    if directory == "httpserver":
        argv = [PYTHON, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(src / "www")]
    else:
        www = work / "lighttpd-www"
        shutil.copytree(src / "www", www, dirs_exist_ok=True)
        shutil.copy2(src / "build" / "big.txt", www / "big.txt")
        conf = (src / "etc" / "lighttpd.conf").read_text().replace('"/srv/www"', f'"{www}"')
        conf = conf.replace("server.port = 8080", f'server.port = {port}\nserver.bind = "127.0.0.1"')
        conf = conf.replace('server.errorlog = "/dev/stderr"', f'server.errorlog = "{work}/lighttpd.log"')
        (work / "lighttpd.conf").write_text(conf + f'server.upload-dirs = ("{work}")\n')
        argv = ["/usr/sbin/lighttpd", "-D", "-f", str(work / "lighttpd.conf")]
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def servers(work: Path, sec: Section) -> None:
    site = work / "site"
    (site / "apps").mkdir(parents=True)
    for _, directory, _ in SERVERS:
        if (ROOT / "images" / directory / "Makefile").exists():
            subprocess.run(["make", "-s", "-C", str(ROOT / "images" / directory)], check=True)
        subprocess.run(xax("pack", str(ROOT / "images" / directory / "manifest.toml"), "-o",
                           str(site / "apps" / f"{directory}.tar")), env=cli_env(work), check=True, capture_output=True)
    origin_port, serve_port = free_port(), free_port()
    origin = subprocess.Popen([PYTHON, "-m", "http.server", str(origin_port), "--bind", "127.0.0.1", "--directory",
                               str(site)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    serve = subprocess.Popen(xax("serve", "--origin", f"http://127.0.0.1:{origin_port}", "--listen",
                                 f"127.0.0.1:{serve_port}", "--idle-seconds", "3600"),
                             env=cli_env(work), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        wait_port(origin_port, origin, "the origin")
        wait_port(serve_port, serve, "xax-emu serve")
        for name, directory, path in SERVERS:
            print(f"benchmarks: 8. {name}", file=sys.stderr)
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{redirect_url}",
                                f"http://127.0.0.1:{serve_port}/apps/{directory}.tar?xax"],
                               capture_output=True, text=True, check=True)
            instance = r.stdout.strip()
            for _ in range(50):  # until the server inside listens
                if subprocess.run(["curl", "-sf", "-o", "/dev/null", instance + path]).returncode == 0:
                    break
                time.sleep(0.2)
            sealed = summary([wrk(instance + path) for _ in range(ROUNDS)])
            port = free_port()
            proc = native_server(directory, work, port)
            try:
                wait_port(port, proc, name)
                native = summary([wrk(f"http://127.0.0.1:{port}/{path}") for _ in range(ROUNDS)])
            finally:
                proc.terminate()
                proc.wait(10)
            rows.append((name, path, native, sealed))
    finally:
        serve.terminate()
        origin.terminate()
        serve.wait(30)
        origin.wait(10)
    sec.lines += [
        f"wrk (one thread, {CONNECTIONS} connections, {DURATION} s, the median of {ROUNDS} runs) GETs a small file: "
        "from the server run natively on a loopback port, and from the same server sealed in a picoprocess "
        "behind `xax-emu serve` as a gateway (each request: wrk -> serve's HTTP front -> a connection the "
        "server's listening socket accepts through the Monitor -> the response relayed back).",
        "",
        "| server (file) | native req/s | sealed behind serve req/s | ratio | native p50 / p99 | sealed p50 / p99 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, path, n, s in rows:
        sec.lines.append(f"| {name} ({path}) | {n['rps']:,.0f} | {s['rps']:,.0f} | {s['rps'] / n['rps']:.2f} | "
                         f"{n['p50']:.2f} / {n['p99']:.2f} ms | {s['p50']:.2f} / {s['p99']:.2f} ms |")
    per = {name: xaxcalls_per_request(work, site / "apps" / f"{directory}.tar", path) for name, directory, path in SERVERS}
    sec.lines += ["", "What a sealed request costs besides the server's own work: serve's Python front parses it and "
                  "the response (h11), a thread relays each, and the picoprocess crosses to the Monitor for the "
                  "connection's ACCEPT, READ, WRITE and CLOSE and its waits — per request, counted by `xax-emu trace "
                  "--connection` over 20 requests: " + "; ".join(
                      f"{name} {calls:.1f} xaxcalls ({detail})" for name, (calls, detail) in per.items())
                  + ". A null xaxcall's round trip is section 4's; lighttpd's loop is otherwise inside the picoprocess."]


def xaxcalls_per_request(work: Path, image: Path, path: str, n: int = 20) -> tuple[float, str]:
    """xaxcalls per request of the server in image, from `xax-emu trace --connection` (its start
    counted in, spread over n requests)."""
    req = work / "request"
    req.write_bytes(f"GET /{path} HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n".encode())
    out = work / "trace.json"
    subprocess.run(xax("trace", "--json", "--output", str(out), *(["--connection", str(req)] * n), str(image)),
                   env=cli_env(work), capture_output=True, timeout=300)
    calls = json.loads(out.read_text())["kernel"].get("xaxcalls") or {}
    total = sum(v for k, v in calls.items() if k not in ("RUNTIME_CODE", "FORWARD", "TRACE"))
    detail = ", ".join(f"{k} {v / n:.1f}" for k, v in sorted(calls.items()) if k not in ("RUNTIME_CODE", "FORWARD", "TRACE"))
    return total / n, detail


def readiness(work: Path, sec: Section) -> None:
    print("benchmarks: 7. poll and epoll", file=sys.stderr)
    prog = build(work, "pollrt.c", extra=("-lpthread",))
    (work / "net.py").write_text(PROFILE)
    native, sealed = [], []
    for _ in range(POLL_RUNS):
        native.append(measure([str(prog)]))
        sealed.append(measure(xax("run", "--profile", f"{work}/net.py:APP", str(prog)), env=cli_env(work)))
    sec.lines += [
        "",
        f"`benchmarks/pollrt.c` ({POLL_RUNS} runs each, medians of medians): one poll() or epoll_wait() of a "
        "socket that is ready (answered at once: inside the picoprocess, one trap), and a round trip between two "
        "threads over a socketpair, each waiting in poll() or epoll_wait() for the other's byte (the wait lets "
        "go of the layer and is woken by the other thread's write).",
        "",
        "| call | native | sealed | ratio |",
        "|---|---:|---:|---:|",
    ]
    for key, what in (("poll_ready", "poll() of a ready socket"), ("epoll_ready", "epoll_wait() with one ready item"),
                      ("poll_roundtrip", "round trip, both threads in poll()"),
                      ("epoll_roundtrip", "round trip, both threads in epoll_wait()")):
        n, s = median([r[key] for r in native]), median([r[key] for r in sealed])
        sec.lines.append(f"| {what} | {n:,.0f} ns | {s:,.0f} ns | {s / n:.2f} |")


def run_section(work: Path) -> Section:
    sec = Section(TITLE)
    servers(work, sec)
    readiness(work, sec)
    return sec


def splice(section: Section) -> None:
    """Put this section into RESULTS.md in place of its old text (or at the end of the sections)."""
    path = HERE / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    body = "\n".join([f"## {section.title}", "", *section.lines, ""]) + "\n"
    start = text.find(f"## {section.title}")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + body + (text[end + 1:] if end >= 0 else "")
    else:
        marker = text.find("## What bounds the missed goals")
        text = text[:marker] + body + "\n" + text[marker:] if marker >= 0 else text + "\n" + body
    path.write_text(text)


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory(prefix="xax-bench-net-") as tmp:
        (Path(tmp) / "cache").mkdir()
        sec = run_section(Path(tmp))
    splice(sec)
    print("\n".join(sec.lines))
