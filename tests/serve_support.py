"""`xax-emu serve` as the tests use it: the real command in a subprocess, on a free
loopback port, its log collected; and small HTTP clients that talk to it as a
browser does through a proxy (absolute-form targets) or a gateway (origin-form).
"""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from xax_emu import runtime
from xax_emu.image import pack_image

TESTS = Path(__file__).resolve().parent
START_TIMEOUT = 30.0


class Serve:
    """`xax-emu serve ARGS --listen 127.0.0.1:0`, until closed."""

    def __init__(self, *args: str, cache_dir: Path, env: dict[str, str] | None = None):
        env = {**(os.environ if env is None else env), "XDG_CACHE_HOME": str(cache_dir)}
        self.proc = subprocess.Popen([sys.executable, "-m", "xax_emu", "serve", "--listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        started = r" on (?:http://)?127\.0\.0\.1:(\d+)"
        line = self.wait_for(started, START_TIMEOUT)
        self.port = int(re.search(started, line).group(1))
        self.address = f"127.0.0.1:{self.port}"

    def _read(self) -> None:
        for raw in self.proc.stderr:
            with self._cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, pattern: str, timeout: float) -> str:
        """The first log line matching `pattern`, waiting up to `timeout` seconds for it."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no log line matching {pattern!r}; the log:\n" + "\n".join(self.lines))
                self._cond.wait(min(left, 0.2))

    def log(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def count(self, pattern: str) -> int:
        """How many log lines match `pattern` so far."""
        rx = re.compile(pattern)
        with self._cond:
            return sum(1 for line in self.lines if rx.search(line))

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        return self.proc.returncode

    def __enter__(self) -> "Serve":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
        assert "Traceback" not in self.log(), self.log()


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (of any of its threads: the loop forks them)."""
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
        except FileNotFoundError:
            pass
    return out


def open_fds(pid: int) -> int:
    """How many file descriptors `pid` has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def settled(measure, want, timeout: float):
    """measure() once it equals `want`, or its last value after `timeout` seconds: what a
    process releases a moment after the event that frees it (a reaped child, a closed fd)."""
    deadline = time.monotonic() + timeout
    while True:
        got = measure()
        if got == want or time.monotonic() >= deadline:
            return got
        time.sleep(0.1)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def request(address: str, method: str, target: str, body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 60) -> Response:
    """One request on a new connection to `address` (host:port), target as given:
    absolute-form through a proxy, origin-form to a gateway."""
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def raw_exchange(address: str, data: bytes, timeout: float = 30, limit: int = 1 << 20) -> bytes:
    """Send raw bytes, read until the server closes (or `limit` bytes)."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        out = bytearray()
        while len(out) < limit:
            try:
                chunk = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
        return bytes(out)


def pack_xax_app(build, tmp_path: Path, source: str, name: str, extra_manifest: str = "") -> Path:
    """A program written for Xax (tests/xax/SOURCE, linked with libxax) as an image."""
    program = build(source, "musl", extra=[str(runtime.libxax())])
    manifest = tmp_path / f"{name}.toml"
    manifest.write_text(f'[app]\nname = "{name}"\nentry = "/bin/{name}"\nargs = []\ncwd = "/"\n'
                        f'profile = "static-libc"\n\n[files]\n"/bin/{name}" = "{program}"\n{extra_manifest}')
    image = tmp_path / f"{name}.tar"
    pack_image(str(manifest), str(image))
    return image
