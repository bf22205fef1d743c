"""What every fuzz harness shares: a reader that turns the fuzzer's bytes into choices,
and the rule that a harness raises only on a finding.

A harness module (fz_*.py) defines
    NAME         the target's name (benchmarks/fuzz.py and tests/test_fuzz.py use it)
    INSTRUMENT   the packages whose code atheris instruments for coverage
    seeds()      a few valid inputs to start from (the committed corpus is made from them)
    one_input(data: bytes)
                 runs the code under test on one input; it catches exactly the errors the
                 code is allowed to raise for bad input, checks the invariants the target
                 promises, and lets anything else out: that is a crash.
The same function runs under atheris (coverage-guided, run_atheris.py) and in plain
pytest (the seeds, the regressions and a seeded random walk), so a finding replays
without the fuzzer.
"""
from __future__ import annotations

import struct


class Finding(AssertionError):
    """An invariant of the target does not hold for this input."""


def check(cond: bool, what: str) -> None:
    if not cond:
        raise Finding(what)


class Reader:
    """The fuzzer's bytes as a stream of choices; past the end every read gives zeros
    (libFuzzer shortens inputs: a short one must still mean something)."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def left(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        out = self.data[self.pos:self.pos + n]
        self.pos += len(out)
        return out

    def u8(self) -> int:
        b = self.take(1)
        return b[0] if b else 0

    def u16(self) -> int:
        return int.from_bytes(self.take(2).ljust(2, b"\0"), "little")

    def u32(self) -> int:
        return int.from_bytes(self.take(4).ljust(4, b"\0"), "little")

    def i32(self) -> int:
        return struct.unpack("<i", self.take(4).ljust(4, b"\0"))[0]

    def choose(self, options):
        return options[self.u8() % len(options)]

    def blob(self, most: int) -> bytes:
        """A length-prefixed piece of at most `most` bytes."""
        return self.take(self.u16() % (most + 1))

    def text(self, most: int) -> str:
        return self.blob(most).decode("utf-8", "replace")

    def rest(self) -> bytes:
        return self.take(self.left())
