"""runtime_c/lib/mem.c (the runtime's memcpy, memmove, memset: rep movsb/stosb) against
Python's own slicing, every overlap and alignment: the layer and the VFS copy with these."""
import ctypes
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

RUNTIME = Path(__file__).resolve().parents[1] / "runtime_c"


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    so = tmp_path_factory.mktemp("mem") / "mem.so"
    # Renamed so that the test process's own libc keeps its memcpy.
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-ffreestanding", "-fno-tree-loop-distribute-patterns",
                    "-Dmemcpy=xax_memcpy", "-Dmemmove=xax_memmove", "-Dmemset=xax_memset", "-Dmemcmp=xax_memcmp",
                    "-Dstrlen=xax_strlen", "-Dstrcmp=xax_strcmp", "-Dstrncmp=xax_strncmp",
                    "-o", str(so), str(RUNTIME / "lib" / "mem.c")], check=True)
    lib = ctypes.CDLL(str(so))
    for name in ("xax_memcpy", "xax_memmove"):
        getattr(lib, name).restype = ctypes.c_void_p
        getattr(lib, name).argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
    lib.xax_memset.restype = ctypes.c_void_p
    lib.xax_memset.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t)
    return lib


SIZE = 512


@settings(max_examples=600, deadline=None)
@given(data=st.binary(min_size=SIZE, max_size=SIZE), dst=st.integers(0, SIZE), src=st.integers(0, SIZE),
       n=st.integers(0, SIZE))
def test_memmove_and_memcpy_match_slicing(mem, data, dst, src, n):
    n = min(n, SIZE - dst, SIZE - src)
    buf = ctypes.create_string_buffer(data, SIZE)
    base = ctypes.addressof(buf)
    assert mem.xax_memmove(base + dst, base + src, n) == base + dst
    expected = bytearray(data)
    expected[dst:dst + n] = data[src:src + n]
    assert buf.raw == bytes(expected)
    if abs(dst - src) >= n:  # memcpy: only without overlap
        buf2 = ctypes.create_string_buffer(data, SIZE)
        b2 = ctypes.addressof(buf2)
        assert mem.xax_memcpy(b2 + dst, b2 + src, n) == b2 + dst and buf2.raw == bytes(expected)


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, SIZE), n=st.integers(0, SIZE), c=st.integers(-300, 300))
def test_memset_matches(mem, start, n, c):
    n = min(n, SIZE - start)
    buf = ctypes.create_string_buffer(b"\xaa" * SIZE, SIZE)
    mem.xax_memset(ctypes.addressof(buf) + start, c, n)
    assert buf.raw == b"\xaa" * start + bytes([c & 0xFF]) * n + b"\xaa" * (SIZE - start - n)
