"""System calls a profile may forward to the Monitor (forward()), and how the
Monitor serves each.  Shared by the compiler (which refuses forward() for
anything not listed) and the Monitor (which answers -ENOSYS for anything not
listed, whatever a picoprocess asks)."""
from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from typing import Callable

from .. import protocol as p

MAX_OUT = p.MAX_PAYLOAD - p.FORWARD_RESULT.size

# <linux/random.h>
GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE = 0x1, 0x2, 0x4


@dataclass(frozen=True)
class Forwarded:
    doc: str
    out_arg: int  # the argument that points to where the reply's bytes go, or -1
    serve: Callable[[tuple[int, ...]], tuple[int, bytes]]  # args -> (result, bytes for out_arg)


def _getrandom(args: tuple[int, ...]) -> tuple[int, bytes]:
    length, flags = args[1], args[2] & 0xFFFF_FFFF
    if flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) or (flags & GRND_RANDOM and flags & GRND_INSECURE):
        return -errno.EINVAL, b""
    n = min(length, MAX_OUT)  # a short read, as getrandom may give
    return n, os.urandom(n)


FORWARDABLE: dict[str, Forwarded] = {
    "getrandom": Forwarded("random bytes from the Monitor's os.urandom (at most 64 KiB a call)", 0, _getrandom),
}
