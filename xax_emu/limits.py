"""One validation for a picoprocess's limits and the sizes the Monitor hands on.

The same ranges apply wherever a limit comes from: a manifest's [limits] (at
pack time), an image's .xax/meta.json (an image is hostile data: checked on
every load, so `inspect` refuses what `run` refuses), and the command line
(--memory, --cpu-seconds, --wall-seconds, --download-limit, --threads).  Each
bound is what the mechanism that enforces the limit can really take:

  memory        16M .. 128T bytes, whole  RLIMIT_AS.  Below 16 MiB the runtime itself
                                          (boot block, PAL, layer, stack) does not start;
                                          128 TiB is x86-64's whole user address space.
  cpu_seconds   1 .. 10**9 s, whole       RLIMIT_CPU, whole seconds; the boot block sets the
                                          hard limit a second above, and the kernel keeps the
                                          limit in nanoseconds in 64 bits (wraps past 1.8e10 s).
  wall_seconds  0.001 .. 2147483 s        enforced by the Monitor's selector, whose timeout
                                          (epoll_wait's) is a C int of milliseconds: 24.8 days.
  download      1 .. 128T bytes, whole    one download or upload, held in the Monitor's memory.
  threads       1 .. 4096, whole          RLIMIT_NPROC in the picoprocess's own user namespace.
  processes     1 .. 256, whole           the family's processes at once (docs/processes.md),
                                          counted by the Monitor at each fork; 1: no fork.

and the Monitor's own settings (SETTINGS), not a picoprocess's: --cache-size
(the HTTP cache's files on disk, 1M .. 128T) and serve's --memory-budget,
--idle-seconds, --request-timeout, --app-timeout (the selector's bound again),
--max-instances and --max-connections.

No limit is 0 or "none": a limit that is not given takes its default (the
image's, else the Monitor's); 0, negative, fractional sizes, infinities and NaN
are refused with an error naming the key or the option.

The arguments and environment travel in the BOOT message, one datagram of at
most protocol.MAX_BOOT (1 MiB) with the seccomp filters, and no larger than the
channel's send buffer lets it be: an image's own strings may take at most
IMAGE_STRINGS_MAX (128 KiB, as Linux allows one argument), checked at pack time
and on load; a run's (the image's and the command line's together) at most
boot_strings_max(), checked before the picoprocess starts.
"""
from __future__ import annotations

import functools
import math
import os
import re
import socket
from dataclasses import dataclass

from .errors import XaxError
from .protocol import BOOT, HEADER_SIZE, MAX_BOOT, MAX_READ

KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40
_SHIFT = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}
_SIZE = re.compile(r"(\d{1,20})\s*(?:([KMGT])(?:i?B)?|B)?", re.IGNORECASE)
_TEXT_MAX = 64  # longer command-line text is no number we take


class LimitError(XaxError, ValueError):
    """A limit or size out of its range, or not a value of its kind; `key` names it."""

    def __init__(self, message: str, key: str = ""):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Range:
    key: str       # in the manifest's [limits] and the image's metadata
    option: str    # on the command line
    kind: str      # "size" (whole bytes), "whole" (a whole number), "number" (finite, int or float)
    unit: str      # for messages
    low: int | float
    high: int | float
    why: str

    def bounds(self) -> str:
        show = size_text if self.kind == "size" else (lambda n: f"{n:g}" if isinstance(n, float) else str(n))
        return f"from {show(self.low)} to {show(self.high)} {self.unit}"


