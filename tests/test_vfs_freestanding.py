"""The VFS's C stays freestanding: each file compiles with the layer's flags (no libc, no stack
protector, warnings are errors), the objects need nothing but memcpy/memmove/memset/memcmp/strlen
(runtime_c/lib/mem.c), and linked as a static PIE they have only R_X86_64_RELATIVE relocations,
the only kind the layer's self-relocator handles."""
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ROOT / "runtime_c"
VFS = RUNTIME / "vfs"
SOURCES = sorted(VFS.glob("*.c"))
FLAGS = ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fPIE", "-ffreestanding", "-fno-stack-protector",
         "-fno-tree-loop-distribute-patterns", "-fvisibility=hidden"]
INCLUDES = [f"-I{RUNTIME / 'include'}", f"-I{RUNTIME / 'lib'}"]
LIBC_HELPERS = {"memcpy", "memmove", "memset", "memcmp", "strlen"}




def makefile_flags() -> list[str]:
    """PICO_CFLAGS from runtime_c/Makefile (the layer's own), if it can be read."""
    text = (RUNTIME / "Makefile").read_text()
    m = re.search(r"^PICO_CFLAGS\s*=\s*((?:.*\\\n)*.*)$", text, re.M)
    if not m:
        return []
    return [f for f in m.group(1).replace("\\\n", " ").split() if not f.startswith("-I")]


def compile_all(tmp_path: Path, flags: list[str]) -> list[Path]:
    objs = []
    for src in SOURCES:
        obj = tmp_path / (src.stem + ".o")
        r = subprocess.run(["gcc", *flags, *INCLUDES, "-c", str(src), "-o", str(obj)], capture_output=True, text=True)
        assert r.returncode == 0, f"{src.name} does not compile freestanding:\n{r.stderr}"
        objs.append(obj)
    return objs


def test_sources_exist():
    names = {p.name for p in SOURCES}
    assert {"path.c", "fdtable.c", "tar.c", "ram.c", "origin.c", "sha256.c", "stdio.c", "vfs.c"} <= names


def test_each_file_opens_with_what_it_implements():
    for src in SOURCES + [VFS / "vfs.h", VFS / "vfs_int.h"]:
        assert src.read_text().startswith("/* "), f"{src.name} must open with a comment saying what it implements"


@pytest.mark.parametrize("which", ["brief", "makefile"])
def test_compiles_freestanding(tmp_path, which):
    flags = FLAGS if which == "brief" else makefile_flags()
    if not flags:
        pytest.fail("PICO_CFLAGS not found in runtime_c/Makefile: the freestanding check must read the real flags")
    objs = compile_all(tmp_path, flags + ["-c"])
    undefined = set()
    defined = set()
    for obj in objs:
        out = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "U":
                undefined.add(parts[1])
            elif len(parts) == 3 and parts[1] in "TDRBtdrb":
                defined.add(parts[2])
    assert undefined - defined <= LIBC_HELPERS, f"needs more than the freestanding helpers: {undefined - defined - LIBC_HELPERS}"


def test_links_as_a_static_pie_with_relative_relocations_only(tmp_path):
    objs = compile_all(tmp_path, FLAGS)
    mem = tmp_path / "mem.o"
    subprocess.run(["gcc", *FLAGS, *INCLUDES, "-c", str(RUNTIME / "lib" / "mem.c"), "-o", str(mem)], check=True)
    out = tmp_path / "vfs.elf"
    r = subprocess.run(["gcc", "-nostdlib", "-static-pie", "-Wl,-e,vfs_new", "-Wl,--no-undefined", "-o", str(out),
                        *map(str, objs), str(mem)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    relocs = subprocess.run(["readelf", "-rW", str(out)], capture_output=True, text=True, check=True).stdout
    kinds = {line.split()[2] for line in relocs.splitlines() if len(line.split()) > 2 and line.split()[2].startswith("R_")}
    assert kinds <= {"R_X86_64_RELATIVE"}, kinds
