"""Read strace's log of a native run: each system call's name, arguments and answer.

`xax-emu init` runs the program under `strace -f -y` (strace_command() says how) and
reads its log here.  The log is text meant for people; what this module relies on:

    PID  name(ARGS) = RET[<fd path>] [ERRNO (text)]
    PID  name(ARGS <unfinished ...>            (another thread or process ran meanwhile)
    PID  <... name resumed>REST) = RET ...

ARGS are C-like: "strings" with C escapes, {structs}, [arrays], FLAG|FLAG, and fds
decorated with what they are open on (-y): 3</usr/lib/x.so>, AT_FDCWD</home/u>.
Calls whose buffers are data (read, write, ...) are logged raw (-e raw=...), so the
log holds no file contents.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

# Their buffers are the program's data, not names: logged as raw numbers, never as text.
DATA_CALLS = ("read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2",
              "pwritev2", "recvfrom", "sendto", "recvmsg", "sendmsg", "getrandom", "getdents64", "getdents")
STRING_MAX = 4096  # PATH_MAX: every path strace prints is whole


def strace_command(log: str) -> list[str]:
    """strace's options for a recording: follow threads and children (-f), fds decorated with
    their paths (-y), whole paths, no signals, no exit lines, data buffers raw."""
    return ["strace", "-f", "-qq", "-y", "-s", str(STRING_MAX), "-e", "signal=none",
            "-e", "raw=" + ",".join(DATA_CALLS), "-o", log]


class StraceParseError(ValueError):
    """A line of strace's log that is not a system call as expected; names the line."""


@dataclass
class Call:
    pid: int
    name: str
    args: list[str]         # top-level arguments, as strace printed them
    ret: int | None          # None: "?" (the call did not return: exit, execve's old image)
    errno: str | None = None  # "ENOENT" when it failed
    ret_path: str | None = None  # the returned fd's path (-y), e.g. openat's

    @property
    def ok(self) -> bool:
        return self.errno is None

    def answer(self) -> str:
        """The answer as a profile would give it: "0", "3", "-ENOENT"."""
        return f"-{self.errno}" if self.errno else ("?" if self.ret is None else str(self.ret))


_LINE = re.compile(r"^(\d+) +(.*)$")
_RESUMED = re.compile(r"^<\.\.\. ([a-z0-9_]+) resumed>(.*)$", re.S)
_CALL = re.compile(r"^([a-z0-9_]+)\((.*)$", re.S)
_RET = re.compile(r"^ += (\?|-?\d+|0x[0-9a-f]+)(<.*?>)?(?: ([A-Z][A-Z0-9_]+) \(.*\))?(?: \(.*\))?$", re.S)


def parse_log(text: str) -> list[Call]:
    """Every completed system call of the log, in the order they returned."""
    calls: list[Call] = []
    pending: dict[int, tuple[str, str]] = {}  # pid -> (name, the arguments so far)
    for number, line in enumerate(text.splitlines(), 1):
        m = _LINE.match(line)
        if not m:
            if line.strip():
                raise StraceParseError(f"strace log line {number}: no pid: {line[:120]!r}")
            continue
        pid, rest = int(m.group(1)), m.group(2)
        if rest.startswith("+++") or rest.startswith("---"):
            continue  # exits and signals (most are off: -qq, signal=none)
        resumed = _RESUMED.match(rest)
        if resumed:
            name, tail = resumed.groups()
            start = pending.pop(pid, (name, ""))
            body = start[1] + tail
        else:
            c = _CALL.match(rest)
            if not c:
                raise StraceParseError(f"strace log line {number}: not a system call: {line[:120]!r}")
            name, body = c.groups()
        if body.endswith(" <unfinished ...>"):
            pending[pid] = (name, body[: -len(" <unfinished ...>")])
            continue
        calls.append(_complete(pid, name, body, number, line))
    return calls


def _complete(pid: int, name: str, body: str, number: int, line: str) -> Call:
    end = _closing_paren(body)
    if end is None:
        raise StraceParseError(f"strace log line {number}: unbalanced arguments: {line[:120]!r}")
    m = _RET.match(body[end + 1:])
    if not m:
        raise StraceParseError(f"strace log line {number}: no result: {line[:120]!r}")
    raw, path, errno_name = m.group(1), m.group(2), m.group(3)
    ret = None if raw == "?" else int(raw, 0)
    return Call(pid, name, split_args(body[:end]), ret, errno_name if errno_name and ret == -1 else None,
                unquote_decoration(path[1:-1]) if path else None)


