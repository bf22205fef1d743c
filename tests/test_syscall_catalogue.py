"""The syscall catalogue is generated from the kernel's headers, is current, and
agrees with an independent source (libseccomp's own tables)."""
import subprocess
import sys
from pathlib import Path

import pytest

from xax_emu.seal import syscall_number
from xax_emu.syscalls import catalogue

ROOT = Path(__file__).resolve().parent.parent


def test_catalogue_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_syscalls.py"), "--check"], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()


def test_numbers_agree_with_libseccomp():
    for s in catalogue.ALL:
        assert syscall_number(s.name) == s.nr, s.name


def test_catalogue_is_complete_and_unique():
    nrs = [s.nr for s in catalogue.ALL]
    assert len(nrs) == len(set(nrs))
    assert catalogue.by_name("openat").nr == syscall_number("openat")
    assert catalogue.MAX_NR >= syscall_number("set_mempolicy_home_node")


@pytest.mark.parametrize("name,kinds", [
    ("read", ("fd", "ptr", "long")),
    ("openat", ("fd", "path", "int", "int")),
    ("execve", ("path", "ptr", "ptr")),
    ("mmap", ("long", "long", "long", "long", "fd", "long")),
    ("bind", ("fd", "ptr", "int")),
    ("rt_sigreturn", ()),
])
def test_argument_kinds(name, kinds):
    assert tuple(a.kind for a in catalogue.by_name(name).args) == kinds


def test_unknown_names_are_reported():
    with pytest.raises(catalogue.UnknownSyscall, match="no x86-64 system call 'opne'"):
        catalogue.by_name("opne")
    assert not catalogue.by_name("tuxcall").implemented
