"""The Monitor's log, bounded: what it writes on a picoprocess's behalf never grows
with what the picoprocess sends.

Every line is cut to LINE_MAX characters (a hostile OPEN_URL's 60 KB method name
shows as its first few hundred bytes, escaped), and lines are rate-limited with a
token bucket per source and one for the whole Monitor.  Lines dropped are counted
and said in one line when the source writes again or ends.
"""
from __future__ import annotations

import time
from typing import Callable

LINE_MAX = 300
PER_SOURCE = (20, 5.0)      # burst, lines per second, per picoprocess (or other source)
TOTAL = (200, 50.0)         # burst, lines per second, for the whole Monitor


class _Bucket:
    def __init__(self, burst: int, rate: float):
        self.burst, self.rate = burst, rate
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def clip(text: str, limit: int = LINE_MAX) -> str:
    """One printable line of at most `limit` characters."""
    text = text.encode("unicode_escape", "backslashreplace").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[:limit - 1] + "…"


class Logbook:
    def __init__(self, write: Callable[[str], None]):
        self._write = write
        self._total = _Bucket(*TOTAL)
        self._sources: dict[str, _Bucket] = {}
        self._dropped: dict[str, int] = {}

    def line(self, source: str, text: str) -> None:
        now = time.monotonic()
        bucket = self._sources.get(source)
        if bucket is None:
            bucket = self._sources[source] = _Bucket(*PER_SOURCE)
        if not (bucket.take(now) and self._total.take(now)):
            self._dropped[source] = self._dropped.get(source, 0) + 1
            return
        dropped = self._dropped.pop(source, 0)
        if dropped:
            self._emit(f"xax-emu: [{source}] ({dropped} lines not logged: over the log's rate limit)")
        self._emit(f"xax-emu: [{source}] {clip(text)}")

    def forget(self, source: str) -> None:
        """The source is gone: say what was dropped, and free its bucket."""
        self._sources.pop(source, None)
        dropped = self._dropped.pop(source, 0)
        if dropped:
            self._emit(f"xax-emu: [{source}] ({dropped} lines not logged: over the log's rate limit)")

    def _emit(self, line: str) -> None:
        try:
            self._write(line)
        except (OSError, ValueError):
            pass  # the log's own sink failed (stderr closed, full): nothing better to do with a log line
