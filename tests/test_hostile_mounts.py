"""Hostile programs against a granted host directory (run --mount) and the RAM disks' export
(run --export-ram), sealed for real: the canary outside the granted directory stays unopened and
unchanged (inotify), the loopback listener accepts nothing, and the Monitor goes on serving."""
import errno
import os
import signal
from pathlib import Path

import pytest

from hostile_support import hostile, parse
from mounts_support import grant
from xax_emu.monitor import Limits
from xax_emu.monitor.exportram import RamExport
from xax_emu.monitor.mounts import Mounts

ENOENT, ENOSYS, ELOOP, EPERM = -errno.ENOENT, -errno.ENOSYS, -errno.ELOOP, -errno.EPERM


def granted(tmp_path: Path) -> Path:
    """The directory granted at /m, beside the canary that hostile() makes in tmp_path/canary-dir."""
    g = tmp_path / "granted"
    g.mkdir()
    (g / "f").write_bytes(b"a file of the mount\n")
    (g / "abs").symlink_to(tmp_path / "canary-dir" / "canary.txt")
    (g / "rel").symlink_to("../canary-dir/canary.txt")
    (g / "outdir").symlink_to(tmp_path / "canary-dir")
    return g


def test_a_program_cannot_leave_the_granted_directory(build, tmp_path):
    g = granted(tmp_path)
    outside = tmp_path / "outside.txt"  # a second witness: hard-linked into the granted directory
    outside.write_bytes(b"outside, hard-linked in\n")
    os.link(outside, g / "hard")
    before = outside.stat()
    with Mounts([grant(g, "/m", rw=True)], 1 << 30) as mounts:
        r = hostile(build, tmp_path, "mount_escape.c", mounts=mounts)
    after = outside.stat()
    assert outside.read_bytes() == b"outside, hard-linked in\n"
    assert (after.st_size, after.st_mtime_ns, after.st_nlink) == (before.st_size, before.st_mtime_ns, 2)
    assert r.code == 0, r.stderr
    assert parse(r.stdout) == {
        "abs": ENOENT, "rel": ENOENT, "outdir": ENOENT, "dotdot": ENOENT, "direct": ENOENT,
        "create_through_link": ENOENT, "nofollow": ELOOP, "rename_out": ENOENT, "rename_into_link": ENOENT,
        "mkdir_through_link": ENOENT, "unlink_through_link": ENOENT, "link": ENOSYS, "symlink": ENOSYS,
        "hard_trunc": EPERM, "hard_open": 1, "hard_write": EPERM, "chdir": 0, "relative_dotdot": ENOENT,
        "rename_link_inside": 0, "readlink_renamed": 1, "read_bad_buffer": -errno.EFAULT,
        "write_bad_buffer": -errno.EFAULT,
    }
    assert (g / "f").read_bytes() == b"a file of the mount\n"
    assert sorted(os.listdir(g)) == ["f", "hard", "outdir", "rel", "renamed"]


@pytest.mark.parametrize("attack", ["dotdot", "absolute", "ungranted", "oversized"])
def test_a_forged_mount_request_kills_the_picoprocess(build, tmp_path, attack):
    g = granted(tmp_path)
    with Mounts([grant(g, "/m", rw=True)], 1 << 30) as mounts:
        r = hostile(build, tmp_path, "mount_raw.c", [attack], mounts=mounts)
    assert (r.report.signal, r.code) == (signal.SIGKILL, 128 + signal.SIGKILL), r.report
    assert r.report.reason.startswith("protocol violation: MOUNT_"), r.report.reason
    assert r.stdout == b"before = 1\n"


RAM_PROFILE = '''from xax_emu.profiles import load
from xax_emu.syscalls.profile import Profile, RamDisk
P = Profile("ramtmp", extends=[load("static-libc")], routes={"/tmp": RamDisk(size=1 << 20)})
'''


@pytest.mark.parametrize("how, status, exported", [("plain", 5, True), ("own", 6, False)])
def test_exit_group_traps_for_the_export_unless_it_is_the_runtimes_own(build, tmp_path, how, status, exported):
    (tmp_path / "prof.py").write_text(RAM_PROFILE)
    export = RamExport(1 << 20)
    try:
        r = hostile(build, tmp_path, "export_exit.c", [how], export_ram=export,
                    profile=f"{tmp_path / 'prof.py'}:P", limits=Limits(wall_seconds=30))
        assert (r.code, r.report.signal, parse(r.stdout)) == (status, None, {"wrote": 1})
        assert export.done is exported
        if exported:
            from xax_emu.monitor.exportram import extract
            extract(export, str(tmp_path / "out"))
            assert (tmp_path / "out" / "tmp" / "left").read_bytes() == b"what the program left\n"
    finally:
        export.close()
