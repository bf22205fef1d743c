"""Bad pointers: a program hands the layer an address with no access (PROT_NONE), a kernel address or
(for what the call writes) a read-only page, in every pointer argument of every system
call the shipped profiles emulate or forward.  Linux answers -EFAULT; the picoprocess
must answer exactly what Linux answers — before, the first one ended it with SIGSEGV —
and stay whole: the same program, run natively, gives the expected lines.

How: the layer copies paths and structs in and out at its edge with the PAL's
fault-safe routines (runtime_c/layer/user.h, runtime_c/pal/usercopy.S), and the VFS
moves the data of read, write and getdents64 through the same routines (vfs.h)."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_native
from hostile_support import hostile
from xax_emu.profiles import load
from xax_emu.syscalls import catalogue
from xax_emu.syscalls.profile import Emulate, Forward, resolve

TESTS = Path(__file__).resolve().parent
UAPI = ["-idirafter", "/usr/include", "-idirafter", "/usr/include/x86_64-linux-gnu"]
# Pointer arguments that these calls never dereference here, so no bad value can show.
NEVER_TOUCHED = {
    ("set_tid_address", "tidptr"): "stored for the thread's exit, never read or written by the call",
    ("nanosleep", "rmtp"): "written only when a sleep is interrupted",
    ("clock_nanosleep", "rmtp"): "written only when a sleep is interrupted",
    # (the native run, as root, may have supplementary groups and may set them: the two differ there)
    ("getgroups", "grouplist"): "written only with supplementary groups: the virtual user has none",
    ("setgroups", "grouplist"): "read only with CAP_SETGID: the virtual user is refused (EPERM) first",
}


# The process calls (docs/processes.md): with processes off, as in this test's run, they answer
# (ENOSYS, ECHILD) before reading any pointer; tests/test_processes.py tries theirs with processes
# on (tests/hostile/fork_family.c efault), against the native run.  Not tried anywhere: clone's
# tid pointers (a bad one natively is written by the kernel in a child that then runs on).
PROCESS_CALLS = {"clone", "wait4", "waitid", "execve", "execveat", "rt_sigsuspend"}


def profile_with_ram(tmp_path, ram) -> str:
    (tmp_path / "efault_profile.py").write_text(
        "from xax_emu.profiles import load\n"
        "from xax_emu.syscalls.profile import Profile, RamDisk\n"
        f"APP = Profile('efault', extends=[load('glibc-dynamic')], routes={{{str(ram)!r}: RamDisk(1 << 20)}})\n")
    return f"{tmp_path}/efault_profile.py:APP"


def answers(stdout: bytes) -> dict[tuple[str, str], int]:
    out = {}
    for line in stdout.decode().splitlines():
        left, _, value = line.partition(" = ")
        label, _, kind = left.partition(" ")
        out[(label, kind)] = int(value)
    return out


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_bad_pointers_are_answered_as_linux_answers_them(build, tmp_path, libc):
    ram = tmp_path / "ram"
    ram.mkdir()
    prog = build("hostile/efault.c", libc, UAPI)
    native = run_native(prog, [str(ram)])
    assert native.returncode == 0, native.stdout
    r = hostile(build, tmp_path, "efault.c", [str(ram)], libc=libc, extra=UAPI,
                profile=profile_with_ram(tmp_path, ram))
    assert (r.code, r.report.reason) == (0, None), (r.report, r.stdout[-300:])
    assert answers(r.stdout) == answers(native.stdout)
    got = answers(r.stdout)
    # What is not -EFAULT, and why: the failed calls changed nothing, and /dev/null never
    # looks at the bytes it is given (only a kernel address fails Linux's range check).
    assert {k: v for k, v in got.items() if v != -14} == {
        ("pwrite64_null", "noaccess"): 4, ("pipe_left_fds", "noaccess"): 0, ("pipe_left_fds", "kernel"): 0,
        ("pipe_left_fds", "readonly"): 0, ("socketpair_left_fds", "noaccess"): 0,
        ("socketpair_left_fds", "kernel"): 0, ("socketpair_left_fds", "readonly"): 0, ("open_no_nul", "edge"): -36, ("pipe_kept", "edge"): 4,
        ("file_size", "edge"): 0, ("readv_many", "edge"): 100, ("readv_too_many", "edge"): -22}


def test_every_pointer_argument_of_every_emulated_call_is_tried():
    """Each pointer argument (by the kernel's own prototypes: the syscall catalogue) of each
    call the shipped profiles emulate or forward has a line of its own in efault.c; calls
    whose pointers hide in integer arguments (prctl, ioctl, fcntl) have theirs too.  (The
    test above runs each line with every kind of bad pointer that fits it.)"""
    text = (TESTS / "hostile" / "efault.c").read_text()
    labels = {line.split('"')[1] for line in text.splitlines() if 'say("' in line}
    resolved = resolve(load("glibc-dynamic"))
    missing = []
    for name, disposition in sorted(resolved.syscalls.items()):
        if not isinstance(disposition, (Emulate, Forward)) or name == "futex" or name in PROCESS_CALLS:
            continue
        pointers = [a.name for a in catalogue.by_name(name).args
                    if a.kind in ("ptr", "path", "str") and (name, a.name) not in NEVER_TOUCHED]
        tried = [label for label in labels if label == name or label.startswith(name + "_")]
        if len(tried) < len(pointers):
            missing.append((name, pointers, tried))
    assert missing == []
    assert {"prctl_set_name", "prctl_get_name", "ioctl_entcnt", "fcntl_getlk", "fcntl_setlk"} <= labels
