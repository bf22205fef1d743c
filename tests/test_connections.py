"""`xax-emu run|trace --connection FILE`: a server run from the command line is handed each
file as a connection from outside (as serve hands it a browser's), takes it with accept(2) on
its listening socket, and the answers come back in order (--answers); then it is ended."""
import subprocess
import sys

from xax_emu.syscalls import catalogue

PROFILE = """\
from xax_emu.profiles import load
from xax_emu.syscalls.profile import Profile, emulate_all
APP = Profile("net", extends=[load("static-libc")], syscalls={**emulate_all("sockets")})
"""


def test_a_posix_server_answers_the_connections_it_is_handed(build, tmp_path):
    prog = build("programs/tinyhttpd.c")
    (tmp_path / "net.py").write_text(PROFILE)
    files = []
    for i, path in enumerate(["/", "/a/b?c=d", "/last"]):
        f = tmp_path / f"req{i}"
        f.write_bytes(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        files += ["--connection", str(f)]
    answers = tmp_path / "answers"
    r = subprocess.run([sys.executable, "-m", "xax_emu", "trace", "--json", "--output", str(tmp_path / "t.json"),
                        "--profile", f"{tmp_path}/net.py:APP", *files, "--answers", str(answers), str(prog)],
                       capture_output=True, timeout=120)
    assert r.returncode == 137, r.stderr  # ended once the connections were answered
    assert b"xax-emu: its 3 connections were answered" in r.stderr
    assert b"tinyhttpd: listening on [::]:8080" in r.stderr
    bodies = [part.split(b"\r\n\r\n", 1)[1] for part in answers.read_bytes().split(b"HTTP/1.0 200 OK\r\n")[1:]]
    assert bodies == [b"path /, connection 1, from ::ffff:127.0.0.1\n", b"path /a/b?c=d, connection 2, from "
                      b"::ffff:127.0.0.1\n", b"path /last, connection 3, from ::ffff:127.0.0.1\n"]
    import json
    d = json.loads((tmp_path / "t.json").read_text())
    assert d["syscalls"]["accept"] == {"emulated": 3} and d["missing"]["total"] == 0


def test_without_connections_a_listener_gets_none(build, tmp_path):
    """run without --connection: nothing is offered (no BOOT_FLAG_ACCEPT), the listener waits
    (until the wall limit here)."""
    prog = build("programs/tinyhttpd.c")
    (tmp_path / "net.py").write_text(PROFILE)
    r = subprocess.run([sys.executable, "-m", "xax_emu", "run", "--wall-seconds", "2", "--profile",
                        f"{tmp_path}/net.py:APP", str(prog)], capture_output=True, timeout=60)
    assert r.returncode == 137 and b"wall-clock limit of 2 s reached" in r.stderr, r.stderr
