"""The Monitor: creates picoprocesses and serves their xaxcalls on one event loop.

Slow work (HTTP, TCP connects) runs in worker threads and reports back through
a wake-up pipe, so one picoprocess waiting on the network never stalls
another.  A violation by one picoprocess kills that one; the loop goes on.

Picoprocesses must be started from a thread that outlives them: the kernel
sends the parent-death signal when the *thread* that forked them exits.
"""
from __future__ import annotations

import os
import queue
import selectors
import socket
import sys
import time
from typing import TYPE_CHECKING, Callable

from .. import protocol as p
from .channels import PutChannel, SocketChannel
from .fetch import FetchError, HttpCache, fetch
from .picoprocess import ExitReport, Picoprocess

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

CONNECT_TIMEOUT = 10.0


class Monitor:
    def __init__(self, cache: HttpCache | None = None, log: Callable[[str], None] | None = None, workers: int = 4):
        self.selector = selectors.DefaultSelector()
        self.cache = cache
        self._log = log or (lambda line: print(line, file=sys.stderr))
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None  # made on first use: most runs never fetch
        self.done: queue.SimpleQueue = queue.SimpleQueue()
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.selector.register(self.wake_r, selectors.EVENT_READ, ("wake", None))
        self.live: list[Picoprocess] = []

    def log(self, pico: Picoprocess, line: str) -> None:
        self._log(f"xax-emu: [{pico.pid}] {line}")

    # -- picoprocesses -------------------------------------------------------------

    def start(self, **kwargs) -> Picoprocess:
        pico = Picoprocess(self, **kwargs)
        pico.spawn()
        self.live.append(pico)
        self.selector.register(pico.sock, selectors.EVENT_READ, ("chan", pico))
        self.selector.register(pico.pidfd, selectors.EVENT_READ, ("exit", pico))
        self._watch_stdin(pico)
        return pico

    def stop_reading(self, pico: Picoprocess) -> None:
        self._unregister(pico.sock)

    def watch_listener(self, pico: Picoprocess) -> None:
        """Trace mode: poll the picoprocess's notification listener beside its channel."""
        self.selector.register(pico.listener, selectors.EVENT_READ, ("notif", pico))

    def stop_notifications(self, pico: Picoprocess) -> None:
        if pico.listener is not None:
            self._unregister(pico.listener)

    def _unregister(self, fileobj) -> None:
        try:
            self.selector.unregister(fileobj)
        except (KeyError, ValueError):
            pass

    def forget_channel(self, pico: Picoprocess, chan) -> None:
        if isinstance(chan, SocketChannel):
            self._unregister(chan.sock)

    def watch_socket(self, pico: Picoprocess, chan: SocketChannel) -> None:
        self.selector.register(chan.sock, selectors.EVENT_READ, ("sock", (pico, chan)))

    def resume_socket(self, pico: Picoprocess, chan: SocketChannel) -> None:
        """The program read from a relay whose buffer was full: read its socket again."""
        if chan.wants_input() and chan.sock not in self.selector.get_map():
            self.watch_socket(pico, chan)

    def _retire(self, pico: Picoprocess) -> ExitReport:
        self._unregister(pico.sock)
        self._unregister(pico.pidfd)
        self.stop_notifications(pico)
        if pico.stdio and pico.stdio.stdin_fd is not None:
            self._unregister(pico.stdio.stdin_fd)
        for chan in pico.channels.values():
            self.forget_channel(pico, chan)
        report = pico.finish()
        self.live.remove(pico)
        return report

    # -- worker threads ---------------------------------------------------------------

    @property
    def pool(self) -> "ThreadPoolExecutor":
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="xax-fetch")
        return self._pool

    def _post(self, callback: Callable[[], None]) -> None:
        self.done.put(callback)
        try:
            os.write(self.wake_w, b"x")
        except BlockingIOError:
            pass

    def fetch_async(self, pico: Picoprocess, msg: p.Message, method: str, url: str, body: bytes | None) -> None:
        def work() -> None:
            try:
                resp = fetch(method, url, pico.origin, body=body, limit=pico.limits.download, cache=self.cache)
                result = resp.body if resp.status == 200 else None
                if result is None:
                    self._post(lambda: self.log(pico, f"GET {url}: HTTP {resp.status}"))
            except FetchError as e:
                result = None
                line = f"GET failed: {e}"  # not `e` in the lambda: Python unbinds it after the except block
                self._post(lambda: self.log(pico, line))
            except Exception as e:  # a bug here must not leave the picoprocess waiting forever
                result = None
                line = f"GET failed unexpectedly: {e!r}"
                self._post(lambda: self.log(pico, line))
            self._post(lambda: pico.fetched(msg, result))

        self.pool.submit(work)

    def put_async(self, pico: Picoprocess, chan: PutChannel, url: str) -> None:
        def work() -> None:
            try:
                resp = fetch("PUT", url, pico.origin, body=bytes(chan.request), limit=pico.limits.download)
                ok = 200 <= resp.status < 300
            except Exception as e:  # FetchError, or a bug: either way the program sees -1, never a hang
                resp, ok = None, False
                line = f"PUT failed: {e}"  # not `e` in the lambda: Python unbinds it after the except block
                self._post(lambda: self.log(pico, line))

            def deliver() -> None:
                if ok:
                    chan.body = resp.body
                else:
                    chan.failed = True

            self._post(deliver)

        self.pool.submit(work)

    def connect_async(self, pico: Picoprocess, msg: p.Message, host: str, port: int) -> None:
        def work() -> None:
            try:
                sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
                sock.setblocking(False)
            except OSError as e:
                sock = None
                line = f"connect {host}:{port} failed: {e}"  # not `e` in the lambda (unbound after the except block)
                self._post(lambda: self.log(pico, line))
            self._post(lambda: pico.connected(msg, sock))

        self.pool.submit(work)

    # -- the loop ---------------------------------------------------------------------

    def run_until_done(self, picos: list[Picoprocess] | None = None) -> list[ExitReport]:
        """Serve every picoprocess until all of `picos` (default: all live ones) have exited."""
        waiting = list(picos if picos is not None else self.live)
        while any(pico.report is None for pico in waiting):
            self.step()
        return [pico.report for pico in waiting]

    def step(self) -> None:
        now = time.monotonic()
        deadlines = [d for d in (pico.deadline for pico in self.live) if d is not None]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        for key, _ in self.selector.select(timeout):
            kind, obj = key.data
            if kind == "chan":
                obj.on_readable()
            elif kind == "notif":
                obj.on_notifications()
            elif kind == "exit":
                self._retire(obj)
            elif kind == "stdin":
                self._read_stdin(obj)
            elif kind == "sock":
                pico, chan = obj
                chan.pump()
                if not chan.wants_input():
                    self._unregister(chan.sock)
            elif kind == "wake":
                try:
                    os.read(self.wake_r, 4096)
                except BlockingIOError:
                    pass
                while not self.done.empty():
                    self.done.get()()
        now = time.monotonic()
        for pico in list(self.live):
            if pico.deadline is not None and now >= pico.deadline:
                pico.on_deadline()
            pico.retry_parked_poll()
            self._watch_stdin(pico)

    def _watch_stdin(self, pico: Picoprocess) -> None:
        """Read the Monitor's stdin for a picoprocess only while its buffer has room."""
        if pico.stdin is None or pico.stdio.stdin_fd is None or pico.report is not None:
            return
        fd = pico.stdio.stdin_fd
        registered = fd in self.selector.get_map()
        if pico.stdin.wants_more() and not registered:
            try:
                self.selector.register(fd, selectors.EVENT_READ, ("stdin", pico))
            except PermissionError:  # a regular file: always readable, never blocks
                while pico.stdin.wants_more():
                    self._read_stdin(pico)
        elif not pico.stdin.wants_more() and registered:
            self._unregister(fd)

    def _read_stdin(self, pico: Picoprocess) -> None:
        stdin = pico.stdin
        try:
            data = os.read(pico.stdio.stdin_fd, 65536)
        except OSError:
            data = b""
        stdin.feed(data)
        if not stdin.wants_more():
            self._unregister(pico.stdio.stdin_fd)

    def close(self) -> None:
        for pico in list(self.live):
            pico.kill("the Monitor is shutting down")
        while self.live:
            self.step()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self.selector.close()
        os.close(self.wake_r)
        os.close(self.wake_w)

    def __enter__(self) -> "Monitor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
