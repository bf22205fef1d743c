"""A host directory (run --mount) against the real kernel: random sequences of file operations
run on the C VFS, whose "/" is a rw host-directory route served by the Monitor's MOUNT_* handlers
in-process (mounts_support.MonitorSide) from a directory on tmpfs, and in a chrooted child on
another tmpfs directory; every result — fds, bytes, sizes, modes, link counts, listings, errnos —
must be the same, and so must the two directories' trees at the end.

Listings are compared as sets: the host directory lists names in the order the picoprocess first
saw them, not tmpfs's.  One difference is by design and left out of the sequences: a regular
file removed (unlink, or rename over it) while it is open can no longer be read or written through
the mount, whose data is at its path (hostdir.c); the test does not remove an open file."""
import os
import stat
import tempfile

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from mounts_support import MonitorSide, grant
from test_vfs_tmpfs import PREAMBLE, SCENARIOS, _is_dir_fd, ops
from vfs_support import SHM, RealFs, vfs_op
from xax_emu.monitor.mounts import Mounts
from xax_emu.vfs._host import HostVfs

pytestmark = pytest.mark.skipif(RealFs.available() is not None, reason=str(RealFs.available()))

AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR = 0x100, 0x200


def _open_files(v: HostVfs) -> set[int]:
    out = set()
    for fd in range(32):
        s = v.fstat(fd)
        if not isinstance(s, int) and stat.S_ISREG(s.mode):
            out.add(s.ino)
    return out


def removes_an_open_file(v: HostVfs, op: tuple) -> bool:
    """op would unlink, or rename over or away, a regular file that an fd has open."""
    if op[0] == "unlink" and not op[2] & AT_REMOVEDIR:
        paths = [op[1]]
    elif op[0] == "rename":
        paths = [op[1], op[2]]
    else:
        return False
    inos = _open_files(v)
    for path in paths:
        s = v.stat(path, AT_SYMLINK_NOFOLLOW)
        if not isinstance(s, int) and stat.S_ISREG(s.mode) and s.ino in inos:
            return True
    return False


def normalized(op: tuple, result):
    return sorted(result) if op[0] == "getdents" and isinstance(result, list) else result


def tree(root: str) -> dict[str, tuple]:
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(d, name)
            s = os.lstat(path)
            data = open(path, "rb").read() if stat.S_ISREG(s.st_mode) else None
            out[os.path.relpath(path, root)] = (stat.S_IMODE(s.st_mode), stat.S_IFMT(s.st_mode), s.st_nlink,
                                                s.st_size, data)
    return out


def run_both(seq, log=note):
    host = tempfile.mkdtemp(prefix="xax-hostdir-", dir=SHM)
    os.chmod(host, 0o1777)
    old_umask = os.umask(0)  # the VFS applies the program's umask; the Monitor's own would apply twice
    mounts = Mounts([grant(host, "/m")], limit=1 << 30)
    side = MonitorSide(mounts)
    v = HostVfs(uid=0, gid=0, umask=0o022, monitor=side)
    try:
        assert v.mount_hostdir("/", 0, True) == 0
        with RealFs(root_mode=0o1777, umask=0o022) as fs:
            for i, op in enumerate(seq):
                if op[0] == "getdents" and op[2] < 4096:
                    continue  # partial listings come in different orders
                if op[0] == "lseek" and _is_dir_fd(v, op[1]):
                    op = ("lseek", op[1], 0, 0)  # directory offsets are the filesystem's own: rewind only
                if removes_an_open_file(v, op):
                    log(f"{i}: {op!r} skipped: it removes an open file")
                    continue
                want = normalized(op, fs.op(op))
                got = normalized(op, vfs_op(v, op))
                log(f"{i}: {op!r} -> kernel {want!r}, vfs {got!r}")
                assert got == want, f"step {i}: {op!r}: kernel {want!r}, vfs {got!r}"
            assert side.mounts is mounts and v.monitor_errors == []
            assert tree(host) == tree(fs.dir), "the host directory and the kernel's differ"
    finally:
        v.close()
        mounts.close()
        os.umask(old_umask)
        import shutil
        shutil.rmtree(host, ignore_errors=True)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=40))
def test_host_directory_matches_the_kernel(seq):
    run_both(PREAMBLE + seq)


@pytest.mark.parametrize("seq", SCENARIOS, ids=range(len(SCENARIOS)))
def test_host_directory_scenario_matches_the_kernel(seq):
    run_both(seq, log=print)
