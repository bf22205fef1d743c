"""A `run` picoprocess's fds 0-2 as the Monitor relays them.

The Monitor's own stdio is a peer like any other: slow, failing, or non-blocking.
Nothing here may stall the event loop — a stalled reader of stdout must not hold
up the wall-clock limit, nor another picoprocess — so:

- output to an fd goes through an `FdWriter`: a bounded buffer drained by a
  thread of its own.  When the buffer is full the program's write answers "not
  ready" and the layer waits for room, as a pipe's writer would; a write that
  fails (ENOSPC on /dev/full, EIO, ...) is said in one line and the channel is
  closed from then on, as a broken pipe is.  A non-blocking fd is waited on with
  poll() instead of failing with EAGAIN.
- input from an fd is read only while the program's buffer has room, and
  EAGAIN from a non-blocking fd means "later", never end of file.
"""
from __future__ import annotations

import errno
import os
import select
import threading
from dataclasses import dataclass
from typing import Callable

from .channels import CLOSED, NOT_READY, InputChannel

OUTPUT_BUFFER = 1 << 20


@dataclass
class Stdio:
    """Where a `run` picoprocess's fds 0-2 lead.  stdout and stderr are an fd the
    Monitor writes (through an FdWriter), a callable that takes every byte at once,
    or a sink of the caller's own (offer, has_room, flush, broken: as FdWriter's);
    stdin is an fd the Monitor reads, bytes given up front, or None: fed later."""

    stdout: Callable[[bytes], None] | int | object
    stderr: Callable[[bytes], None] | int | object
    stdin_fd: int | None = None
    stdin_bytes: bytes | None = b""


class CallableSink:
    """Every byte handed to a function at once (the tests' collectors, serve's relays)."""

    def __init__(self, fn: Callable[[bytes], None]):
        self.fn = fn
        self.broken = False

    def offer(self, data: bytes) -> int:
        if self.broken:
            return CLOSED
        try:
            self.fn(data)
        except (BrokenPipeError, ValueError):
            self.broken = True
            return CLOSED
        return len(data)

    def has_room(self) -> bool:
        return True

    def flush(self, timeout: float | None) -> None:
        pass


class FdWriter:
    """A bounded buffer written to `fd` by a thread of its own."""

    def __init__(self, fd: int, name: str, wake: Callable[[], None], failed: Callable[[str], None],
                 capacity: int = OUTPUT_BUFFER):
        self.fd, self.name = fd, name
        self._wake, self._failed = wake, failed
        self.capacity = capacity
        self._buf = bytearray()
        self._cond = threading.Condition()
        self.broken = False
        self._thread: threading.Thread | None = None

    def offer(self, data: bytes) -> int:
        with self._cond:
            if self.broken:
                return CLOSED
            room = self.capacity - len(self._buf)
            if room <= 0:
                return NOT_READY
            taken = data[:room]
            self._buf += taken
            self._cond.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name=f"xax-{self.name}", daemon=True)
            self._thread.start()
        return len(taken)

    def has_room(self) -> bool:
        with self._cond:
            return self.broken or len(self._buf) < self.capacity

    def flush(self, timeout: float | None) -> bool:
        """Wait until everything is written (or has failed); False if `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self.broken or not self._buf, timeout)

    def _drain(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._buf)
                chunk = bytes(self._buf[:1 << 16])
            try:
                n = self._write_some(chunk)
            except OSError as e:
                with self._cond:
                    self.broken = True
                    self._buf.clear()
                    self._cond.notify_all()
                if e.errno != errno.EPIPE:  # a reader that went away is not worth a line, as for any tool
                    self._failed(f"{self.name}: {e.strerror or e}; the program's further output there is lost")
                self._wake()
                return
            with self._cond:
                was_full = len(self._buf) >= self.capacity
                del self._buf[:n]
                self._cond.notify_all()
            if was_full:
                self._wake()  # a program waiting for room may write again

    def _write_some(self, chunk: bytes) -> int:
        while True:
            try:
                return os.write(self.fd, chunk)
            except BlockingIOError:  # a non-blocking fd: wait until it takes more
                p = select.poll()
                p.register(self.fd, select.POLLOUT)
                p.poll(1000)
            except InterruptedError:
                pass


class StdinRelay:
    """Reads the Monitor's stdin fd into the program's InputChannel while it has room."""

    def __init__(self, fd: int, channel: InputChannel, host):
        self.fd, self.channel, self.host = fd, channel, host
        self.closed = False

    def update(self) -> None:
        """Watch the fd exactly while the channel wants more."""
        if self.closed:
            return
        watched = self.host.is_watched(self.fd)
        if self.channel.wants_more() and not watched:
            try:
                self.host.watch(self.fd, self.on_readable)
            except PermissionError:  # a regular file: always readable, never blocks
                while self.channel.wants_more():
                    self.on_readable()
        elif not self.channel.wants_more() and watched:
            self.host.unwatch(self.fd)

    def on_readable(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except (BlockingIOError, InterruptedError):
            return  # a non-blocking stdin with nothing yet: later, not end of file
        except OSError:
            data = b""
        self.channel.feed(data)
        if not self.channel.wants_more():
            self.host.unwatch(self.fd)

    def close(self) -> None:
        self.closed = True
        self.host.unwatch(self.fd)
