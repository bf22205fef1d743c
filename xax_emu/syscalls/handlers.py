"""The layer's handlers: the names a profile may use in emulate(), and for each the
system calls it can serve and the C function that serves each one.

The handlers are the one source: each runtime_c/layer/sys_*.c names its families
and the system calls they serve in @family and @serves lines, which
tools/gen_layer_handlers.py turns into _handlers.py (read here) and
runtime_c/layer/handlers.h (the prototypes the generated table is compiled
against); a test keeps both current.
"""
from __future__ import annotations

from dataclasses import dataclass

from ._handlers import FAMILIES


@dataclass(frozen=True)
class Handler:
    doc: str
    functions: dict[str, str]  # syscall name -> C function in runtime_c/layer/
    source: str = ""           # the file of runtime_c/layer/ that declares and defines it
    params: tuple[str, ...] = ()


HANDLERS: dict[str, Handler] = {name: Handler(doc, dict(serves), source) for name, doc, source, serves in FAMILIES}


def c_function(handler: str, syscall: str) -> str | None:
    h = HANDLERS.get(handler)
    return h.functions.get(syscall) if h else None