THREADS_MAX = 4096
PROCESSES_MAX = 256  # runtime_c/layer/state.h LAYER_CHILDREN_MAX
SELECTOR_MAX = 2_147_483  # seconds: epoll_wait's timeout is a C int of milliseconds
RANGES = {r.key: r for r in (
    Range("memory", "--memory", "size", "bytes", 16 * MiB, 128 * TiB,
          "RLIMIT_AS: the runtime does not start in less; x86-64 has no more address space"),
    Range("cpu_seconds", "--cpu-seconds", "whole", "seconds", 1, 10**9,
          "RLIMIT_CPU: the kernel keeps it in nanoseconds in 64 bits"),
    Range("wall_seconds", "--wall-seconds", "number", "seconds", 0.001, SELECTOR_MAX,
          "the Monitor's selector takes a timeout of at most 2**31-1 ms"),
    Range("download", "--download-limit", "size", "bytes", 1, 128 * TiB,
          "one body, held in the Monitor's memory"),
    Range("threads", "--threads", "whole", "threads", 1, THREADS_MAX,
          "RLIMIT_NPROC in the picoprocess's own user namespace"),
    Range("processes", "--processes", "whole", "processes", 1, PROCESSES_MAX,
          "the family's processes at once, counted by the Monitor (each a task under RLIMIT_NPROC too; "
          "the layer's table of children holds 256)"),
)}
KEYS = tuple(RANGES)
# The Monitor's own settings, not a picoprocess's limits (no manifest or image sets them), checked the same way.
SETTINGS = {r.key: r for r in (
    Range("cache_size", "--cache-size", "size", "bytes", 1 * MiB, 128 * TiB,
          "the HTTP cache's files on disk; less than a MiB would hold nothing worth keeping"),
    Range("memory_budget", "--memory-budget", "size", "bytes", 16 * MiB, 1 << 60,
          "serve: the sum of the running picoprocesses' memory limits; at least one picoprocess's least"),
    Range("idle_seconds", "--idle-seconds", "number", "seconds", 0.001, SELECTOR_MAX,
          "serve: an instance's deadline, which the Monitor's selector waits for"),
    Range("request_timeout", "--request-timeout", "number", "seconds", 0.001, SELECTOR_MAX,
          "serve: a wait in select() for a browser's request head"),
    Range("app_timeout", "--app-timeout", "number", "seconds", 0.001, SELECTOR_MAX,
          "serve: a wait in select() for an app's response head"),
    Range("max_instances", "--max-instances", "whole", "instances", 1, 1 << 20,
          "serve: each instance holds file descriptors, of which a process may have 2**20 (nr_open)"),
    Range("max_connections", "--max-connections", "whole", "connections", 1, 1 << 20,
          "serve: each connection holds a file descriptor, of which a process may have 2**20 (nr_open)"),
)}
_ALL = {**RANGES, **SETTINGS}


