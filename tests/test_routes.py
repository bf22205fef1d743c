"""The profiles issue's end-to-end case: a profile extending shipped bases, with tar,
RAM-disk and origin routes, compiled and enforced on a static program in a sealed
picoprocess — compared, line by line, with what the routes declare."""
import errno
import io
import subprocess
import sys
import tarfile

import pytest

from xax_emu import protocol as p, runtime
from xax_emu.monitor import Limits, parse_origin

from conftest import run_pico
from loopback import HttpOrigin

PROFILE = """
import errno
from xax_emu.profiles import load
from xax_emu.syscalls.profile import Deny, Profile, RamDisk, Tar, origin, reject

APP = Profile('routes-app', extends=[load('static-libc')],
    syscalls={'socket': reject(errno.EACCES, note='no sockets')},
    routes={'/app': Tar('files'), '/tmp': RamDisk(size=1 << 20), '/remote': origin('/pub'), '/proc': Deny()},
    cwd='/tmp')
"""


def make_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add(name, data=None, link=None, kind=tarfile.REGTYPE):
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if kind == tarfile.DIRTYPE:
                info.type, info.mode = kind, 0o755
                t.addfile(info)
            elif link:
                info.type, info.linkname = tarfile.SYMTYPE, link
                t.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                t.addfile(info, io.BytesIO(data))
        add("files", kind=tarfile.DIRTYPE)
        add("files/data", kind=tarfile.DIRTYPE)
        add("files/data/greeting.txt", b"hello from the image\n")
        add("files/data/link", link="greeting.txt")
        add("files/data/sub", kind=tarfile.DIRTYPE)
        add("files/data/sub/deep.txt", b"deep inside\n")
        add("outside.txt", b"not under the route\n")
    return buf.getvalue()


def cut_off(h) -> None:
    """A body that breaks off: 100 bytes declared, 50 sent, the connection closed."""
    h.send_response(200)
    h.send_header("Content-Length", "100")
    h.end_headers()
    h.wfile.write(b"x" * 50)
    h.close_connection = True


@pytest.fixture
def servers():
    with HttpOrigin() as origin_server, HttpOrigin() as other:
        origin_server.add("/pub/hello.txt", b"fetched from the origin\n")
        origin_server.special["/pub/cut.txt"] = cut_off
        other.add("/hello.txt", b"other origin\n")
        yield origin_server, other


def test_routes_end_to_end(build, tmp_path, servers):
    origin_server, other = servers
    (tmp_path / "routes_profile.py").write_text(PROFILE)
    prog = build("programs/routes.c", "musl", extra=[str(runtime.libxax())])
    r = run_pico(prog, [f"{other.base}/hello.txt"], profile=f"{tmp_path}/routes_profile.py:APP",
                 fs_image=make_tar(), origin=parse_origin(origin_server.base), limits=Limits(wall_seconds=30))
    assert r.code == 0, (r.report, r.stderr)
    assert r.stdout.decode().splitlines() == [
        "/app/data/greeting.txt: hello from the image",
        "/app/data/link: hello from the image",
        "/app/data/sub/deep.txt: deep inside",
        "stat size 21 dir 1",
        "entries 5",  # ., .., greeting.txt, link, sub
        f"create on the image: errno {errno.EROFS}",
        "/tmp/out.txt: written on the RAM disk",
        "rename 0",
        "/tmp/moved.txt: written on the RAM disk",
        "unlink 0",
        "/remote/hello.txt: fetched from the origin",
        f"/remote/missing.txt: errno {errno.ENOENT}",
        f"/remote/cut.txt: errno {errno.EIO}",  # never a file of the 50 bytes that came
        f"socket: -1 errno {errno.EACCES}",
        "other origin: -1",
        "cwd /tmp",
    ]
    assert other.requests == [] and other.connections == 0  # the other origin saw nothing
    assert [(s.method, s.path) for s in origin_server.requests] == [("GET", "/pub/hello.txt"),
                                                                    ("GET", "/pub/missing.txt"),
                                                                    ("GET", "/pub/cut.txt")]


def test_tar_route_without_an_image_is_a_clear_error(build, tmp_path):
    (tmp_path / "routes_profile.py").write_text(PROFILE)
    prog = build("programs/routes.c", "musl", extra=[str(runtime.libxax())])
    r = subprocess.run([sys.executable, "-m", "xax_emu", "run", "--profile", f"{tmp_path}/routes_profile.py:APP",
                        str(prog)], capture_output=True, text=True, timeout=60)
    assert r.returncode == p.EXIT_RUNTIME_FAILED
    assert r.stderr.splitlines() == ["xax-emu: cannot start the layer: the profile has tar routes but no "
                                     "filesystem image was given"]


def test_fd_3_is_the_programs_as_any_other(build, tmp_path):
    """The channel's number lies above the program's fds (protocol.py CHANNEL_FD): the first open
    gets 3, and dup2, close and fcntl on it answer as Linux does."""
    (tmp_path / "ram.py").write_text(
        "from xax_emu.profiles import load\n"
        "from xax_emu.syscalls.profile import Profile, RamDisk\n"
        "APP = Profile('ram', extends=[load('static-libc')], routes={'/tmp': RamDisk(1 << 20)})\n")
    r = run_pico(build("programs/fdnum.c"), profile=f"{tmp_path}/ram.py:APP")
    assert r.code == 0, r.report
    assert r.stdout.decode().splitlines() == [
        "first fds 3 4", "dup2 to 3: 3 errno 0", "close 3: 0 errno 0",
        f"fcntl 3: -1 errno {errno.EBADF}", "F_DUPFD from 0: -1"]