def _closing_paren(body: str) -> int | None:
    """The index of the ')' that closes the call's arguments."""
    depth, i, n = 0, 0, len(body)
    while i < n:
        ch = body[i]
        if ch == '"':
            i = _string_end(body, i)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return i if ch == ")" else None
            depth -= 1
        elif ch == "<" and i and (body[i - 1].isdigit() or body[i - 1].isalpha()) and _decoration_at(body, i):
            i = body.index(">", i) + 1  # an fd's path: 3</a (b)> must not count its parentheses
            continue
        i += 1
    return None


def _decoration_at(body: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and (body[j].isalnum() or body[j] == "_"):
        j -= 1
    token = body[j + 1:i]
    return (token.isdigit() or token == "AT_FDCWD") and ">" in body[i:]


def _string_end(body: str, i: int) -> int:
    """The index just past the string literal that starts at body[i] (and its "..." if cut)."""
    j = i + 1
    while j < len(body):
        if body[j] == "\\":
            j += 2
            continue
        if body[j] == '"':
            j += 1
            return j + 3 if body.startswith("...", j) else j
        j += 1
    return j


def split_args(body: str) -> list[str]:
    """The top-level, comma-separated arguments."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(body):
        ch = body[i]
        if ch == '"':
            i = _string_end(body, i)
            continue
        if ch == "<" and i and _decoration_at(body, i):
            i = body.index(">", i) + 1
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(body[start:i].strip())
            start = i + 1
        i += 1
    last = body[start:].strip()
    if last or out:
        out.append(last)
    return out


_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", "v": b"\v", "f": b"\f", "a": b"\a", "b": b"\b", "\\": b"\\",
            '"': b'"', "'": b"'", "?": b"?"}


def unquote(arg: str) -> str | None:
    """A "string" argument as the file name it is (bytes decoded as the OS does); None if
    the argument is not a whole string (a NULL, an address, a string cut short)."""
    if len(arg) < 2 or arg[0] != '"' or arg[-1] != '"':
        return None
    return os.fsdecode(_unescape(arg[1:-1]))


def unquote_decoration(text: str) -> str:
    return os.fsdecode(_unescape(text))


def _unescape(s: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(s):
        ch = s[i]
        if ch != "\\" or i + 1 >= len(s):
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = s[i + 1]
        if nxt == "x":
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        elif nxt in "01234567":
            j = i + 1
            while j < len(s) and j < i + 4 and s[j] in "01234567":
                j += 1
            out.append(int(s[i + 1:j], 8) & 0xFF)
            i = j
        else:
            out += _ESCAPES.get(nxt, nxt.encode())
            i += 2
    return bytes(out)


_FD = re.compile(r"^(-?\d+|AT_FDCWD)<(.*)>$", re.S)


def fd_path(arg: str) -> str | None:
    """The path an fd argument is decorated with: 3</etc/x> -> /etc/x, AT_FDCWD</w> -> /w."""
    m = _FD.match(arg)
    return unquote_decoration(m.group(2)) if m else None


@dataclass
class Recording:
    """One native run: every call, by the process that made it."""

    calls: list[Call] = field(default_factory=list)
    main_pid: int | None = None

    @classmethod
    def from_log(cls, text: str) -> "Recording":
        calls = parse_log(text)
        main = next((c.pid for c in calls if c.name == "execve"), calls[0].pid if calls else None)
        return cls(calls, main)

    def program_calls(self) -> list[Call]:
        """The calls of the program itself: its first process and that process's threads, not
        the processes it started (their programs cannot run in a picoprocess)."""
        mine = {self.main_pid}
        out = []
        for c in self.calls:
            if c.pid in mine:
                out.append(c)
                if c.name in ("clone", "clone3") and c.ok and c.ret and "CLONE_THREAD" in ",".join(c.args):
                    mine.add(c.ret)
        # A thread's first calls can come before its parent's clone returns: take them too.
        return [c for c in self.calls if c.pid in mine]

    def children(self) -> list[Call]:
        """The processes the program started: their execve calls (and the forks that made them)."""
        threads = {c.pid for c in self.program_calls()}
        return [c for c in self.calls if c.pid not in threads and c.name.startswith("execve")]
