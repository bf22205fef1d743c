"""/dev and /proc inside the picoprocess: tests/programs/devproc.c probes them (bytes read, errnos,
stat fields) and prints one line per probe; the sealed run must print what the native run prints,
but for the lines where the picoprocess answers by design what no machine of its own has (its
exe path, the synthetic /proc/loadavg and /proc/stat, one CPU, ENOENT for what it does not serve).

The native run is an unprivileged user's (nobody, when the tests run as root) in a new session
(no controlling terminal), with its stdin and stdout pipes made by that user, so that it sees
what the picoprocess's virtual user sees; the program itself refuses its probes that would change
the machine when run as root."""
import errno
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from xax_emu.image import pack_image
from xax_emu.syscalls.compiler import generate_c
from xax_emu.syscalls.profile import Deny, Profile, ProfileError

from conftest import run_pico

STDIN = b"hello world"
LOADAVG = "0.00 0.00 0.00 1/1 100\\n"
# the lines that are the picoprocess's own, checked exactly rather than compared
OWN = {"readlink /proc/self/exe", "/proc/loadavg content", "/proc/stat content", "nprocs",
       *(f"absent {p}" for p in ["/proc/cpuinfo", "/proc/self/maps", "/proc/1", "/proc/sys/kernel", "/dev/shm",
                                 "/dev/sda", "/dev/pts"])}


def lines(out: bytes) -> list[tuple[str, str]]:
    return [tuple(line.split(": ", 1)) if ": " in line else (line, "") for line in out.decode().splitlines()]


@pytest.fixture(scope="module")
def native_run(build):
    prog = build("programs/devproc.c", "glibc")
    # a directory the unprivileged user can reach (pytest's are root's own)
    where = Path(tempfile.mkdtemp(prefix="xax-devproc-"))
    try:
        os.chmod(where, 0o755)
        exe = where / "devproc"
        shutil.copy(prog, exe)
        os.chmod(exe, 0o755)
        kwargs = dict(user=65534, group=65534, extra_groups=[]) if os.geteuid() == 0 else {}
        # the pipes around the program are the unprivileged user's, as the channels are the virtual user's
        r = subprocess.run(["sh", "-c", 'printf "hello world" | "$0" | cat', str(exe)], capture_output=True,
                           start_new_session=True, timeout=60, cwd="/", **kwargs)
    finally:
        shutil.rmtree(where)
    assert b"rename /dev/zero: " in r.stdout, r.stdout.decode() + r.stderr.decode()  # it ran to the end
    return prog, r.stdout


def pack_devproc(tmp_path: Path, prog: Path, profile: str = "static-libc") -> Path:
    shutil.copy(prog, tmp_path / "devproc")
    (tmp_path / "manifest.toml").write_text(
        f'[app]\nname = "devproc"\nentry = "/bin/devproc"\ncwd = "/"\nprofile = "{profile}"\n'
        '[files]\n"/bin/devproc" = "devproc"\n')
    image = tmp_path / "devproc.tar"
    pack_image(str(tmp_path / "manifest.toml"), str(image))
    return image


def test_dev_and_proc_answer_as_natively(native_run, tmp_path):
    prog, native = native_run
    r = run_pico(pack_devproc(tmp_path, prog), stdin=STDIN, trace_all=True)
    assert r.code == 0, (r.report, r.stderr)
    assert r.report.missing == {}
    mine, real = lines(r.stdout), lines(native)
    assert [kv for kv in mine if kv[0] not in OWN] == [kv for kv in real if kv[0] not in OWN]
    own = dict(kv for kv in mine if kv[0] in OWN)
    assert own.pop("readlink /proc/self/exe") == "/bin/devproc"  # the image's entry
    assert own.pop("/proc/loadavg content") == LOADAVG
    stat = own.pop("/proc/stat content").split("\\n")
    assert stat[:4] == ["cpu  0 0 0 0 0 0 0 0 0 0", "cpu0 0 0 0 0 0 0 0 0 0 0", "intr 0", "ctxt 0"]
    assert own.pop("nprocs") == "1"  # glibc counted /proc/stat's one CPU
    assert set(own.values()) == {"-1 ENOENT"}  # nothing else of /dev and /proc is served
    # and the lines that matter most, as the program printed them
    for line in ["/dev/null read 100: 0", "/dev/null write 33: 33", "/dev/full write 33: -1 ENOSPC",
                 "/dev/zero mmap private: zeros 1", "open /dev/tty: -1 ENXIO", "urandom big read: 300000",
                 "stat /dev/null: chr 0666 rdev 1:3 nlink 1 size 0 blksize 4096 blocks 0",
                 "written through /dev/stdout", "read /dev/stdin: 5 hello", "/proc/self is getpid: 1",
                 "/proc/self/exe is argv[0]: 1", "/proc/self/exe opens the program: 1",
                 "list /proc/self/fd: 0 1 2 null zero full dir", "create /dev/x: -1 EACCES"]:
        assert line in r.stdout.decode().splitlines(), line


def test_a_bare_program_has_no_exe(native_run):
    prog, _ = native_run
    r = run_pico(prog, stdin=STDIN)
    out = dict(lines(r.stdout))
    assert r.code == 0, (r.report, r.stderr)
    assert out["readlink /proc/self/exe"] == "-1 ENOENT" and out["/proc/self/exe is argv[0]"] == "0"
    assert out["/proc/self is getpid"] == "1" and out["urandom twice"] == "64 64 differ 1 all zero 0"


def test_the_proc_self_exe_knob(native_run, tmp_path):
    prog, _ = native_run
    (tmp_path / "p.py").write_text(
        "from xax_emu.profiles import load\nfrom xax_emu.syscalls.profile import Profile\n"
        "APP = Profile('exe', extends=[load('static-libc')], proc_self_exe='/opt/app/bin/tool')\n")
    r = run_pico(prog, stdin=STDIN, profile=f"{tmp_path}/p.py:APP")
    assert dict(lines(r.stdout))["readlink /proc/self/exe"] == "/opt/app/bin/tool"
    with pytest.raises(ProfileError, match="proc_self_exe is /proc/self/exe, but no route is Proc()"):
        generate_c(Profile("no-proc", routes={"/proc": Deny()}, proc_self_exe="/bin/x"))


def test_an_app_can_deny_them(native_run, tmp_path):
    """The bases' routes are ordinary routes: an app's own entry wins."""
    prog, _ = native_run
    (tmp_path / "p.py").write_text(
        "from xax_emu.profiles import load\nfrom xax_emu.syscalls.profile import Deny, Profile\n"
        "APP = Profile('deny', extends=[load('static-libc')], routes={'/dev': Deny(), '/proc': Deny()})\n")
    r = run_pico(prog, stdin=STDIN, profile=f"{tmp_path}/p.py:APP")
    out = dict(lines(r.stdout))
    assert out["stat /dev/null"] == "-1 ENOENT" and out["readlink /proc/self/exe"] == "-1 ENOENT"
    assert out["open /dev/null"] == out["create /dev/x"] == f"-1 {errno.errorcode[errno.EACCES]}"  # for writing
