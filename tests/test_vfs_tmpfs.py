"""The RAM disk against the real kernel: random sequences of file operations run on the C VFS
(a RAM disk at "/", virtual user root) and in a chrooted child on a tmpfs directory, and every
result — fds, bytes, sizes, modes, link counts, listings, errnos — must be the same.  Some runs put
every name in one bucket of the VFS's entry table (hash_mask 0): creating, renaming and removing
colliding names must change nothing the kernel would show."""
import os

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from vfs_support import RealFs, vfs_op
from xax_emu.vfs._host import HostVfs

pytestmark = pytest.mark.skipif(RealFs.available() is not None, reason=str(RealFs.available()))

comp = st.sampled_from(["a", "b", "c", "a", "b", ".", ".."])


@st.composite
def paths(draw):
    kind = draw(st.integers(0, 39))
    if kind >= 20:
        return draw(st.sampled_from(["a", "b", "c", "a/f", "a/b", "b/c", "a/b/c", "/a", "/b", "/a/f"]))
    if kind == 0:
        return ""
    if kind == 1:
        return "/"
    if kind == 2:
        return "x" * 256  # a component over NAME_MAX
    comps = draw(st.lists(comp, min_size=1, max_size=3))
    p = "/".join(comps)
    if draw(st.booleans()):
        p = "/" + p
    if kind == 3:
        p += "/"
    if kind == 4:
        p = p.replace("/", "//")
    return p


fds = st.one_of(st.integers(0, 3), st.integers(0, 6), st.sampled_from([-1, 100]))
data = st.binary(max_size=12)
offsets = st.integers(-2, 40)
O = os
access = st.sampled_from([O.O_RDONLY, O.O_WRONLY, O.O_RDWR])
extra = st.lists(st.sampled_from([O.O_CREAT, O.O_EXCL, O.O_TRUNC, O.O_APPEND, O.O_DIRECTORY, O.O_NOFOLLOW,
                                  O.O_CLOEXEC, O.O_PATH, O.O_NONBLOCK] + [O.O_CREAT] * 6), max_size=2)
open_flags = st.builds(lambda a, e: a | sum(set(e)), access, extra)
modes = st.sampled_from([0o644, 0o600, 0o755, 0o000, 0o444, 0o777])
F_DUPFD_CLOEXEC = 1030

