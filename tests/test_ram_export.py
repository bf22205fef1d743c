"""run --export-ram's two halves apart: the layer's tar writer (runtime_c/vfs/export.c, driven
through the host build) read back by Python's tarfile and by the image reader the Monitor uses,
and the Monitor's extraction (xax_emu/monitor/exportram.py) of tars a hostile picoprocess could
send: nothing may land outside DIR, nothing but files, directories and symlinks is made."""
import errno
import io
import os
import stat
import tarfile

import pytest

from image_support import END, member, pax, pax_record
from xax_emu.errors import MountError
from xax_emu.image.validate import read_tar
from xax_emu.monitor.exportram import RamExport, check_target, extract
from xax_emu.vfs._host import HostVfs

O_CREAT, O_WRONLY = os.O_CREAT, os.O_WRONLY


def ramdisks() -> HostVfs:
    """Two RAM disks with what a program leaves: files (one with a hole, one with a name over 100
    bytes), nested and empty directories, modes."""
    v = HostVfs(uid=1000, gid=1000, umask=0, clock=lambda: 1_700_000_000 * 10**9)
    assert v.mount_ram("/tmp") == 0 and v.mount_ram("/var/tmp") == 0
    v.mkdir("/tmp/d", 0o750)
    v.mkdir("/tmp/d/empty", 0o700)
    fd = v.open("/tmp/d/report.txt", O_CREAT | O_WRONLY, 0o640)
    assert v.write(fd, b"the report\n") == 11
    fd = v.open("/tmp/holes", O_CREAT | O_WRONLY, 0o600)
    assert v.pwrite(fd, b"end", 5000) == 3
    long = "/tmp/d/" + "n" * 150
    fd = v.open(long, O_CREAT | O_WRONLY, 0o644)
    v.write(fd, b"long name")
    fd = v.open("/var/tmp/x", O_CREAT | O_WRONLY, 0o4755)
    v.write(fd, b"x")
    return v


def test_the_layers_tar_reads_back_as_the_ram_disks_hold_them():
    v = ramdisks()
    data = v.export_ram()
    assert isinstance(data, bytes) and len(data) % 512 == 0
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        got = {m.name: (m.type, m.mode, m.size, m.mtime, t.extractfile(m).read() if m.isfile() else None)
               for m in t.getmembers()}
    assert got == {
        "tmp": (tarfile.DIRTYPE, 0o1777, 0, 1_700_000_000, None),
        "tmp/d": (tarfile.DIRTYPE, 0o750, 0, 1_700_000_000, None),
        "tmp/d/empty": (tarfile.DIRTYPE, 0o700, 0, 1_700_000_000, None),
        "tmp/d/report.txt": (tarfile.REGTYPE, 0o640, 11, 1_700_000_000, b"the report\n"),
        "tmp/d/" + "n" * 150: (tarfile.REGTYPE, 0o644, 9, 1_700_000_000, b"long name"),
        "tmp/holes": (tarfile.REGTYPE, 0o600, 5003, 1_700_000_000, bytes(5000) + b"end"),
        "var/tmp": (tarfile.DIRTYPE, 0o1777, 0, 1_700_000_000, None),
        "var/tmp/x": (tarfile.REGTYPE, 0o4755, 1, 1_700_000_000, b"x"),
    }
    # and the Monitor's own reader takes it, by the image format's tar rules
    assert {m.name for m in read_tar(data).members} == set(got)


def test_a_ram_disk_at_the_root_exports_what_it_holds_and_no_member_for_the_root():
    v = HostVfs(umask=0)
    assert v.mount_ram("/") == 0 and v.mkdir("/d", 0o755) == 0
    fd = v.open("/d/\u00e9t\u00e9 " + "x" * 120, O_CREAT | O_WRONLY, 0o644)  # not ASCII, over 100 bytes: pax
    v.write(fd, b"summer")
    members = read_tar(v.export_ram()).members
    assert [(m.name, m.type) for m in members] == [("d", "dir"), ("d/\u00e9t\u00e9 " + "x" * 120, "file")]


