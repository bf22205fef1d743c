"""Channels: what a channel id in a picoprocess refers to inside the Monitor.

Each kind answers the ABI's read/write/poll with the article's conventions:
read and write return bytes moved, 0 when not ready, -1 when closed or failed.
Buffers are bounded; nothing here blocks the Monitor's event loop.
"""
from __future__ import annotations

import socket
from typing import Callable

from .. import protocol as p

NOT_READY = 0
CLOSED = -1
STDIN_BUFFER = 1 << 20


class Channel:
    kind = "channel"

    def read(self, n: int) -> bytes | int:
        return CLOSED

    def write(self, data: bytes) -> int:
        return CLOSED

    def poll(self, events: int) -> int:
        return p.POLLERR

    def close(self) -> None:
        pass


class InputChannel(Channel):
    """Bytes that arrive from outside (the Monitor's stdin in `run`), then EOF."""

    kind = "stdin"

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.eof = False

    def wants_more(self) -> bool:
        return not self.eof and len(self.buffer) < STDIN_BUFFER

    def feed(self, data: bytes) -> None:
        if data:
            self.buffer += data
        else:
            self.eof = True

    def read(self, n: int) -> bytes | int:
        if self.buffer:
            out = bytes(self.buffer[:n])
            del self.buffer[:n]
            return out
        return CLOSED if self.eof else NOT_READY

    def poll(self, events: int) -> int:
        if self.buffer:
            return events & p.POLLIN
        if self.eof:
            return (events & p.POLLIN) | p.POLLHUP
        return 0


class OutputChannel(Channel):
    """Bytes the program writes, offered to a sink (stdio.FdWriter, stdio.CallableSink):
    it takes what it has room for, 0 when full, -1 once it has failed."""

    kind = "output"

    def __init__(self, sink):
        self.sink = sink

    def write(self, data: bytes) -> int:
        return self.sink.offer(data)

    def poll(self, events: int) -> int:
        if self.sink.broken:
            return p.POLLERR
        return events & p.POLLOUT if self.sink.has_room() else 0


class BodyChannel(Channel):
    """A downloaded body, read from the start; -1 at its end or if the fetch failed."""

    kind = "get"

    def __init__(self, body: bytes | None = None):
        self.body = body
        self.offset = 0
        self.failed = False

    def read(self, n: int) -> bytes | int:
        if self.failed:
            return CLOSED
        if self.body is None:
            return NOT_READY
        if self.offset >= len(self.body):
            return CLOSED
        out = self.body[self.offset:self.offset + n]
        self.offset += len(out)
        return out

    def poll(self, events: int) -> int:
        if self.failed:
            return p.POLLERR
        if self.body is None:
            return 0
        return (events & p.POLLIN) | (p.POLLHUP if self.offset >= len(self.body) else 0)


class PutChannel(BodyChannel):
    """The program writes a request body; its first read (or close) sends it;
    the response body is then read like a download."""

    kind = "put"

    def __init__(self, limit: int, send: Callable[["PutChannel"], None]):
        super().__init__(None)
        self.request = bytearray()
        self.limit = limit
        self.send = send
        self.sent = False

    def write(self, data: bytes) -> int:
        if self.sent:
            return CLOSED
        if len(self.request) + len(data) > self.limit:
            # over the limit: the upload has failed, and a truncated body is never sent
            self.sent = self.failed = True
            return CLOSED
        self.request += data
        return len(data)

    def _start(self) -> None:
        if not self.sent:
            self.sent = True
            self.send(self)

    def read(self, n: int) -> bytes | int:
        self._start()
        return super().read(n)

    def poll(self, events: int) -> int:
        if not self.sent:
            if events & p.POLLIN:  # asking for the response sends the request
                self._start()
                return 0
            return events & p.POLLOUT
        return super().poll(events)

    def close(self) -> None:
        self._start()


class SocketChannel(Channel):
    """A TCP connection to the origin ("connect"), relayed both ways with bounded buffers."""

    kind = "connect"
    BUFFER = 1 << 20

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.inbox = bytearray()
        self.eof = False
        self.failed = False

    def pump(self) -> None:
        """Called by the event loop when the socket is readable."""
        try:
            data = self.sock.recv(min(65536, self.BUFFER - len(self.inbox)))
        except BlockingIOError:
            return
        except OSError:
            self.failed = True
            return
        if data:
            self.inbox += data
        else:
            self.eof = True

    def wants_input(self) -> bool:
        return not (self.eof or self.failed) and len(self.inbox) < self.BUFFER

    def read(self, n: int) -> bytes | int:
        if self.inbox:
            out = bytes(self.inbox[:n])
            del self.inbox[:n]
            return out
        return CLOSED if (self.eof or self.failed) else NOT_READY

    def write(self, data: bytes) -> int:
        if self.failed:
            return CLOSED
        try:
            return self.sock.send(data)
        except BlockingIOError:
            return NOT_READY
        except OSError:
            self.failed = True
            return CLOSED

    def poll(self, events: int) -> int:
        if self.failed:
            return p.POLLERR
        revents = 0
        if events & p.POLLIN and (self.inbox or self.eof):
            revents |= p.POLLIN
        if self.eof and not self.inbox:
            revents |= p.POLLHUP
        if events & p.POLLOUT:
            revents |= p.POLLOUT  # the kernel buffers; a full buffer makes write return 0
        return revents

    def close(self) -> None:
        self.sock.close()
