"""The Monitor's side of host directories (xax_emu/monitor/mounts.py) against hostile requests:
every byte of a MOUNT_* request is the picoprocess's, so malformed ones kill it (ProtocolViolation),
and well-formed ones never reach outside the granted directory — not through '..' or absolute
names (refused before anything is opened), not through a symlink in the directory (never
followed, even when a racing thread swaps one in), not through a hard link (never written), not
through a rename (both paths inside one mount).  The witness is a canary file outside the granted
directory, watched with inotify: it must stay unopened, unread and unchanged."""
import errno
import os
import stat
import threading

import pytest

from hostile_support import Canary
from mounts_support import MonitorSide, grant
from xax_emu import protocol as p
from xax_emu.errors import MountError, ProtocolViolation
from xax_emu.monitor.mounts import Mounts, parse_grant

T = p.TYPES
EROFS, ELOOP, ENOTDIR, EEXIST, EPERM, EFBIG = (-errno.EROFS, -errno.ELOOP, -errno.ENOTDIR, -errno.EEXIST,
                                               -errno.EPERM, -errno.EFBIG)


# -- requests as the layer (or a hostile program) sends them ----------------------------------

def io(path: bytes, off: int = 0, n: int = 0, data: bytes = b"") -> bytes:
    return p.MOUNT_IO.pack(off, n or len(data), len(path)) + path + data


def ren(old: bytes, new: bytes) -> bytes:
    return p.MOUNT_RENAME.pack(len(old), len(new)) + old + new


def STAT(s, path): return s(T["MOUNT_STAT"], 0, 0, path)
def LIST(s, path, start=0): return s(T["MOUNT_LIST"], 0, start, path)
def READ(s, path, off=0, n=4096): return s(T["MOUNT_READ"], 0, 0, io(path, off, n))
def WRITE(s, path, data, off=0): return s(T["MOUNT_WRITE"], 0, 0, io(path, off, data=data))
def TRUNC(s, path, size): return s(T["MOUNT_TRUNCATE"], 0, 0, io(path, size))
def CREATE(s, path, mode=0o644): return s(T["MOUNT_CREATE"], 0, mode, path)
def MKDIR(s, path, mode=0o755): return s(T["MOUNT_MKDIR"], 0, mode, path)
def RM(s, path, d=0): return s(T["MOUNT_REMOVE"], 0, d, path)
def MV(s, old, new, flags=0): return s(T["MOUNT_RENAME"], 0, flags, ren(old, new))


