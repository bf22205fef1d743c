"""The Monitor: creates picoprocesses and serves them on one event loop.

The loop knows nothing of xaxcalls: it calls back whoever watches an fd
(`watch`), runs slow work (HTTP, TCP connects) in worker threads and its result
back on the loop (`submit`), and wakes whatever has a deadline.  A picoprocess
talks to it only through that interface (host.py); one picoprocess's violation
kills that one, and the loop goes on.

Picoprocesses must be started from a thread that outlives them: the kernel
sends the parent-death signal when the *thread* that forked them exits.
"""
from __future__ import annotations

import os
import queue
import selectors
import sys
import time
from typing import TYPE_CHECKING, Callable

from .logbook import Logbook
from .picoprocess import ExitReport, Picoprocess

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from .fetch import HttpCache


MAX_WAIT = 3600.0


class Monitor:
    def __init__(self, cache: HttpCache | None = None, log: Callable[[str], None] | None = None, workers: int = 4):
        self.selector = selectors.DefaultSelector()
        self.cache = cache
        self.logbook = Logbook(log or (lambda line: print(line, file=sys.stderr)))
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None  # made on first use: most runs never fetch
        self._soon: queue.SimpleQueue = queue.SimpleQueue()
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.selector.register(self.wake_r, selectors.EVENT_READ, self._drain_wakeups)
        self.live: list[Picoprocess] = []
        self.timed: list = []  # other objects with a `deadline` and `on_deadline()` (serve's instances)

    # -- the host interface (host.py) ----------------------------------------------------

    def watch(self, fileobj, callback: Callable[[], None]) -> None:
        self.selector.register(fileobj, selectors.EVENT_READ, callback)

    def unwatch(self, fileobj) -> None:
        try:
            self.selector.unregister(fileobj)
        except (KeyError, ValueError):
            pass

    def is_watched(self, fileobj) -> bool:
        try:
            self.selector.get_key(fileobj)
            return True
        except (KeyError, ValueError):
            return False

    def submit(self, work: Callable[[], Callable[[], None] | None]) -> None:
        def run() -> None:
            try:
                then = work()
            except Exception as e:  # a bug in the work: say it, never lose the loop
                line = f"worker failed unexpectedly: {e!r}"
                then = lambda: self.log("monitor", line)  # noqa: E731
            if then is not None:
                self.call_soon_threadsafe(then)

        self.pool.submit(run)

    def call_soon_threadsafe(self, callback: Callable[[], None]) -> None:
        self._soon.put(callback)
        try:
            os.write(self.wake_w, b"x")
        except BlockingIOError:
            pass  # the pipe is full: a wake-up is already pending

    def log(self, source: str, line: str) -> None:
        self.logbook.line(source, line)

    def exited(self, pico: Picoprocess) -> None:
        if pico in self.live:
            self.live.remove(pico)
        self.logbook.forget(pico.name)

    # -- picoprocesses -------------------------------------------------------------------

    def start(self, **kwargs) -> Picoprocess:
        pico = Picoprocess(self, **kwargs)
        self.live.append(pico)
        try:
            pico.spawn()
        except BaseException:
            self.live.remove(pico)
            raise
        return pico

    @property
    def pool(self) -> "ThreadPoolExecutor":
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="xax-fetch")
        return self._pool

    # -- the loop ------------------------------------------------------------------------

    def run_until_done(self, picos: list[Picoprocess] | None = None) -> list[ExitReport]:
        """Serve every picoprocess until all of `picos` (default: all live ones) have exited."""
        waiting = list(picos if picos is not None else self.live)
        while any(pico.report is None for pico in waiting):
            self.step()
        return [pico.report for pico in waiting]

    def step(self, max_wait: float | None = None) -> None:
        """Wait for one round of events (at most `max_wait` seconds) and serve them."""
        now = time.monotonic()
        deadlines = [d for d in (obj.deadline for obj in (*self.live, *self.timed)) if d is not None]
        if max_wait is not None:
            deadlines.append(now + max_wait)
        # (at most an hour: a deadline past what epoll's int of milliseconds holds only wakes early)
        timeout = min(max(0.0, min(deadlines) - now), MAX_WAIT) if deadlines else None
        for key, _ in self.selector.select(timeout):
            key.data()
        now = time.monotonic()
        for obj in (*self.live, *self.timed):
            deadline = obj.deadline
            if deadline is not None and now >= deadline:
                obj.on_deadline()
        for pico in list(self.live):
            pico.retry_parked_poll()
            if pico.stdin_relay is not None:
                pico.stdin_relay.update()

    def _drain_wakeups(self) -> None:
        try:
            os.read(self.wake_r, 4096)
        except BlockingIOError:
            pass
        while True:
            try:
                callback = self._soon.get_nowait()
            except queue.Empty:
                return
            callback()

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
