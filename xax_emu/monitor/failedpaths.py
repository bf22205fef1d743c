"""The paths a picoprocess failed to open or look at (TRACE_PATH), kept bounded.

The layer reports each failure of a path call (protocol.py TRACE_PATH_CALLS) with the path
and the errno when the Monitor asked (BOOT_FLAG_TRACE_PATHS: `trace`, `run --report json`).
Every byte of it is the picoprocess's: a message that breaks the protocol's rules (a path
empty, over TRACE_PATH_MAX bytes or holding a NUL, an errno out of range, a call that is not
a path call) is a violation, and what is kept is bounded by number and by bytes.  A failure
on a path not kept is still counted, by errno, so the report can say how much it left out.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .. import protocol as p
from ..errors import ProtocolViolation

MAX_PATHS = 4096          # distinct (path, errno) pairs kept
MAX_PATH_BYTES = 2 << 20  # their paths' bytes together


def _path_call_numbers() -> frozenset[int]:
    from ..syscalls import catalogue
    return frozenset(catalogue.by_name(name).nr for name in p.TRACE_PATH_CALLS)


_CALLS: frozenset[int] | None = None


def path_call_numbers() -> frozenset[int]:
    """The syscall numbers a TRACE_PATH may name (the catalogue, read once, when one comes)."""
    global _CALLS
    if _CALLS is None:
        _CALLS = _path_call_numbers()
    return _CALLS


@dataclass
class FailedPaths:
    # (path bytes as sent, errno) -> failures; and, per pair, the calls that failed, by number
    counts: Counter = field(default_factory=Counter)
    calls: dict = field(default_factory=dict)
    path_bytes: int = 0
    # failures on pairs past the bounds, by errno: counted, never named
    not_kept: Counter = field(default_factory=Counter)

    def add(self, nr: int, err: int, path: bytes) -> None:
        """One TRACE_PATH, checked: ProtocolViolation names what is wrong."""
        if not 1 <= err <= p.MAX_ERRNO:
            raise ProtocolViolation(f"TRACE_PATH: errno {err} out of range")
        if nr not in path_call_numbers():
            raise ProtocolViolation(f"TRACE_PATH: system call {nr} is not a path call")
        if not path or len(path) > p.TRACE_PATH_MAX:
            raise ProtocolViolation(f"TRACE_PATH: a path of {len(path)} bytes")
        if b"\0" in path:
            raise ProtocolViolation("TRACE_PATH: a NUL in the path")
        key = (bytes(path), err)
        if key not in self.counts:
            if len(self.counts) >= MAX_PATHS or self.path_bytes + len(path) > MAX_PATH_BYTES:
                self.not_kept[err] += 1
                return
            self.path_bytes += len(path)
            self.calls[key] = Counter()
        self.counts[key] += 1
        self.calls[key][nr] += 1

    def __bool__(self) -> bool:
        return bool(self.counts) or bool(self.not_kept)