def listing(payload: bytes) -> tuple[list[tuple[bytes, int, bytes]], int]:
    count, nxt = p.MOUNT_LIST.unpack_from(payload)
    out, at = [], p.MOUNT_LIST.size
    for _ in range(count):
        namelen, linklen, _ = p.MOUNT_ENTRY.unpack_from(payload, at)
        st = p.MOUNT_STAT.unpack_from(payload, at + p.MOUNT_ENTRY.size)
        name_at = at + p.MOUNT_ENTRY.size + p.MOUNT_STAT.size
        out.append((payload[name_at:name_at + namelen], st[0], payload[name_at + namelen:name_at + namelen + linklen]))
        at += -(-(p.MOUNT_ENTRY.size + p.MOUNT_STAT.size + namelen + linklen) // 8) * 8
    assert at == len(payload)
    return out, nxt


@pytest.fixture
def world(tmp_path):
    """A granted directory beside a canary (tmp_path/canary-dir/canary.txt), with symlinks and a
    hard link that lead to the canary."""
    canary = Canary(tmp_path)
    top = tmp_path / "granted"
    (top / "d").mkdir(parents=True)
    (top / "f").write_bytes(b"0123456789")
    (top / "abs").symlink_to(canary.path)
    (top / "rel").symlink_to("../canary-dir/canary.txt")
    (top / "outdir").symlink_to(canary.dir)
    os.link(canary.path, top / "hard")
    canary.events()  # the setup's own
    yield top, canary
    canary.close()


def served(top, rw=True, limit=1 << 30):
    return MonitorSide(Mounts([grant(top, "/m", rw)], limit))


MALFORMED = [b"..", b"../f", b"d/../f", b"d/..", b"/f", b"/", b"d//f", b"d/", b"./f", b"d/./f", b".", b"f\0x",
             b"x" * 256, b"d/" * 2048 + b"f"]


@pytest.mark.parametrize("path", MALFORMED, ids=lambda b: repr(b[:20]))
def test_a_path_that_is_not_relative_and_normalized_kills_the_picoprocess(world, path):
    top, canary = world
    s = served(top)
    for ask in (lambda: STAT(s, path), lambda: LIST(s, path), lambda: READ(s, path), lambda: WRITE(s, path, b"x"),
                lambda: TRUNC(s, path, 0), lambda: CREATE(s, path), lambda: MKDIR(s, path), lambda: RM(s, path),
                lambda: MV(s, path, b"g"), lambda: MV(s, b"f", path)):
        with pytest.raises(ProtocolViolation):
            ask()
    canary.assert_untouched()
    assert sorted(os.listdir(top)) == ["abs", "d", "f", "hard", "outdir", "rel"]


def test_malformed_fields_kill_the_picoprocess(world):
    top, canary = world
    s = served(top)
    bad = [
        (T["MOUNT_STAT"], 1, 0, b"f"),                                  # a mount not granted
        (T["MOUNT_STAT"], -1, 0, b"f"),
        (T["MOUNT_STAT"], 0, 1, b"f"),                                  # an arg that must be 0
        (T["MOUNT_LIST"], 0, -1, b""),                                  # a negative place
        (T["MOUNT_READ"], 0, 0, io(b"f", 0, p.MAX_PAYLOAD + 1)),        # more than one reply holds
        (T["MOUNT_READ"], 0, 0, p.MOUNT_IO.pack(0, 1, 5) + b"f"),       # pathlen past the payload
        (T["MOUNT_READ"], 0, 0, p.MOUNT_IO.pack(0, 1, 1)[:8]),          # a short header
        (T["MOUNT_WRITE"], 0, 0, p.MOUNT_IO.pack(0, 9, 1) + b"fxx"),    # len and data disagree
        (T["MOUNT_TRUNCATE"], 0, 0, io(b"f", 0, 3)),                    # truncate carries no data
        (T["MOUNT_CREATE"], 0, -1, b"g"),                               # not permission bits
        (T["MOUNT_CREATE"], 0, 0o10000, b"g"),
        (T["MOUNT_REMOVE"], 0, 2, b"f"),
        (T["MOUNT_RENAME"], 0, 4, ren(b"f", b"g")),                     # RENAME_WHITEOUT
        (T["MOUNT_RENAME"], 0, 3, ren(b"f", b"g")),
        (T["MOUNT_RENAME"], 0, 0, p.MOUNT_RENAME.pack(1, 5) + b"fg"),   # lengths past the payload
        (T["EXPORT_RAM"], -1, 3, b""),
    ]
    for request in bad:
        with pytest.raises(ProtocolViolation):
            s(*request)
    unasked = MonitorSide(None)
    with pytest.raises(ProtocolViolation, match="not granted"):
        STAT(unasked, b"f")
    canary.assert_untouched()
    assert (top / "f").read_bytes() == b"0123456789" and not (top / "g").exists()


def test_symlinks_in_the_directory_are_reported_never_followed(world):
    top, canary = world
    s = served(top)
    arg, payload = STAT(s, b"abs")
    assert arg == 0 and stat.S_ISLNK(p.MOUNT_STAT.unpack_from(payload)[0])
    assert payload[p.MOUNT_STAT.size:] == os.fsencode(canary.path)  # the layer follows it inside the mount
    for link in (b"abs", b"rel"):
        assert READ(s, link) == (ELOOP, b"")
        assert WRITE(s, link, b"pwned") == (ELOOP, b"")
        assert TRUNC(s, link, 0) == (ELOOP, b"")
        assert CREATE(s, link)[0] == EEXIST
        assert MKDIR(s, link)[0] == EEXIST
    through = b"outdir/canary.txt"
    assert READ(s, through)[0] == ENOTDIR
    assert WRITE(s, through, b"pwned")[0] == ENOTDIR
    assert TRUNC(s, through, 0)[0] == ENOTDIR
    assert STAT(s, through)[0] == ENOTDIR
    assert LIST(s, b"outdir")[0] == ENOTDIR
    assert CREATE(s, b"outdir/new")[0] == ENOTDIR
    assert MKDIR(s, b"outdir/new")[0] == ENOTDIR
    assert RM(s, through)[0] == ENOTDIR
    assert MV(s, through, b"stolen")[0] == ENOTDIR
    assert MV(s, b"f", b"outdir/f")[0] == ENOTDIR
    assert RM(s, b"outdir")[0] == 0  # the symlink itself goes, never what it names
    assert RM(s, b"abs")[0] == 0
    canary.assert_untouched()


def test_a_file_with_other_hard_links_is_read_but_never_written(world):
    """A hard link in the directory is the same file as one outside it: writing it would write
    outside.  (No request makes a hard link.)"""
    top, canary = world
    s = served(top)
    assert WRITE(s, b"hard", b"pwned") == (EPERM, b"")
    assert TRUNC(s, b"hard", 0) == (EPERM, b"")
    canary.assert_untouched()
    assert READ(s, b"hard")[1] == Canary.CONTENT  # granted: it is in the directory


def test_an_ro_grant_changes_nothing(world):
    top, canary = world
    s = served(top, rw=False)
    before = sorted(os.listdir(top))
    for arg, payload in (WRITE(s, b"f", b"x"), TRUNC(s, b"f", 0), CREATE(s, b"new"), MKDIR(s, b"new"),
                         RM(s, b"f"), RM(s, b"d", 1), MV(s, b"f", b"g")):
        assert (arg, payload) == (EROFS, b"")
    assert READ(s, b"f") == (10, b"0123456789")
    assert sorted(os.listdir(top)) == before and (top / "f").read_bytes() == b"0123456789"
    canary.assert_untouched()


def test_nothing_is_read_or_written_at_or_past_the_download_limit(world):
    top, canary = world
    s = served(top, limit=8)
    assert READ(s, b"f", 0, 100) == (8, b"01234567")
    assert READ(s, b"f", 8, 1) == (EFBIG, b"")
    assert WRITE(s, b"f", b"abcdef", 5)[0] == 3
    assert WRITE(s, b"f", b"z", 8)[0] == EFBIG
    assert TRUNC(s, b"f", 9)[0] == EFBIG
    assert (top / "f").read_bytes() == b"01234abc89"
    with open(top / "d" / "huge", "wb") as f:
        f.truncate(1 << 40)  # a sparse terabyte
    s = served(top, limit=1 << 20)
    assert READ(s, b"d/huge", (1 << 20) - 4, 100) == (4, bytes(4))
    assert READ(s, b"d/huge", 1 << 20, 1)[0] == EFBIG
    canary.assert_untouched()


def test_fifos_and_devices_are_never_opened(world):
    """A FIFO would block an open and a device may act on one: they are checked through an
    O_PATH fd and refused (EACCES, as on a nodev mount) before anything opens them."""
    top, canary = world
    os.mkfifo(top / "fifo")
    s = served(top)
    for path in (b"fifo",) + ((b"null",) if os.geteuid() == 0 else ()):
        if path == b"null":
            os.mknod(top / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        assert READ(s, path)[0] == -errno.EACCES
        assert WRITE(s, path, b"x")[0] == -errno.EACCES
        assert TRUNC(s, path, 0)[0] == -errno.EACCES
    assert READ(s, b"d")[0] == -errno.EISDIR and READ(s, b"")[0] == -errno.EISDIR
    canary.assert_untouched()


def test_renames_and_removals_stay_inside_and_spare_the_root(world):
    top, canary = world
    s = served(top)
    assert MV(s, b"f", b"d/g")[0] == 0 and (top / "d" / "g").read_bytes() == b"0123456789"
    assert MV(s, b"d/g", b"d", p.RENAME_NOREPLACE)[0] == EEXIST
    assert MV(s, b"d", b"abs", p.RENAME_EXCHANGE)[0] == 0  # swaps two entries of the mount
    assert os.path.islink(top / "d") and (top / "abs" / "g").exists()
    assert RM(s, b"")[0] == -errno.EBUSY and MV(s, b"", b"x")[0] == -errno.EBUSY
    assert CREATE(s, b"")[0] == EEXIST
    canary.assert_untouched()


def test_creation_never_follows_a_symlink_and_keeps_no_set_id_bits(world):
    top, canary = world
    s = served(top)
    (top / "dangling").symlink_to(canary.dir / "made-through-a-link")
    assert CREATE(s, b"dangling")[0] == EEXIST
    assert CREATE(s, b"suid", 0o6755)[0] == 0 and stat.S_IMODE(os.stat(top / "suid").st_mode) == 0o755 & ~_umask()
    assert MKDIR(s, b"sticky", 0o3777)[0] == 0
    assert stat.S_IMODE(os.stat(top / "sticky").st_mode) == 0o1777 & ~_umask()
    canary.assert_untouched()


def _umask() -> int:
    u = os.umask(0)
    os.umask(u)
    return u


def test_a_symlink_swapped_in_by_a_racing_thread_is_never_followed(world):
    """A thread keeps swapping `d` between a directory (holding canary.txt) and a symlink to the
    canary's directory, and `f` between a file and a symlink to the canary, while every request
    that walks through `d` or acts on `f` is made again and again: each one either acts inside
    the mount or fails (ENOTDIR, ELOOP, ENOENT), and the canary is never touched."""
    top, canary = world
    (top / "d" / "canary.txt").write_bytes(b"inside\n")
    (top / "dlink").symlink_to(canary.dir)
    (top / "ddir").mkdir()
    (top / "ddir" / "canary.txt").write_bytes(b"inside\n")
    (top / "flink").symlink_to(canary.path)
    (top / "ffile").write_bytes(b"inside\n")
    stop = threading.Event()

    def swap():
        while not stop.is_set():
            for spare, name in (("dlink", "d"), ("flink", "f")):
                os.rename(top / name, top / (spare + ".old"))   # the current one out of the way
                os.rename(top / spare, top / name)               # the other in, atomically named
                os.rename(top / (spare + ".old"), top / spare)   # and the first kept for next time

    s = served(top)
    racer = threading.Thread(target=swap)
    racer.start()
    allowed = {0, ENOTDIR, ELOOP, -errno.ENOENT, EEXIST, -errno.ENOTEMPTY}
    try:
        for i in range(400):
            results = [
                READ(s, b"d/canary.txt")[0], WRITE(s, b"d/canary.txt", b"pwned\n")[0],
                TRUNC(s, b"d/canary.txt", 0)[0], STAT(s, b"d/canary.txt")[0], LIST(s, b"d")[0],
                CREATE(s, b"d/new%d" % i)[0], MKDIR(s, b"d/dir%d" % i)[0], RM(s, b"d/new%d" % i)[0],
                RM(s, b"d/dir%d" % i, 1)[0], MV(s, b"d/canary.txt", b"d/moved")[0], MV(s, b"d/moved", b"d/canary.txt")[0],
                READ(s, b"f")[0], WRITE(s, b"f", b"pwned\n")[0], TRUNC(s, b"f", 0)[0],
            ]
            assert all(r in allowed or r > 0 for r in results), results
    finally:
        stop.set()
        racer.join()
    canary.assert_untouched()


def test_a_listing_comes_in_replies_that_each_fit_one_message(tmp_path):
    top = tmp_path / "many"
    top.mkdir()
    names = sorted(os.fsencode(f"{i:05d}-" + "n" * 180) for i in range(1200))
    for n in names:
        (top / os.fsdecode(n)).write_bytes(b"")
    (top / "link").symlink_to("x" * 3000)
    s = served(top)
    got, start, replies = [], 0, 0
    while True:
        arg, payload = LIST(s, b"", start)
        assert arg == 0 and len(payload) <= p.MAX_PAYLOAD
        entries, nxt = listing(payload)
        got += entries
        replies += 1
        if not nxt:
            break
        assert nxt == start + len(entries)
        start = nxt
    assert replies > 3
    assert [n for n, _, _ in got] == sorted(names + [b"link"])
    assert got[-1][2] == b"x" * 3000 and stat.S_ISLNK(got[-1][1])
    assert LIST(s, b"00000-" + b"n" * 180)[0] == ENOTDIR


# -- the grant itself ---------------------------------------------------------------------

def test_grants_are_parsed_and_refused_in_one_line(tmp_path):
    assert parse_grant("/a:b:/in") == grant("/a:b", "/in", False)
    assert parse_grant("/a://in/./x/:rw") == grant("/a", "/in/x", True)
    assert parse_grant("/a:/in:ro").rw is False
    for bad in ("/a", ":/in", "/a:", "/a:in", "/a:/", "/a:/in/../x", "/a:/" + "x" * 256):
        with pytest.raises(MountError, match="--mount"):
            parse_grant(bad)
    with pytest.raises(MountError, match="overlaps"):
        Mounts([grant(tmp_path, "/in"), grant(tmp_path, "/in/sub")], 1)
    with pytest.raises(MountError, match="No such file"):
        Mounts([grant(tmp_path / "absent", "/in")], 1)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(MountError, match="Not a directory"):
        Mounts([grant(tmp_path / "file", "/in")], 1)
    with pytest.raises(MountError, match="at most"):
        Mounts([grant(tmp_path, f"/in{i}") for i in range(p.MAX_MOUNTS + 1)], 1)
