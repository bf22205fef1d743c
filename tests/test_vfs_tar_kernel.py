"""The tar backend against the real kernel: a random tree, packed into a tar image for the C VFS
(mounted at "/", virtual user root) and written out on tmpfs for a chrooted child; read-only
operations — stat, open, read, getdents, readlink, access, chdir — must give the same results
and errnos, symlinks included (absolute targets resolve inside the image, as in the chroot)."""
import os
import tarfile

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from vfs_support import RealFs, build_tar, tree_paths as paths, trees, vfs_op
from xax_emu.vfs._host import HostVfs

pytestmark = pytest.mark.skipif(RealFs.available() is not None, reason=str(RealFs.available()))

O = os
fds = st.integers(0, 4) | st.just(-1)


def op_strategy(known=()):
    paths_ = paths(known)
    return st.one_of(
        st.tuples(st.just("stat"), paths_, st.sampled_from([0, 0x100, 0x1000, 0x1100])),
        st.tuples(st.just("statx"), paths_, st.sampled_from([0, 0x100])),
        st.tuples(st.just("open"), paths_,
                  st.sampled_from([O.O_RDONLY, O.O_RDONLY | O.O_DIRECTORY, O.O_RDONLY | O.O_NOFOLLOW, O.O_PATH,
                                   O.O_PATH | O.O_NOFOLLOW, O.O_PATH | O.O_DIRECTORY, O.O_RDONLY | O.O_CLOEXEC]),
                  st.just(0)),
        st.tuples(st.just("open"), paths_, st.just(O.O_RDONLY), st.just(0)),
        st.tuples(st.just("read"), fds, st.integers(0, 50)),
        st.tuples(st.just("pread"), fds, st.integers(0, 50), st.integers(-1, 45)),
        st.tuples(st.just("lseek"), fds, st.integers(-3, 45), st.integers(0, 2)),
        st.tuples(st.just("fstat"), fds),
        st.tuples(st.just("getdents"), fds, st.just(8192)),
        st.tuples(st.just("close"), fds),
        st.tuples(st.just("readlink"), paths_),
        st.tuples(st.just("access"), paths_, st.sampled_from([0, 4, 1, 5]), st.sampled_from([0, 0x100])),
        st.tuples(st.just("chdir"), paths_),
        st.tuples(st.just("fchdir"), fds),
        st.tuples(st.just("getcwd"), st.just(4096)),
    )


def _is_dir_fd(v, fd):
    s = v.fstat(fd)
    return not isinstance(s, int) and (s.mode & 0o170000) == 0o040000


def run_both(entries, image, seq, log=note, uid=0):
    """uid 0: root's rules; else the child drops to that user, who owns the whole tree."""
    v = HostVfs(uid=uid, gid=uid)
    try:
        assert v.mount_tar("/", image) == 0
        with RealFs(root_mode=0o755, entries=entries, uid=uid or None) as fs:
            for i, op in enumerate(seq):
                if op[0] == "lseek" and _is_dir_fd(v, op[1]):
                    op = ("lseek", op[1], 0, 0)
                want, got = fs.op(op), vfs_op(v, op)
                if op[0] == "getdents" and isinstance(want, list) and isinstance(got, list):
                    want, got = sorted(want), sorted(got)  # listing order is the filesystem's own
                log(f"{i}: {op!r} -> kernel {want!r}, vfs {got!r}")
                assert got == want, f"step {i}: {op!r}: kernel {want!r}, vfs {got!r}"
    finally:
        v.close()


ops = op_strategy()


def preamble(entries):
    """fd 0: the root, fd 1: a file of the tree (if any): something for fd operations to use."""
    files = [e.name for e in entries if e.kind == "file"]
    return [("open", "/", O.O_RDONLY | O.O_DIRECTORY, 0)] + ([("open", files[0], O.O_RDONLY, 0)] if files else [])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data(), trees(), st.sampled_from([tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT]))
def test_tar_matches_kernel(data, entries, fmt):
    known = [e.name for e in entries]
    seq = data.draw(st.lists(op_strategy(known), min_size=1, max_size=30))
    note(f"tree: {entries!r}")
    run_both(entries, build_tar(entries, fmt), preamble(entries) + seq)


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another user needs root")
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data(), trees(), st.sampled_from([tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT]))
def test_tar_matches_kernel_as_a_user(data, entries, fmt):
    """The virtual user's permissions (owner bits) are the kernel's for the owner of the files."""
    seq = data.draw(st.lists(op_strategy([e.name for e in entries]), min_size=1, max_size=30))
    note(f"tree: {entries!r}")
    run_both(entries, build_tar(entries, fmt), preamble(entries) + seq, uid=4321)
