"""Python's own test_subprocess passes inside the picoprocess with processes enabled (issue 14):
Debian's libpython3.11-testsuite run whole with `python3 -m test test_subprocess`, nothing
left out with --ignore.  Natively it runs 330 tests, 34 skipped by the module itself (Windows
only, setgroups/setregid available, RLIMIT_NPROC as root, env={} with a shared libpython,
msvcrt, the fd limit test_no_leaking cannot reach natively).  Inside, one more is skipped by the
module itself, for what the picoprocess shows:
  test_restore_signals               "need /proc/self/status": the layer's /proc/self has no
                                     status file (its SigIgn line is what the test reads)
while test_specific_shell runs with the image's bash, test_group and test_extra_groups with the
image's /etc/group (nogroup: setregid and setgroups are EPERM, which they accept, as for a user
without CAP_SETGID natively), and test_no_leaking runs (the layer's fd limit is reached, natively
it is not).  The whole module takes ~45-80 s on a loaded machine."""
import re
from pathlib import Path

import pytest

from conftest import run_pico
from xax_emu.image import pack_image
from xax_emu.monitor import Limits

PYTHON = Path("/usr/bin/python3.11")
# What the module starts besides python3: /bin/sh (shell=True), bash (test_specific_shell), and
# the programs its POSIX tests name (true, false, cat, echo, ls, env, sleep).
PROGRAMS = {"/bin/sh": "/usr/bin/dash", "/bin/bash": "/usr/bin/bash", "/bin/true": "/usr/bin/true",
            "/bin/false": "/usr/bin/false", "/bin/cat": "/usr/bin/cat", "/bin/echo": "/usr/bin/echo",
            "/bin/ls": "/usr/bin/ls", "/usr/bin/env": "/usr/bin/env", "/bin/sleep": "/usr/bin/sleep"}
SKIPPED_INSIDE_ONLY = {"test_restore_signals": "need /proc/self/status"}
GROUPS = "root:x:0:\nnogroup:x:65534:\n"  # what the group tests name (they try staff, nogroup, ...)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    if not (PYTHON.parent.parent / "lib/python3.11/test/libregrtest").is_dir():
        pytest.fail("Debian's libpython3.11-testsuite is missing (bootstrap.sh installs it)")
    d = tmp_path_factory.mktemp("python-subprocess")
    (d / "profile.py").write_text(
        "from xax_emu.profiles import load\n"
        "from xax_emu.syscalls.profile import Profile, RamDisk\n"
        "APP = Profile('python3-subprocess', extends=[load('glibc-dynamic')], routes={'/tmp': RamDisk(size=128 << 20)})\n")
    (d / "group").write_text(GROUPS)
    files = '"/etc/group" = "group"\n' + "".join(f'"{guest}" = "{host}"\n' for guest, host in PROGRAMS.items())
    (d / "manifest.toml").write_text(
        'exclude = ["idlelib/*", "tkinter/*", "ensurepip/*", "lib2to3/*"]\n'
        '[app]\nname = "python3-subprocess"\nentry = "/usr/bin/python3.11"\n'
        'env = { LC_ALL = "C", HOME = "/tmp", TMPDIR = "/tmp", PATH = "/usr/bin:/bin" }\ncwd = "/tmp"\n'
        'profile = "profile.py:APP"\n'
        '[files]\n"/usr/bin/python3.11" = "/usr/bin/python3.11"\n"/usr/bin/python3" = "/usr/bin/python3.11"\n'
        '"/usr/lib/python3.11" = "/usr/lib/python3.11"\n' + files)
    out = d / "python3-subprocess.tar"
    pack_image(str(d / "manifest.toml"), str(out))
    return out


def test_python_test_subprocess_passes_inside(image):
    r = run_pico(image, ["-m", "test", "test_subprocess", "-v"],
                 limits=Limits(wall_seconds=600, memory=2 << 30, processes=64))
    out = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
    assert "Tests result: SUCCESS" in out and "1 test OK." in out, out[-4000:]
    assert re.search(r"^Ran 330 tests in ", out, re.M), out[-4000:]
    assert "... FAIL" not in out and "... ERROR" not in out
    # every skip is the module's own: natively's 34 less test_no_leaking twice, and the one above
    skips = re.findall(r"^(?:(\w+) \(test\.test_subprocess\.\w+\.\w+\)|.*?) \.\.\. skipped '([^']*)'", out, re.M)
    inside_only = {name: why for name, why in skips if name in SKIPPED_INSIDE_ONLY}
    assert inside_only.keys() == SKIPPED_INSIDE_ONLY.keys(), inside_only
    assert all(why.startswith(SKIPPED_INSIDE_ONLY[name]) for name, why in inside_only.items()), inside_only
    assert re.search(r"^OK \(skipped=33\)$", out, re.M), out[-2000:]
    for name in ("test_close_fds", "test_pass_fds", "test_preexec", "test_start_new_session", "test_process_group_0",
                 "test_pipesizes", "test_pipesize_default", "test_specific_shell", "test_umask", "test_cwd",
                 "test_group", "test_extra_groups", "test_no_leaking"):
        assert re.search(rf"^{name} \(test\.test_subprocess\.\w+\.{name}\) \.\.\. ok$", out, re.M), name
    assert r.code == 0
