"""The tar backend against a reference model (tests/tar_model.py) built from the same image with
Python's tarfile: random trees in pax and ustar images (members in any order that keeps a
directory's member before the members inside it, as docs/image-format.md requires),
mounted at "/" or under a prefix, whole or a subdirectory; random reads, stats, listings,
readlinks, symlink walks, permission checks of a non-root virtual user, and writes, which a tar
route refuses with the errno Linux gives on a read-only filesystem.  Some runs put every name in
one bucket of the VFS's entry table, or in two (hash_mask 0 and 1), so that colliding names are
looked up, listed and refused as distinct ones are."""
import os
import tarfile

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from tar_model import TarModel
from vfs_support import build_tar, tree_paths as paths, trees, vfs_op
from xax_emu.vfs._host import HostVfs

O = os
fds = st.integers(0, 4) | st.just(-1)
open_flags = st.builds(lambda a, e: a | sum(set(e)), st.sampled_from([O.O_RDONLY, O.O_WRONLY, O.O_RDWR, 3]),
                       st.lists(st.sampled_from([O.O_CREAT, O.O_EXCL, O.O_TRUNC, O.O_DIRECTORY, O.O_NOFOLLOW, O.O_PATH,
                                                 O.O_APPEND]), max_size=2))


def op_strategy(known):
    p = paths(known)
    return st.one_of(
        st.tuples(st.just("stat"), p, st.sampled_from([0, 0x100, 0x1000, 0x1100, 0x2])),
        st.tuples(st.just("open"), p, open_flags, st.just(0o644)),
        st.tuples(st.just("open"), p, st.sampled_from([O.O_RDONLY, O.O_RDONLY | O.O_DIRECTORY]), st.just(0)),
        st.tuples(st.just("read"), fds, st.integers(0, 50)),
        st.tuples(st.just("write"), fds, st.just(b"x")),
        st.tuples(st.just("ftruncate"), fds, st.integers(-1, 5)),
        st.tuples(st.just("fstat"), fds),
        st.tuples(st.just("getdents"), fds, st.just(8192)),
        st.tuples(st.just("close"), fds),
        st.tuples(st.just("readlink"), p),
        st.tuples(st.just("access"), p, st.sampled_from([0, 1, 2, 4, 5, 7]), st.sampled_from([0, 0x100])),
        st.tuples(st.just("chdir"), p),
        st.tuples(st.just("getcwd"), st.just(4096)),
        st.tuples(st.just("mkdir"), p, st.just(0o755)),
        st.tuples(st.just("unlink"), p, st.sampled_from([0, 0x200])),
        st.tuples(st.just("rename"), p, p, st.sampled_from([0, 1, 2])),
    )


@st.composite
def images(draw):
    entries = draw(trees())
    fmt = draw(st.sampled_from([tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT]))
    # any order in which what holds a member comes before it (a stable sort by depth keeps the draw's order)
    order = sorted(draw(st.permutations(entries)), key=lambda e: len(e.path)) if draw(st.booleans()) else entries
    try:
        image = build_tar(entries, fmt, order=order)
    except ValueError:  # a name ustar cannot hold
        image = build_tar(entries, tarfile.PAX_FORMAT, order=order)
    dirs = [e.name for e in entries if e.kind == "dir"]
    prefix = draw(st.sampled_from(["/", "/img", "/img/x"]))
    subdir = draw(st.sampled_from(dirs)) if dirs and prefix != "/" and draw(st.booleans()) else ""
    return entries, image, prefix, subdir


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data(), images(), st.sampled_from([1000, 1000, 0]), st.sampled_from([None, None, None, 0, 1]))
def test_tar_matches_model(data, image_spec, uid, hash_mask):
    entries, image, prefix, subdir = image_spec
    known = [e.name for e in entries] + ["img", "img/x", "/img/x/.."]
    files = [e.name for e in entries if e.kind == "file"]
    start = [("chdir", prefix), ("open", ".", O.O_RDONLY | O.O_DIRECTORY, 0)] + \
        ([("open", files[0], O.O_RDONLY, 0)] if files and not subdir else [])
    seq = start + data.draw(st.lists(op_strategy(known), min_size=1, max_size=30))
    note(f"tree: {entries!r} at {prefix!r} subdir {subdir!r} uid {uid} hash_mask {hash_mask}")
    model = TarModel(image, prefix, subdir, uid=uid, gid=uid)
    v = HostVfs(uid=uid, gid=uid, hash_mask=hash_mask)
    try:
        assert v.mount_tar(prefix, image, subdir) == 0
        for i, op in enumerate(seq):
            want, got = model.op(op), vfs_op(v, op)
            if op[0] == "getdents" and isinstance(got, list):
                got = sorted(got)
            note(f"{i}: {op!r} -> model {want!r}, vfs {got!r}")
            assert got == want, f"step {i}: {op!r}: model {want!r}, vfs {got!r}"
    finally:
        v.close()