def test_a_path_over_path_max_fails_the_export():
    v = HostVfs(umask=0)
    assert v.mount_ram("/tmp") == 0
    assert v.chdir("/tmp") == 0
    for _ in range(20):  # deeper than any one path names: relative steps
        assert v.mkdir("d" * 250, 0o755) == 0 and v.chdir("d" * 250) == 0
    assert v.export_ram() == -errno.ENAMETOOLONG


def exported(data: bytes, limit: int = 1 << 30) -> RamExport:
    e = RamExport(limit)
    assert e.take(data[:700], False) and e.take(data[700:], True)
    return e


def test_extraction_keeps_files_directories_and_modes_without_set_id_bits(tmp_path):
    e = exported(ramdisks().export_ram())
    out = tmp_path / "out"
    check_target(str(out))
    assert extract(e, str(out)) == 8
    assert (out / "tmp/d/report.txt").read_bytes() == b"the report\n"
    assert (out / "tmp/holes").read_bytes() == bytes(5000) + b"end"
    assert stat.S_IMODE((out / "tmp/d").stat().st_mode) == 0o750
    assert stat.S_IMODE((out / "tmp").stat().st_mode) == 0o777  # no sticky bit on the user's tree
    assert stat.S_IMODE((out / "var/tmp/x").stat().st_mode) == 0o755  # no set-uid bit
    assert stat.S_IMODE((out / "var").stat().st_mode) == 0o755  # above a route: named by no member
    assert (out / "tmp/d/report.txt").stat().st_mtime == 1_700_000_000
    assert sorted(os.listdir(out / "tmp/d")) == ["empty", "n" * 150, "report.txt"]


def _tar(*members: bytes) -> bytes:
    return b"".join(members) + END


HOSTILE = {
    "absolute": _tar(member("/etc/evil", b"x")),
    "dotdot": _tar(member("tmp/../../evil", b"x")),
    "symlink out": _tar(member("tmp/", typeflag=b"5"), member("tmp/l", typeflag=b"2", link="../../../etc")),
    "absolute symlink": _tar(member("tmp/l", typeflag=b"2", link="/etc/passwd")),
    "under a symlink": _tar(member("tmp/l", typeflag=b"2", link="d"), member("tmp/d/", typeflag=b"5"),
                            member("tmp/l/f", b"x")),
    "hard link": _tar(member("tmp/f", b"x"), member("tmp/h", typeflag=b"1", link="tmp/f")),
    "device": _tar(member("tmp/null", typeflag=b"3")),
    "fifo": _tar(member("tmp/fifo", typeflag=b"6")),
    "twice": _tar(member("tmp/f", b"x"), member("tmp/./f", b"y")),
    "under a file": _tar(member("tmp/f", b"x"), member("tmp/f/g", b"y")),
    "pax path out": _tar(pax(pax_record("path", "../evil")), member("tmp/f", b"x")),
    "truncated": member("tmp/f", b"x" * 2000)[:1024],
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_tar_is_refused_whole_and_nothing_is_made(tmp_path, name):
    e = exported(HOSTILE[name])
    out = tmp_path / "out"
    with pytest.raises(MountError, match="--export-ram"):
        extract(e, str(out))
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == []


def test_the_export_is_bounded_and_needs_its_last_piece(tmp_path):
    e = RamExport(1000)
    assert e.take(b"x" * 600, False)
    assert not e.take(b"x" * 600, False)  # over the limit: refused, and nothing more is taken
    assert not e.take(b"", True)
    with pytest.raises(MountError, match="over the download limit"):
        extract(e, str(tmp_path / "out"))
    e = RamExport(1000)
    e.take(b"", False)
    with pytest.raises(MountError, match="did not exit by itself"):
        extract(e, str(tmp_path / "out"))
    e = RamExport(1000)
    e.abandon("the layer could not write its RAM disks as a tar")
    with pytest.raises(MountError, match="could not write"):
        extract(e, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_the_target_directory_must_be_absent_or_empty(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_bytes(b"")
    (tmp_path / "file").write_bytes(b"")
    for bad, why in (("full", "not empty"), ("file", "not a directory"), ("absent/out", "does not exist")):
        with pytest.raises(MountError, match=why):
            check_target(str(tmp_path / bad))
    (tmp_path / "empty").mkdir()
    check_target(str(tmp_path / "empty"))
    check_target(str(tmp_path / "new"))
