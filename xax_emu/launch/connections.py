"""Connections from outside for `run` and `trace` (--connection FILE): a server run from the
command line is handed each file's bytes as one connection, as `serve` hands it a browser's
(the picoprocess takes it with ACCEPT, or with accept(2) on its first listening socket), one
after the other; each answer is read to its end (the program closes the connection, or it is
quiet for QUIET seconds), and once the last is answered the picoprocess is ended.  What `trace`
then counts is what the server asked of the system to serve them.

The requests go in whole and untouched: a file is bytes the user wrote (an HTTP request, with
`Connection: close` for a server that would keep the connection open)."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from ..errors import ProgramError
from ..monitor.channels import PipeChannel

QUIET = 30.0          # seconds an answer may pause before it is taken as over
PIECE = 64 << 10
ANSWER_MAX = 64 << 20  # bytes of one answer kept


def read_connections(paths: list[str]) -> list[bytes]:
    out = []
    for path in paths:
        try:
            out.append(Path(path).read_bytes())
        except OSError as e:
            raise ProgramError(f"--connection {path}: {e.strerror}", path) from None
    return out


class Connections:
    """Hands `requests` to a picoprocess one connection at a time, from a thread of its own;
    `answers` holds what came back for each; `done(n)` runs on the Monitor's loop at the end."""

    def __init__(self, requests: list[bytes]):
        self.requests = requests
        self.answers: list[bytes] = []

    def start(self, monitor, pico, done: Callable[[int], None]) -> None:
        def on_loop(fn) -> None:
            monitor.call_soon_threadsafe(fn)

        def wake() -> None:
            on_loop(pico.retry_parked_poll)

        def run() -> None:
            for request in self.requests:
                chan = PipeChannel(wake)
                on_loop(lambda c=chan: pico.offer_connection(c) or c.abandon())
                answer = bytearray()
                if chan.send(request, QUIET):
                    while len(answer) < ANSWER_MAX:
                        piece = chan.receive(PIECE, QUIET)
                        if not piece:  # closed by the program (b"") or quiet too long (None)
                            break
                        answer += piece
                chan.abandon()
                self.answers.append(bytes(answer))
            on_loop(lambda: done(len(self.answers)))

        threading.Thread(target=run, name="xax-connections", daemon=True).start()