ops = st.one_of(
    st.tuples(st.just("open"), paths(), open_flags, modes),
    st.tuples(st.just("open"), paths(), open_flags, modes),
    st.tuples(st.just("close"), fds),
    st.tuples(st.just("read"), fds, st.integers(0, 20)),
    st.tuples(st.just("pread"), fds, st.integers(0, 20), offsets),
    st.tuples(st.just("write"), fds, data),
    st.tuples(st.just("pwrite"), fds, data, offsets),
    st.tuples(st.just("readv"), fds, st.lists(st.integers(0, 8), max_size=3)),
    st.tuples(st.just("writev"), fds, st.lists(data, max_size=3)),
    st.tuples(st.just("lseek"), fds, st.integers(-5, 50), st.integers(0, 2) | st.just(7)),
    st.tuples(st.just("ftruncate"), fds, st.integers(-1, 60)),
    st.tuples(st.just("fsync"), fds),
    st.tuples(st.just("stat"), paths(), st.sampled_from([0, 0x100, 0x1000, 0x1100, 0x4])),
    st.tuples(st.just("statx"), paths(), st.sampled_from([0, 0x100, 0x1000])),
    st.tuples(st.just("fstat"), fds),
    st.tuples(st.just("mkdir"), paths(), st.sampled_from([0o755, 0o700, 0o777, 0o1777])),
    st.tuples(st.just("mkdir"), paths(), st.just(0o755)),
    st.tuples(st.just("unlink"), paths(), st.sampled_from([0, 0x200, 0x200, 0x1])),
    st.tuples(st.just("rename"), paths(), paths(), st.sampled_from([0, 0, 1, 2, 3])),
    st.tuples(st.just("rename"), st.sampled_from(["a/f", "b", "a", "c", "a/b"]),
              st.sampled_from(["c", "a/g", "b", "a/f", "a/b/c", "d", "c/x", "a/b"]), st.sampled_from([0, 0, 1, 2])),
    st.tuples(st.just("unlink"), st.sampled_from(["a/f", "b", "a", "c", "a/b", "c/x", "d"]), st.sampled_from([0, 0x200])),
    st.tuples(st.just("getdents"), fds, st.sampled_from([4096, 4096, 24])),
    st.tuples(st.just("dup"), fds),
    st.tuples(st.just("dup2"), fds, st.integers(0, 6)),
    st.tuples(st.just("dup3"), fds, st.integers(0, 6), st.sampled_from([0, O.O_CLOEXEC, 1])),
    st.tuples(st.just("fcntl"), fds, st.sampled_from([1, 3]), st.just(0)),  # F_GETFD, F_GETFL
    st.tuples(st.just("fcntl"), fds, st.just(2), st.integers(0, 3)),  # F_SETFD
    st.tuples(st.just("fcntl"), fds, st.just(4), st.sampled_from([0, O.O_APPEND, O.O_NONBLOCK, O.O_RDWR,
                                                                   O.O_APPEND | O.O_TRUNC])),  # F_SETFL
    st.tuples(st.just("fcntl"), fds, st.sampled_from([0, F_DUPFD_CLOEXEC]), st.integers(0, 8)),
    st.tuples(st.just("fcntl"), fds, st.just(12345), st.just(0)),
    st.tuples(st.just("chdir"), paths()),
    st.tuples(st.just("fchdir"), fds),
    st.tuples(st.just("getcwd"), st.sampled_from([4096, 4096, 2, 0])),
    st.tuples(st.just("access"), paths(), st.integers(0, 7) | st.just(8), st.sampled_from([0, 0x100, 0x200, 0x1000])),
    st.tuples(st.just("readlink"), paths()),
)


def _is_dir_fd(v: HostVfs, fd: int) -> bool:
    st_ = v.fstat(fd)
    return not isinstance(st_, int) and (st_.mode & 0o170000) == 0o040000


# a start that gives the operations something to work on: fds 0 (a file) and 1 (a directory)
PREAMBLE = [("mkdir", "a", 0o755), ("open", "a/f", os.O_CREAT | os.O_RDWR, 0o644), ("write", 0, b"hello world"),
            ("open", "a", os.O_RDONLY | os.O_DIRECTORY, 0), ("open", "b", os.O_CREAT | os.O_WRONLY, 0o600)]


def run_both(seq, log=note, uid=0, hash_mask=None):
    """uid 0: root's rules on both sides; else the child drops to that user, who owns everything,
    as the virtual user owns every file of the VFS."""
    v = HostVfs(uid=uid, gid=uid, umask=0o022, hash_mask=hash_mask)
    try:
        assert v.mount_ram("/") == 0
        with RealFs(root_mode=0o1777, umask=0o022, uid=uid or None) as fs:
            for i, op in enumerate(seq):
                if op[0] == "lseek" and _is_dir_fd(v, op[1]):
                    op = ("lseek", op[1], 0, 0)  # directory offsets are the filesystem's own: rewind only
                want = fs.op(op)
                got = vfs_op(v, op)
                log(f"{i}: {op!r} -> kernel {want!r}, vfs {got!r}")
                assert got == want, f"step {i}: {op!r}: kernel {want!r}, vfs {got!r}"
    finally:
        v.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=40))
def test_ramdisk_matches_tmpfs(seq):
    run_both(PREAMBLE + seq)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=40), st.sampled_from([0, 1]))
def test_ramdisk_matches_tmpfs_with_colliding_names(seq, hash_mask):
    run_both(PREAMBLE + seq, hash_mask=hash_mask)


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another user needs root")
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=40))
def test_ramdisk_matches_tmpfs_as_a_user(seq):
    run_both(PREAMBLE + seq, uid=4321)


