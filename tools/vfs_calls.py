#!/usr/bin/env python3
"""Which files of runtime_c/vfs/ use functions (or tables) defined in which others, and the cycles.

Compiles each vfs .c file alone (the layer's flags, -O0 so that nothing is inlined away) and reads
its symbols with nm: a file uses another when it needs a symbol the other defines.  Prints one line
per file ("a.c -> b.c c.c"), then the strongly connected components of more than one file: the
groups of files that reach one another through calls, i.e. that cannot be understood one at a time.

    python3 tools/vfs_calls.py
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VFS = ROOT / "runtime_c" / "vfs"
FLAGS = ["-O0", "-std=gnu11", "-ffreestanding", "-fno-stack-protector", "-fPIE", f"-I{ROOT / 'runtime_c' / 'include'}"]


def symbols(obj: Path) -> tuple[set[str], set[str]]:
    """(defined, needed) global symbols of one object file."""
    out = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True).stdout
    defined, needed = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            needed.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDRB":
            defined.add(parts[2])
    return defined, needed


def graph() -> dict[str, set[str]]:
    """file -> the files whose symbols it needs."""
    defs: dict[str, str] = {}
    needs: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for src in sorted(VFS.glob("*.c")):
            obj = Path(tmp) / (src.stem + ".o")
            subprocess.run(["gcc", *FLAGS, "-c", str(src), "-o", str(obj)], check=True)
            d, n = symbols(obj)
            for s in d:
                defs[s] = src.name
            needs[src.name] = n
    return {f: {defs[s] for s in n if s in defs and defs[s] != f} for f, n in needs.items()}


def components(g: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, those of two files or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    g = graph()
    for f in sorted(g):
        print(f"{f:12} -> {' '.join(sorted(g[f]))}")
    comps = components(g)
    print()
    if not comps:
        print("no cycles")
    for c in comps:
        print(f"cycle of {len(c)} files: {' '.join(c)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
