"""Finding names (runtime_c/vfs/node.c's entry table): a lookup examines a bounded number of
directory entries whatever the size of the directory, when a tar image is indexed, when paths
are walked, when a RAM disk's names come and go.  Cost is counted, not timed: the host build's
counters (vfs_debug_stats) say how many entries the lookups examined; a list per directory, as
before, examined O(n) per lookup and O(n^2) to index a directory of n members.  Then names that
collide in the table (hash_mask 0 puts every entry in one bucket) must be found, listed and
removed as distinct ones are, and listings keep their order (newest first, as tmpfs lists)."""
import errno as E
import os

import pytest

from vfs_support import Entry, build_tar
from xax_emu.vfs._host import HostVfs

# entries a lookup may examine on average: a chain of a table holding at most one entry per
# bucket, with room to spare (a list walk averages n/2 in a directory of n)
PER_LOOKUP = 4


def big_tree(n: int) -> list[Entry]:
    """n files in one directory (similar names: f00000, f00001...), a quarter as many in a
    subdirectory of it, and a few directories the image lacks (made by the reader)."""
    out = [Entry(("d",), "dir")]
    out += [Entry(("d", f"f{i:05d}"), "file", 0o644, data=b"%d" % i) for i in range(n)]
    out += [Entry(("d", "sub"), "dir")]
    out += [Entry(("d", "sub", f"g{i}"), "file", 0o644, data=b"g") for i in range(n // 4)]
    out += [Entry(("x", "y", f"z{i}"), "file", 0o644, data=b"z") for i in range(8)]  # x, x/y implicit
    return out


def delta(v: HostVfs, before: dict) -> tuple[int, int]:
    now = v.debug_stats()
    return now["lookups"] - before["lookups"], now["probes"] - before["probes"]


def index_cost(n: int) -> tuple[int, int, dict]:
    v = HostVfs()
    try:
        before = v.debug_stats()
        assert v.mount_tar("/", build_tar(big_tree(n))) == 0
        lookups, probes = delta(v, before)
        return lookups, probes, v.debug_stats()
    finally:
        v.close()


@pytest.mark.parametrize("n", [1000, 4000])
def test_indexing_a_big_directory_examines_few_entries_per_lookup(n):
    lookups, probes, st = index_cost(n)
    members = n + n // 4 + 8
    assert lookups >= members  # every member's name is looked up (a collision is refused)
    assert probes <= PER_LOOKUP * lookups, (lookups, probes)
    # the table grew with what it holds: at most one entry per bucket
    assert st["entries"] >= members and st["buckets"] >= st["entries"]


def test_indexing_cost_grows_linearly():
    l1, p1, _ = index_cost(1000)
    l4, p4, _ = index_cost(4000)
    # 4x the members: about 4x the work (a list per directory: about 16x)
    assert p4 <= 6 * p1, (p1, p4)
    assert l4 <= 5 * l1, (l1, l4)


def test_walking_paths_in_a_big_directory_examines_few_entries():
    n = 3000
    v = HostVfs()
    try:
        assert v.mount_tar("/", build_tar(big_tree(n))) == 0
        before = v.debug_stats()
        for i in range(n):
            st = v.stat(f"/d/f{i:05d}")
            assert not isinstance(st, int) and st.size == len(b"%d" % i)
            assert v.stat(f"/d/f{i:05d}.missing") == -E.ENOENT
            assert v.stat(f"/d/sub/g{i % (n // 4)}").size == 1
        lookups, probes = delta(v, before)
        assert lookups >= 3 * n
        assert probes <= PER_LOOKUP * lookups, (lookups, probes)
    finally:
        v.close()


def test_ram_disk_names_coming_and_going_examine_few_entries():
    n = 3000
    v = HostVfs(uid=0, gid=0)
    try:
        assert v.mount_ram("/", 1 << 20) == 0
        assert v.mkdir("/d") == 0
        start = v.debug_stats()
        before = dict(start)
        for i in range(n):
            fd = v.open(f"/d/f{i}", os.O_CREAT | os.O_WRONLY, 0o644)
            assert fd >= 0 and v.close_fd(fd) == 0
        for i in range(0, n, 2):
            assert v.rename(f"/d/f{i}", f"/d/r{i}") == 0
        for i in range(n):
            assert v.stat(f"/d/{'r' if i % 2 == 0 else 'f'}{i}").size == 0
            assert v.stat(f"/d/{'f' if i % 2 == 0 else 'r'}{i}") == -E.ENOENT
        for i in range(n):
            assert v.unlink(f"/d/{'r' if i % 2 == 0 else 'f'}{i}") == 0
        lookups, probes = delta(v, before)
        assert probes <= PER_LOOKUP * lookups, (lookups, probes)
        st = v.debug_stats()
        assert st["entries"] == start["entries"]  # every removed name left the table
        assert v.listdir("/d") == []
    finally:
        v.close()


# -- colliding names -----------------------------------------------------------------------

COLLIDING = [
    Entry(("a",), "dir"),
    Entry(("a", "x"), "file", 0o644, data=b"a/x"),
    Entry(("a", "xy"), "file", 0o644, data=b"a/xy"),
    Entry(("a", "xyz"), "file", 0o600, data=b"a/xyz"),
    Entry(("a", "yx"), "file", 0o644, data=b"a/yx"),
    Entry(("a", "12345678"), "file", 0o644, data=b"eight"),  # a whole word of the hash
    Entry(("a", "123456789"), "file", 0o644, data=b"nine"),  # a word and a byte
    Entry(("a", "12345679"), "file", 0o644, data=b"eight'"),
    Entry(("b",), "dir"),
    Entry(("b", "x"), "file", 0o644, data=b"b/x"),  # the same name in another directory
    Entry(("b", "a"), "dir"),  # and a directory's name under another
    Entry(("b", "a", "x"), "link", target="../x"),
    Entry(("c", "x"), "file", 0o644, data=b"c/x"),  # c: made by the reader
] + [Entry(("many", f"n{i}"), "file", 0o644, data=b"%d" % i) for i in range(300)]


def listing(v: HostVfs, path: str, bufsize: int) -> list:
    """Every entry of a directory in getdents64's order, in buffers of bufsize bytes."""
    fd = v.open(path, os.O_RDONLY | os.O_DIRECTORY)
    assert fd >= 0
    out = []
    while True:
        ents = v.getdents(fd, bufsize)
        assert not isinstance(ents, int), ents
        if not ents:
            break
        out += [(e.name, e.type, e.off) for e in ents]
    v.close_fd(fd)
    return out


def contents(v: HostVfs, path: str):
    fd = v.open(path)
    if fd < 0:
        return fd
    data = v.read(fd, 100)
    v.close_fd(fd)
    return data


@pytest.mark.parametrize("hash_mask", [0, 1])
def test_colliding_names_are_found_as_distinct_ones(hash_mask):
    image = build_tar(COLLIDING)
    plain, crowded = HostVfs(), HostVfs(hash_mask=hash_mask)
    try:
        assert plain.mount_tar("/", image) == 0 and crowded.mount_tar("/", image) == 0
        st = crowded.debug_stats()
        if hash_mask == 0:
            assert st["longest"] == st["entries"]  # one chain holds every entry
        for e in COLLIDING:
            if e.kind == "file":
                assert contents(crowded, e.name) == e.data, e.name
            assert crowded.lstat(e.name) == plain.lstat(e.name), e.name
            assert crowded.stat(e.name + "-") == -E.ENOENT
            assert crowded.stat(e.name[:-1] + "?") in (-E.ENOENT, -E.ENOTDIR)
        assert contents(crowded, "b/a/x") == b"b/x"
        for d in ("/", "a", "b", "b/a", "c", "many"):
            for size in (65536, 64):  # whole, and resumed every entry or two
                assert listing(crowded, d, size) == listing(plain, d, size), d
    finally:
        plain.close()
        crowded.close()


@pytest.mark.parametrize("hash_mask", [0, 1, None])
def test_colliding_names_come_and_go_on_a_ram_disk(hash_mask):
    v = HostVfs(uid=0, gid=0, hash_mask=hash_mask)
    try:
        assert v.mount_ram("/", 1 << 20) == 0
        names = ["x", "xy", "yx", "12345678", "123456789", "12345679"]
        for d in ("a", "b"):
            assert v.mkdir(d) == 0
            for n in names:
                fd = v.open(f"{d}/{n}", os.O_CREAT | os.O_WRONLY, 0o644)
                assert v.write(fd, f"{d}/{n}".encode()) > 0 and v.close_fd(fd) == 0
        assert v.rename("a/x", "b/x") == 0  # replaces b/x
        assert v.rename("a/xy", "b/yx", 2) == 0  # RENAME_EXCHANGE
        assert v.rename("b/12345678", "b/1234567") == 0
        assert v.unlink("a/123456789") == 0
        want = {"a/yx": b"a/yx", "a/xy": b"b/yx", "a/12345678": b"a/12345678", "a/12345679": b"a/12345679",
                "b/x": b"a/x", "b/yx": b"a/xy", "b/xy": b"b/xy", "b/1234567": b"b/12345678",
                "b/123456789": b"b/123456789", "b/12345679": b"b/12345679"}
        for path, data in want.items():
            assert contents(v, path) == data, path
        for gone in ("a/x", "a/123456789", "b/12345678"):
            assert v.stat(gone) == -E.ENOENT
        assert v.listdir("a") == sorted(p.split("/")[1].encode() for p in want if p.startswith("a/"))
        assert v.listdir("b") == sorted(p.split("/")[1].encode() for p in want if p.startswith("b/"))
        if hash_mask == 0:
            assert v.debug_stats()["longest"] == v.debug_stats()["entries"]
    finally:
        v.close()


def test_changing_the_hash_puts_every_entry_back():
    v = HostVfs()
    try:
        assert v.mount_tar("/", build_tar(COLLIDING)) == 0
        for mask in (0, 3, 0xFFFFFFFF):
            v.debug_hash_mask(mask)
            st = v.debug_stats()
            if mask == 0:
                assert st["longest"] == st["entries"]
            for e in COLLIDING:
                if e.kind == "file":
                    assert contents(v, e.name) == e.data, (mask, e.name)
    finally:
        v.close()


# -- listing order -----------------------------------------------------------------------

def test_a_tar_directory_lists_its_members_newest_first():
    """The order getdents64 gives (tmpfs's: the entry added last first) does not depend on how
    names are found: members in image order, directories the image lacks where first needed."""
    entries = [Entry(("d",), "dir"), Entry(("d", "m"), "file", 0o644, data=b"1"),
               Entry(("d", "b"), "file", 0o644, data=b"2"), Entry(("d", "z", "q"), "file", 0o644, data=b"3"),
               Entry(("d", "a"), "link", target="m"), Entry(("d", "k"), "dir")]
    entries += [Entry(("d", f"n{i}"), "file", 0o644, data=b"") for i in (5, 1, 9, 3)]
    want = [b"n3", b"n9", b"n1", b"n5", b"k", b"a", b"z", b"b", b"m"]
    for mask in (None, 0):
        v = HostVfs(hash_mask=mask)
        try:
            assert v.mount_tar("/", build_tar(entries)) == 0
            for size in (65536, 48):
                got = listing(v, "/d", size)
                assert [name for name, _, _ in got] == [b".", b".."] + want, (mask, size)
        finally:
            v.close()
