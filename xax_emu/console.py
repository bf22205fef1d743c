"""The command's own stdout and stderr, treated as peers that may fail.

What `xax-emu` prints itself (inspect's and syscalls' answers, pack's image id,
trace's accounting, its error lines) goes through emit(): a full device
(ENOSPC), a closed descriptor or any other failure to write becomes one
OutputError naming the stream, never a traceback.  A reader that went away
(EPIPE, `| head`) is left to the caller, which stops quietly as other tools do.
(The program's own stdout and stderr under `run` are relayed by the Monitor,
monitor/stdio.py.)
"""
from __future__ import annotations

import os
import sys

from .errors import XaxError

_closed: set[int] = set()  # the std fds that were closed when the command started


class OutputError(XaxError, OSError):
    """The command's own output could not be written; the message names the stream or file."""


def ensure_std_fds() -> None:
    """A closed stdin, stdout or stderr would be reused by the Monitor's own fds (its
    channel, a pidfd) and then read or written as if it were the program's stdio:
    put /dev/null there first, as daemons do, and remember that it was closed."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one
            _closed.add(fd)
    # Python leaves sys.stdout (sys.stderr) None when it started with fd 1 (2) closed.
    if sys.stdout is None:
        sys.stdout = open(1, "w", closefd=False)
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)


_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7f, 0xa0)] if c != 0x09}
_CONTROLS.update({0x0a: "\\n", 0x0d: "\\r"})


def one_line(text: str) -> str:
    """A message as one line of plain text, whatever the names it quotes contain: line
    breaks and other control characters (a terminal's escape sequences) escaped."""
    return text.translate(_CONTROLS)


def emit(text: str, stream=None) -> None:
    """Write `text` and a newline to `stream` (stdout) and flush it; OutputError if
    that fails, BrokenPipeError if its reader went away."""
    stream = sys.stdout if stream is None else stream
    name = "stdout" if stream is sys.stdout else "stderr" if stream is sys.stderr else getattr(stream, "name", "?")
    if (stream is sys.stdout and 1 in _closed) or (stream is sys.stderr and 2 in _closed):
        raise OutputError(f"cannot write to {name}: it is closed")
    try:
        stream.write(text + "\n")
        stream.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as e:  # ValueError: a stream closed under us
        raise OutputError(f"cannot write to {name}: {getattr(e, 'strerror', None) or e}") from None


def error_line(text: str) -> None:
    """The command's one-line error on stderr; if stderr itself fails, nothing more can be said."""
    try:
        emit(f"xax-emu: {one_line(text)}", sys.stderr)
    except OSError:
        pass


def open_output(path: str, option: str):
    """The file the user named with `option`, open for writing text; OutputError naming
    both.  A FIFO without a reader is an error (ENXIO), not a wait without end."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    except OSError as e:
        raise OutputError(f"{option} {path}: {e.strerror or e}") from None
    except ValueError as e:  # a NUL in the name
        raise OutputError(f"{option} {path!r}: {e}") from None
    os.set_blocking(fd, True)
    return os.fdopen(fd, "w")


def write_file(path: str, text: str, option: str) -> None:
    """`text` written to the file the user named with `option`; OutputError naming both."""
    f = open_output(path, option)
    try:
        with f:
            f.write(text)
    except OSError as e:
        raise OutputError(f"{option} {path}: {e.strerror or e}") from None


def quiet_exit() -> None:
    """Before the interpreter exits: its own flush of a stdout that failed would print
    'Exception ignored ...'; point fd 1 at /dev/null so there is nothing left to fail."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
