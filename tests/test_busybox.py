"""A real, unmodified static program from Debian (busybox-static, glibc) gives the
same bytes and exit status inside the picoprocess as natively."""
import shutil
from pathlib import Path

import pytest

from conftest import run_native, run_pico

BUSYBOX = Path("/bin/busybox")
INPUT = b"".join(b"line %d: the quick brown fox %d\n" % (i, i * 7919 % 1000) for i in range(2000)) + b"tail"

APPLETS = [
    ["sha1sum"], ["md5sum"], ["wc"], ["sort", "-r"], ["sort", "-t", ":", "-k", "2"], ["tr", "a-z", "A-Z"],
    ["head", "-n", "3"], ["tail", "-n", "2"], ["uniq", "-c"], ["od", "-c"], ["base64"], ["cat"],
    ["sed", "s/o/0/g"], ["awk", "{s += length($0)} END {print s, NR}"], ["seq", "1", "50"],
    ["expr", "6", "*", "7"], ["printf", "%s-%d\\n", "abc", "42"], ["cut", "-d", " ", "-f", "2-3"],
    ["grep", "-c", "fox 9"], ["false"], ["echo", "-n", "no newline"],
]


@pytest.fixture(scope="module")
def busybox():
    if not BUSYBOX.exists() or shutil.which("busybox") is None:
        pytest.fail("busybox-static is not installed (bootstrap.sh installs it)")
    return BUSYBOX


@pytest.mark.parametrize("argv", APPLETS, ids=lambda a: " ".join(a))
def test_busybox_applet_matches_native(busybox, argv):
    native = run_native(busybox, argv, stdin=INPUT)
    sealed = run_pico(busybox, argv, stdin=INPUT)
    assert sealed.stdout == native.stdout
    assert sealed.stderr == native.stderr
    assert sealed.code == native.returncode
