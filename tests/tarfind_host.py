"""The PAL's tar_find_layer (runtime_c/pal/tarfind.c, with the format's decoder
runtime_c/vfs/tarfmt.c) built for the host with cffi: the very files xax-pico links,
compiled once per version of their sources into the VFS host build's cache directory."""
from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from xax_emu.vfs._host import _cache_root

ROOT = Path(__file__).resolve().parent.parent / "runtime_c"
SOURCES = [ROOT / "pal" / "tarfind.c", ROOT / "vfs" / "tarfmt.c"]
HEADERS = [ROOT / "pal" / "tarfind.h", ROOT / "vfs" / "tarfmt.h", ROOT / "include" / "xax_image.h"]
CDEF = "const char *tar_find_layer(const unsigned char *tar, uint64_t size, const unsigned char **data, " \
       "uint64_t *len);"
FLAGS = ["-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror"] + (
    ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"] if os.environ.get("XAX_VFS_SANITIZE") else [])

_module = None


def _build() -> Path:
    import cffi

    h = hashlib.sha256(repr(FLAGS).encode())
    for p in SOURCES + HEADERS + [Path(__file__)]:
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    name = f"_xax_tarfind_host_{h.hexdigest()[:16]}"
    root = _cache_root()
    target = root / (name + importlib.machinery.EXTENSION_SUFFIXES[0])
    if target.exists():
        return target
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    ffi.set_source(name, '#include "tarfind.h"', sources=[str(p) for p in SOURCES],
                   include_dirs=[str(ROOT / "pal"), str(ROOT / "include")], extra_compile_args=FLAGS,
                   extra_link_args=[f for f in FLAGS if f.startswith("-fsanitize")])
    tmp = Path(tempfile.mkdtemp(prefix=name + "-", dir=root))
    try:
        os.replace(Path(ffi.compile(tmpdir=str(tmp))), target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _lib():
    global _module
    if _module is None:
        path = _build()
        spec = importlib.util.spec_from_file_location(path.name.split(".")[0], path)
        _module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_module)
    return _module


def find_layer(image: bytes) -> tuple[int, int] | str:
    """(offset, size) of the layer's data in the image, or the PAL's reason for refusing it."""
    mod = _lib()
    ffi, lib = mod.ffi, mod.lib
    buf = ffi.from_buffer(image)
    data = ffi.new("const unsigned char **")
    size = ffi.new("uint64_t *")
    why = lib.tar_find_layer(buf, len(image), data, size)
    if why != ffi.NULL:
        return ffi.string(why).decode()
    return int(ffi.cast("uintptr_t", data[0])) - int(ffi.cast("uintptr_t", buf)), size[0]
