"""Witnesses for the hostile suite: proof that nothing outside the picoprocess was reached.

- `Canary`: a file (and its directory) the test owns, watched with inotify: any
  open, read, write, attribute change or new file in that directory is seen.
- `Listener`: a loopback TCP listener the test owns: any connection is seen.
- `hostile(...)`: runs one hostile program with both witnesses, checks them,
  and then checks that the same Monitor still serves a well-behaved program.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import socket
import struct
import subprocess
from pathlib import Path
from typing import Callable

from xax_emu.monitor import Limits, Monitor

from conftest import Result, run_pico

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
IN_ACCESS, IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE, IN_CLOSE_NOWRITE, IN_OPEN = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_NONBLOCK = os.O_NONBLOCK
WATCH_ALL = (IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_OPEN | IN_MOVED_FROM
             | IN_MOVED_TO | IN_CREATE | IN_DELETE)


class Canary:
    CONTENT = b"canary: if you can read this, the seal is broken\n"

    def __init__(self, directory: Path):
        self.dir = directory / "canary-dir"
        self.dir.mkdir()
        self.path = self.dir / "canary.txt"
        self.path.write_bytes(self.CONTENT)
        self.stat = self.path.stat()
        self.fd = _libc.inotify_init1(IN_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        for p in (self.path, self.dir):
            if _libc.inotify_add_watch(self.fd, str(p).encode(), WATCH_ALL) < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {p}")

    def events(self) -> list[tuple[int, str]]:
        out = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            off = 0
            while off < len(buf):
                _, mask, _, length = struct.unpack_from("iIII", buf, off)
                name = buf[off + 16:off + 16 + length].rstrip(b"\0").decode()
                out.append((mask, name))
                off += 16 + length

    def assert_untouched(self) -> None:
        events = self.events()
        assert events == [], f"the canary was touched: {events}"
        st = self.path.stat()
        assert self.path.read_bytes() == self.CONTENT
        assert (st.st_mode, st.st_uid, st.st_size, st.st_mtime_ns) == (
            self.stat.st_mode, self.stat.st_uid, self.stat.st_size, self.stat.st_mtime_ns)
        assert sorted(p.name for p in self.dir.iterdir()) == ["canary.txt"]
        self.events()  # drain our own reads

    def close(self) -> None:
        os.close(self.fd)


class Listener:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def assert_no_connection(self) -> None:
        try:
            conn, peer = self.sock.accept()
        except BlockingIOError:
            return
        conn.close()
        raise AssertionError(f"the loopback listener accepted a connection from {peer}")

    def close(self) -> None:
        self.sock.close()


def hostile(build, tmp_path: Path, source: str, args: list[str] | None = None, *, libc: str = "musl",
            limits: Limits | None = None, stdin: bytes = b"", trace_all: bool = False,
            extra: list[str] | None = None, wrap: Callable[[Path], str] | None = None,
            log: Callable[[str], None] | None = None, **start_extra) -> Result:
    """Run tests/hostile/<source> with a canary and a listener; the program gets
    the canary's path and the listener's port as its first two arguments.
    `wrap` turns the built program into what runs (an image that holds it, its URL).
    Returns the Result after checking both witnesses and the Monitor's health."""
    canary, listener = Canary(tmp_path), Listener()
    monitor = Monitor(log=log or (lambda line: None))
    try:
        prog = build(f"hostile/{source}", libc, extra)
        if wrap is not None:
            prog = wrap(prog)
        result = run_pico(prog, [str(canary.path), str(listener.port), *(args or [])], stdin=stdin,
                          limits=limits or Limits(wall_seconds=30), trace_all=trace_all, monitor=monitor,
                          **start_extra)
        canary.assert_untouched()
        listener.assert_no_connection()
        # The Monitor is still up and still serves others.
        well = run_pico(build("programs/hello.c"), ["after"], monitor=monitor)
        assert well.code == 0 and b"hello from a program with 1 argument" in well.stdout
        return result
    finally:
        monitor.close()
        canary.close()
        listener.close()


def parse(stdout: bytes) -> dict[str, int]:
    """The "name = value" lines a hostile program printed (other lines are ignored)."""
    out = {}
    for line in stdout.decode().splitlines():
        name, sep, value = line.partition(" = ")
        if sep:
            out[name] = int(value)
    return out


def children(pid: int) -> list[int]:
    """The child processes of pid (every thread's)."""
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            pass
    return out


def gone(pid: int) -> bool:
    """Exited: absent, or a zombie (reparented to a parent that has not reaped it yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat[stat.rindex(")") + 2] in "ZX"


def assert_dies_with_its_monitor(monitor: subprocess.Popen, pico: int) -> None:
    """SIGKILL the Monitor; the picoprocess must end too (its parent-death signal).  Waited
    for on a pidfd, which becomes readable when the process exits; the 10 s are the test's
    patience, not a claim about speed."""
    pidfd = os.pidfd_open(pico)
    try:
        monitor.kill()
        monitor.wait(10)
        select.select([pidfd], [], [], 10)
        assert gone(pico), f"picoprocess {pico} outlived its Monitor"
    finally:
        os.close(pidfd)
