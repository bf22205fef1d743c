"""What a picoprocess may ask of the Monitor that hosts it: one narrow interface.

A `Picoprocess` knows its host only through these methods; the Monitor's event
loop (loop.py) implements them, and so can a test.  The loop imports the
picoprocess, never the other way round.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from .fetch import HttpCache

Callback = Callable[[], None]


class Host(Protocol):
    cache: "HttpCache | None"

    def watch(self, fileobj, callback: Callback) -> None:
        """Call `callback` on the loop whenever `fileobj` is readable, until unwatched."""

    def unwatch(self, fileobj) -> None:
        """Stop watching `fileobj` (no error if it was not watched)."""

    def is_watched(self, fileobj) -> bool:
        """Whether `fileobj` is watched now."""

    def submit(self, work: Callable[[], Callback | None]) -> None:
        """Run `work` in a worker thread; the callable it returns, if any, then runs on the loop."""

    def call_soon_threadsafe(self, callback: Callback) -> None:
        """From any thread: run `callback` on the loop soon (it also re-checks parked polls)."""

    def log(self, source: str, line: str) -> None:
        """One line in the Monitor's log on behalf of `source` (bounded and rate-limited)."""

    def exited(self, pico) -> None:
        """The picoprocess has finished (its report is made): forget it."""