def size_text(n: int) -> str:
    """A byte count as the shortest exact size: 16777216 -> '16M', 1000 -> '1000'."""
    for unit, shift in (("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if n and n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return str(n)


def shown(value, most: int = 40) -> str:
    """A value as an error message shows it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= most else text[:most] + "..."


def _kind(value) -> str:
    return {bool: "a boolean", str: "a string", list: "an array", dict: "a table", type(None): "null"}.get(
        type(value), type(value).__name__)


def parse_size(text: str) -> int:
    """'256M', '2G', '512KiB', '4096' -> bytes; LimitError if it is not a size (the range is check()'s)."""
    m = _SIZE.fullmatch(text.strip()) if len(text) <= _TEXT_MAX else None
    if not m:
        raise LimitError(f"{shown(text)} is not a size (e.g. 512K, 256M, 2G)")
    return int(m.group(1)) << _SHIFT[(m.group(2) or "").upper()]


def check(key: str, value, given: str | None = None) -> int | float:
    """`value` for the limit `key`, checked for its kind and range: an int, or a
    float for wall_seconds.  LimitError (its message without the key) if not;
    the message shows `value`, or the text it was `given` as."""
    r = _ALL[key]
    given = shown(value) if given is None else shown(given)
    what = f"a {'whole ' if r.kind != 'number' else ''}number of {r.unit}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LimitError(f"must be {what}, not {_kind(value)}", key)
    if r.kind != "number" and not isinstance(value, int):
        raise LimitError(f"must be {what}, not {given}", key)
    if isinstance(value, float) and not math.isfinite(value):
        raise LimitError(f"must be a finite number of {r.unit}, not {given}", key)
    if not r.low <= value <= r.high:
        raise LimitError(f"must be {r.bounds()}, not {given}", key)
    return float(value) if r.kind == "number" else value


def from_text(key: str, text: str) -> int | float:
    """A command-line value for `key`, parsed for its kind and checked."""
    r = _ALL[key]
    if r.kind == "size":
        return check(key, parse_size(text), text.strip())
    stripped = text.strip()
    try:
        if len(stripped) > _TEXT_MAX:
            raise ValueError
        value = int(stripped) if r.kind == "whole" else float(stripped)
    except ValueError:
        what = "a whole number" if r.kind == "whole" else "a number"
        raise LimitError(f"{shown(text)} is not {what} of {r.unit}", key) from None
    return check(key, value, stripped)


def check_all(limits: dict) -> dict:
    """Every limit of `limits` (None: not set) checked; the first bad one raises."""
    return {k: None if v is None else check(k, v) for k, v in limits.items()}


# -- the strings of the BOOT message ---------------------------------------------------

BPF_MAXINSNS = 4096       # <linux/bpf_common.h>: the most instructions of one classic BPF program
FILTERS_MAX = 2 * BPF_MAXINSNS * 8  # the seal's filter and trace mode's kernel-counting filter
MONITOR_SETTINGS = 1024   # what the Monitor adds itself (origin=, sigbuf=, layer=): an origin is < 300 bytes
IMAGE_STRINGS_MAX = 128 * KiB  # an image's own (Linux's MAX_ARG_STRLEN); the rest is the command line's
UNIX_SKB_RESERVE = 32     # an AF_UNIX datagram may take the socket's send buffer less this (unix_dgram_sendmsg)


def channel_for_boot(sock: socket.socket) -> int:
    """Ask the kernel for a send buffer on the Monitor's end of a channel that carries
    the largest BOOT message, and return the largest datagram it now carries.

    The BOOT message is one SOCK_SEQPACKET datagram, which the kernel refuses
    (EMSGSIZE) if it is larger than the sender's buffer (212992 bytes by
    default); an unprivileged process gets at most net.core.wmem_max doubled."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, HEADER_SIZE + MAX_BOOT + UNIX_SKB_RESERVE)
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) - UNIX_SKB_RESERVE


def channel_for_replies(sock: socket.socket) -> int:
    """Ask for a send buffer on the Monitor's end of a channel that carries a READ reply of
    MAX_READ bytes (never shrinking one set for BOOT), and return the most payload a READ's
    reply may carry on it: MAX_READ, or less where the kernel grants less."""
    want = HEADER_SIZE + MAX_READ + UNIX_SKB_RESERVE
    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < want:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, want)
    return min(MAX_READ, sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) - UNIX_SKB_RESERVE - HEADER_SIZE)


@functools.cache
def boot_strings_max() -> int:
    """The most bytes a run's arguments, environment and settings may take: the BOOT
    message's (protocol.MAX_BOOT, or less where a channel cannot carry that much),
    less its fixed part, the filters and the Monitor's own settings."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with a, b:
        payload = min(MAX_BOOT, channel_for_boot(a) - HEADER_SIZE)
    return payload - BOOT.size - FILTERS_MAX - MONITOR_SETTINGS


def strings_size(strings, what: str, from_os: bool = False) -> int:
    """Bytes the strings take in the BOOT message (each with its NUL); LimitError,
    naming `what`, for one that cannot travel there: a NUL, or text that is not UTF-8 —
    except, `from_os`, strings the command line gave, which are the OS's bytes and
    pass through whatever they are (os.fsencode)."""
    total = 0
    for i, s in enumerate(strings):
        try:
            raw = os.fsencode(s) if from_os else s.encode()
        except UnicodeEncodeError:
            raise LimitError(f"{what}: {shown(s)} is not valid UTF-8 (string {i})") from None
        if b"\0" in raw:
            raise LimitError(f"{what}: {shown(s)} contains NUL (string {i})")
        total += len(raw) + 1
    return total


def image_strings(entry: str, args, env: dict, cwd: str) -> list[str]:
    """The strings an image puts in the BOOT message: argv[0] and its arguments, the
    environment, and the PAL's entry= and cwd= settings."""
    return [entry, *args, *(f"{k}={v}" for k, v in env.items()), f"entry={entry}", f"cwd={cwd}"]


def check_image_strings(entry: str, args, env: dict, cwd: str) -> int:
    """An image's own arguments and environment fit IMAGE_STRINGS_MAX; LimitError if not."""
    n = strings_size(image_strings(entry, args, env, cwd), "app.args and app.env")
    if n > IMAGE_STRINGS_MAX:
        raise LimitError(f"app.args and app.env come to {n} bytes, over the {IMAGE_STRINGS_MAX >> 10} KiB an "
                         f"image's arguments and environment may take (the BOOT message carries them, "
                         f"with the command line's)")
    return n


def check_boot_strings(strings) -> int:
    """A run's arguments, environment and settings fit boot_strings_max(); LimitError if not."""
    n = strings_size(strings, "the program's arguments and environment", from_os=True)
    if n > (room := boot_strings_max()):
        raise LimitError(f"the program's arguments and environment come to {n} bytes, over the "
                         f"{room} bytes the BOOT message has room for")
    return n
