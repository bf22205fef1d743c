"""Sockets and readiness in a running picoprocess, against the same program run natively:
tests/programs/netcalls.c (a socketpair, a TCP server and client in one process with a
thread that blocks in recv, UDP, epoll level- and edge-triggered and one-shot over a socket,
a pipe and an eventfd, select and ppoll timeouts, stdin and a pipe in one poll) prints the
same lines, byte for byte, and asks for nothing the layer does not handle."""
from pathlib import Path

import pytest

from conftest import run_native, run_pico

PROFILE = """\
from xax_emu.profiles import load
from xax_emu.syscalls.profile import Profile, emulate_all
APP = Profile("net", extends=[load("static-libc")], syscalls={**emulate_all("sockets")})
"""


@pytest.fixture
def profile(tmp_path: Path) -> str:
    (tmp_path / "net.py").write_text(PROFILE)
    return f"{tmp_path}/net.py:APP"


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_sockets_and_waits_as_natively(build, profile, libc):
    prog = build("programs/netcalls.c", libc, extra=["-lpthread"])
    native = run_native(prog, stdin=b"hello stdin\n")
    r = run_pico(prog, stdin=b"hello stdin\n", profile=profile, trace_all=True)
    assert (r.stdout, r.code) == (native.stdout, native.returncode), r.stderr
    assert r.report.missing == {}
    assert b"echoed 100000 bytes, same 1" in r.stdout and b"round 0: 3 events" in r.stdout