# Sequences that once differed, or that hypothesis rarely builds: each must match the kernel.
SCENARIOS = [
    [("mkdir", "a", 0o755), ("open", "a", 0, 0), ("chdir", "a"), ("unlink", "/a", 0x200), ("getcwd", 4096),
     ("open", ".", 0, 0), ("open", "..", 0, 0), ("open", "x", 0o100, 0o644), ("mkdir", "y", 0o755),
     ("getdents", 0, 4096), ("stat", ".", 0), ("fstat", 0), ("chdir", ".."), ("getcwd", 4096)],
    [("open", "f", 0o102, 0o644), ("write", 0, b"hello"), ("unlink", "f", 0), ("fstat", 0), ("lseek", 0, 0, 0),
     ("read", 0, 10), ("stat", "f", 0)],
    [("mkdir", "a", 0o755), ("mkdir", "a/b", 0o755), ("rename", "a", "a/b/c", 0), ("rename", "a/b", "a", 0),
     ("rename", "a", "a", 0), ("rename", "a/b", "a/b", 1), ("open", "f", 0o101, 0o644), ("rename", "f", "a", 0),
     ("rename", "a", "f", 0), ("rename", "f/", "g", 0), ("rename", "f", "g/", 0), ("rename", "a/", "g/", 0),
     ("stat", "g", 0), ("rename", ".", "x", 0), ("rename", "g", "..", 0), ("rename", "g", "..", 1)],
    [("open", "f", 0o1101, 0o644), ("write", 0, b"abc"), ("open", "f", 0o2001, 0), ("write", 1, b"de"),
     ("pwrite", 1, b"Z", 0), ("pread", 0, 20, 0), ("fcntl", 1, 3, 0), ("fcntl", 1, 4, 0), ("write", 1, b"Q"),
     ("pread", 0, 20, 0)],
    [("mkdir", "d", 0o755), ("open", "d", 0, 0), ("getdents", 0, 24), ("getdents", 0, 4096),
     ("open", "d/x", 0o101, 0o644), ("getdents", 0, 4096), ("lseek", 0, 0, 0), ("getdents", 0, 4096),
     ("read", 0, 5), ("pread", 0, 5, 0), ("write", 0, b"x"), ("lseek", 0, 0, 2)],
    [("open", "d", 0o100 | 0o200000, 0o644), ("open", "/", 0o100, 0), ("open", "/", 0o300, 0),
     ("open", "/", 1, 0), ("open", ".", 0o10000000 | 0o100 | 0o200000, 0), ("fcntl", 0, 3, 0),
     ("read", 0, 1), ("fstat", 0), ("getdents", 0, 4096), ("fchdir", 0), ("getcwd", 4096)],
    [("open", "a/b", 0o100, 0o644), ("open", "f", 0o100, 0o644), ("open", "f/", 0, 0), ("open", "f/", 0o100, 0),
     ("open", "f/x", 0o100, 0), ("stat", "f/", 0), ("stat", "f/.", 0), ("mkdir", "f/", 0o755),
     ("mkdir", "x/", 0o755), ("unlink", "x/", 0), ("unlink", "f/", 0), ("unlink", "x", 0), ("unlink", "x/", 0x200)],
    [("dup2", 5, 5), ("open", "f", 0o102, 0o600), ("dup2", 0, 0), ("dup3", 0, 0, 0), ("dup3", 0, 4, 0o2000000),
     ("fcntl", 4, 1, 0), ("dup3", 0, 4, 1), ("dup", 4), ("fcntl", 0, 0, 3), ("fcntl", 0, 1030, 0), ("fcntl", 4, 1, 0),
     ("close", 4), ("close", 4), ("fcntl", 0, 0, 1 << 20)],
]


@pytest.mark.parametrize("hash_mask", [None, 0])
@pytest.mark.parametrize("seq", SCENARIOS, ids=range(len(SCENARIOS)))
def test_ramdisk_scenario_matches_tmpfs(seq, hash_mask):
    run_both(seq, log=print, hash_mask=hash_mask)
