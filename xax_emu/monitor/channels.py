"""Channels: what a channel id in a picoprocess refers to inside the Monitor.

Each kind answers the ABI's read/write/poll with the article's conventions:
read and write return bytes moved, 0 when not ready, -1 when closed or failed.
Buffers are bounded; nothing here blocks the Monitor's event loop.
"""
from __future__ import annotations

import collections
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

    def end_output(self) -> None:
        """The picoprocess writes no more on it (CLOSE with arg 1); its reading goes on."""

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

    def end_output(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.failed = True

    def close(self) -> None:
        self.sock.close()


class PipeChannel(Channel):
    """One connection between a thread outside the loop (serve's handler of a
    browser connection) and a picoprocess: the bytes toward the program and the
    bytes from it, each in a bounded buffer.

    The picoprocess's side (read, write, poll, close) runs on the loop and never
    blocks.  The outside's side (send, receive, end_input, abandon) may wait on a
    condition; after every change it calls `wake` so that the loop re-checks a
    parked poll."""

    kind = "connection"
    CAPACITY = 256 << 10

    def __init__(self, wake: Callable[[], None], capacity: int = CAPACITY):
        import threading
        self._cond = threading.Condition()
        self._wake = wake
        self.capacity = capacity
        self._to_app = bytearray()
        self._to_app_eof = False      # the outside has sent everything
        self._from_app = bytearray()
        self._app_closed = False      # the program closed its end (or exited)
        self._app_done = False        # the program writes no more (it may still read)
        self._outside_gone = False    # the browser went away: the program's writes fail

    # -- the picoprocess's side (the loop) --------------------------------------

    def read(self, n: int) -> bytes | int:
        with self._cond:
            if self._to_app:
                out = bytes(self._to_app[:n])
                del self._to_app[:n]
                self._cond.notify_all()
                return out
            return CLOSED if (self._to_app_eof or self._outside_gone) else NOT_READY

    def write(self, data: bytes) -> int:
        with self._cond:
            if self._outside_gone or self._app_closed or self._app_done:
                return CLOSED
            room = self.capacity - len(self._from_app)
            if room <= 0:
                return NOT_READY
            self._from_app += data[:room]
            self._cond.notify_all()
            return min(room, len(data))

    def poll(self, events: int) -> int:
        with self._cond:
            revents = 0
            ended = self._to_app_eof or self._outside_gone
            if events & p.POLLIN and (self._to_app or ended):
                revents |= p.POLLIN
            if ended and not self._to_app:
                revents |= p.POLLHUP
            if self._outside_gone:
                revents |= p.POLLERR
            elif events & p.POLLOUT and (len(self._from_app) < self.capacity or self._app_done):
                revents |= p.POLLOUT
            return revents

    def end_output(self) -> None:
        with self._cond:
            self._app_done = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._app_closed = True
            self._cond.notify_all()

    # -- the outside's side (any thread) ------------------------------------------

    def send(self, data: bytes, timeout: float | None) -> bool:
        """Queue `data` for the program, waiting for room; False if the program has
        closed its end, the channel was abandoned, or `timeout` passed."""
        view = memoryview(data)
        while view:
            with self._cond:
                ok = self._cond.wait_for(lambda: self._app_closed or self._outside_gone
                                         or len(self._to_app) < self.capacity, timeout)
                if not ok or self._app_closed or self._outside_gone:
                    return False
                room = self.capacity - len(self._to_app)
                self._to_app += view[:room]
                view = view[room:]
            self._wake()
        return True

    def end_input(self) -> None:
        """Nothing more toward the program: its reads see the end once the buffer is read."""
        with self._cond:
            self._to_app_eof = True
        self._wake()

    def receive(self, limit: int, timeout: float | None) -> bytes | None:
        """Up to `limit` bytes from the program; b"" once it has closed its end and
        everything is read; None if `timeout` passed first."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._from_app or self._app_closed or self._app_done, timeout):
                return None
            out = bytes(self._from_app[:limit])
            del self._from_app[:limit]
        if out:
            self._wake()  # room again for a program waiting to write
        return out

    def abandon(self) -> None:
        """The outside is gone (the browser closed, or the exchange is over)."""
        with self._cond:
            self._outside_gone = True
            self._cond.notify_all()
        self._wake()

    @property
    def app_closed(self) -> bool:
        return self._app_closed or self._app_done


class StreamChannel(Channel):
    """A download read as it arrives: a thread of the Monitor's pushes the body's pieces
    (waiting while the buffer is full: the program reads at its own pace, and the origin
    is read no faster), the program reads them on the loop.  The end of the body reads as
    -1 once everything before it is read; so does a body that broke off (failed)."""

    kind = "get"
    CAPACITY = 1 << 20

    def __init__(self, wake: Callable[[], None], capacity: int = CAPACITY):
        import threading
        self._cond = threading.Condition()
        self._wake = wake
        self.capacity = capacity
        # The pieces as they came (a read joins them: one copy; a piece that fits is handed on
        # as it is), and their total.
        self._pieces: collections.deque[bytes | memoryview] = collections.deque()
        self._size = 0
        self._ended = False
        self.failed = False
        self._closed = False  # the program closed it: the download stops

    # -- the picoprocess's side (the loop) --------------------------------------

    def read(self, n: int) -> bytes | int:
        out = self.read_parts(n)
        return out if isinstance(out, int) else b"".join(out)

    def read_parts(self, n: int) -> list[bytes | memoryview] | int:
        """read, as the pieces themselves (at most protocol.MAX_REPLY_PARTS of them, the
        last maybe cut): a READ's reply gathers them into its datagram, never joined."""
        with self._cond:
            if not self._size:
                return CLOSED if (self._ended or self.failed) else NOT_READY
            taken, room = [], n
            while room and self._pieces and len(taken) < p.MAX_REPLY_PARTS:
                piece = self._pieces[0]
                if len(piece) <= room:
                    taken.append(self._pieces.popleft())
                    room -= len(piece)
                else:
                    view = memoryview(piece)
                    taken.append(view[:room])
                    self._pieces[0] = view[room:]
                    room = 0
            self._size -= n - room
            self._cond.notify_all()
        return taken

    def poll(self, events: int) -> int:
        with self._cond:
            if self.failed and not self._size:
                return p.POLLERR
            revents = events & p.POLLIN if (self._size or self._ended) else 0
            return revents | (p.POLLHUP if self._ended and not self._size else 0)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- the downloading thread's side ------------------------------------------------

    def push(self, piece: bytes) -> bool:
        """Add a piece, waiting for room; False once the program has closed the channel."""
        with self._cond:
            while True:
                if self._closed:
                    return False
                if self._size < self.capacity:
                    break
                self._cond.wait()
            was_empty = not self._size
            if piece:
                self._pieces.append(piece)
                self._size += len(piece)
        if was_empty:  # a poll parks only on an empty channel: a piece behind others wakes no one
            self._wake()
        return True

    def finish(self, ok: bool) -> None:
        with self._cond:
            if ok:
                self._ended = True
            else:
                self.failed = True
        self._wake()
