"""While a picoprocess cannot start processes, fork, vfork and every clone that traps answer
ENOSYS, a failure programs treat as permanent: perl, make and busybox sh stop at once with
"Function not implemented".  With EAGAIN (the answer before), perl's qx// reads a passing
shortage of processes and retries every 5 seconds forever: only the wall-clock limit ended it."""
import errno
import os
import shutil
from pathlib import Path

import pytest

from xax_emu.image import pack
from xax_emu.monitor import Limits

from conftest import run_pico

ENOSYS_TEXT = os.strerror(errno.ENOSYS)  # "Function not implemented"


def _image(tmp_path: Path, name: str, entry: str, profile: str = "glibc-dynamic", files: str = "",
           cwd: str = "/") -> Path:
    if shutil.which(entry) is None:
        pytest.fail(f"{entry} is not installed (bootstrap.sh installs it)")
    (tmp_path / f"{name}.toml").write_text(
        f'[app]\nname = "{name}"\nentry = "{entry}"\nprofile = "{profile}"\ncwd = "{cwd}"\n'
        f'[files]\n"{entry}" = "{entry}"\n{files}')
    out = tmp_path / f"{name}.tar"
    pack(tmp_path / f"{name}.toml", out)
    return out


PERL_FORKS = '$x = qx(/usr/bin/perl -e 1); print "status=$? error=$!\\n"'


def test_perl_stops_when_it_cannot_fork(tmp_path):
    r = run_pico(_image(tmp_path, "perl", "/usr/bin/perl"), ["-e", PERL_FORKS], limits=Limits(wall_seconds=60))
    assert (r.code, r.report.reason) == (0, None)
    assert r.stdout.decode() == f"status=-1 error={ENOSYS_TEXT}\n"


def test_perl_retried_forever_on_eagain(tmp_path):
    """The answer this replaced, in a profile of the test's own: the run never ends by itself."""
    (tmp_path / "eagain.py").write_text(
        "import errno\nfrom xax_emu.profiles import load\nfrom xax_emu.syscalls.profile import Profile, reject\n"
        "EAGAIN = Profile('eagain', extends=[load('glibc-dynamic')], syscalls={'clone': reject(errno.EAGAIN)})\n")
    r = run_pico(_image(tmp_path, "perl", "/usr/bin/perl", profile="eagain.py:EAGAIN"), ["-e", PERL_FORKS],
                 limits=Limits(wall_seconds=6))
    assert r.report.reason == "wall-clock limit of 6 s reached" and r.stdout == b""


def test_make_stops_when_it_cannot_start_a_recipe(tmp_path):
    (tmp_path / "Makefile").write_text("all:\n\t/usr/bin/make --version\n\techo never\n")
    image = _image(tmp_path, "make", "/usr/bin/make", files=f'"/work/Makefile" = "{tmp_path / "Makefile"}"\n',
                   cwd="/work")
    r = run_pico(image, limits=Limits(wall_seconds=60))
    assert r.code == 2 and r.report.reason is None
    assert r.stdout == b"/usr/bin/make --version\n"
    assert r.stderr.decode() == (f"make: /usr/bin/make: {ENOSYS_TEXT}\n"
                                 "make: *** [Makefile:2: all] Error 127\n")


def test_busybox_sh_stops_when_it_cannot_fork():
    busybox = shutil.which("busybox")
    r = run_pico(busybox, ["sh", "-c", "echo a; /bin/true; echo b"], limits=Limits(wall_seconds=60))
    assert r.code == 2 and r.report.reason is None
    assert r.stdout == b"a\n"
    assert r.stderr.decode() == f"sh: can't fork: {ENOSYS_TEXT}\n"
