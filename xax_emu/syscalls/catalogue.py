"""The x86-64 syscall catalogue: numbers, names and argument kinds, as data
generated from the kernel's headers (tools/gen_syscalls.py -> _x86_64.py)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..errors import XaxError
from ._x86_64 import SYSCALLS

ARG_KINDS = ("fd", "path", "str", "ptr", "int", "long")


class UnknownSyscall(XaxError, KeyError):
    def __init__(self, what):
        super().__init__(f"no x86-64 system call {what!r}")
        self.what = what

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class Arg:
    ctype: str
    name: str
    kind: str  # one of ARG_KINDS


@dataclass(frozen=True)
class Syscall:
    nr: int
    name: str
    implemented: bool  # False: Linux itself answers -ENOSYS (sys_ni_syscall)
    args: tuple[Arg, ...]

    def signature(self) -> str:
        return f"{self.name}({', '.join(f'{a.ctype} {a.name}' for a in self.args)})"


ALL: tuple[Syscall, ...] = tuple(
    Syscall(nr, name, implemented, tuple(Arg(*a) for a in args)) for nr, name, implemented, args in SYSCALLS
)
MAX_NR = max(s.nr for s in ALL)
_BY_NAME = {s.name: s for s in ALL}
_BY_NR = {s.nr: s for s in ALL}


def by_name(name: str) -> Syscall:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownSyscall(name) from None


def by_number(nr: int) -> Syscall:
    try:
        return _BY_NR[nr]
    except KeyError:
        raise UnknownSyscall(nr) from None


@lru_cache(maxsize=None)
def names() -> frozenset[str]:
    return frozenset(_BY_NAME)
