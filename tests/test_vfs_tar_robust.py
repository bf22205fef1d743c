"""The tar backend against hostile images: whatever the bytes, the mount answers 0 or -EINVAL
(with the rule it refused for), never a crash, and what it accepts can be walked and read in
full.  Which images keep the format and which break which rule: tests/test_tar_corpus.py, for
all three readers; here, what is the VFS's own — the fields it shows, the tars Python's tarfile
writes (a bare program's --fs-image), subdirectory routes — then hypothesis: corrupted,
truncated and random images."""
import errno as E
import io
import os
import stat
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vfs_support import build_tar, trees
from xax_emu.image.format import RULE_NAMES
from xax_emu.vfs._host import HostVfs


def _octal(n: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, n)


def header(name: bytes = b"f", *, size: int = 0, typ: bytes = b"0", mode: int = 0o644, link: bytes = b"",
           prefix: bytes = b"", magic: bytes = b"ustar\x0000", size_field: bytes | None = None,
           mtime: int = 1_600_000_000, checksum_delta: int = 0) -> bytes:
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = _octal(mode, 8)
    h[108:116] = _octal(0, 8)
    h[116:124] = _octal(0, 8)
    h[124:136] = size_field if size_field is not None else _octal(size, 12)
    h[136:148] = _octal(mtime, 12)
    h[156:157] = typ
    h[157:157 + len(link)] = link
    h[257:265] = magic
    h[345:345 + len(prefix)] = prefix
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % (sum(h) + checksum_delta)
    return bytes(h)


def member(name: bytes, data: bytes = b"", **kw) -> bytes:
    kw.setdefault("size", len(data))
    pad = (-len(data)) % 512
    return header(name, **kw) + data + bytes(pad)


END = bytes(1024)


def mount(image: bytes, subdir: str = "") -> tuple[int, HostVfs]:
    v = HostVfs(uid=0, gid=0)  # root: every mode can be walked
    return v.mount_tar("/", image, subdir), v


def refused(image: bytes) -> bool:
    r, v = mount(image)
    why = v.tar_refusal()
    v.close()
    assert r in (0, -E.EINVAL), r
    assert (why is not None) == (r == -E.EINVAL), why
    if why is not None:
        assert why[0].split(":")[0] in RULE_NAMES and 0 <= why[1] <= len(image), why
    return r == -E.EINVAL


def test_a_plain_image_and_its_fields():
    img = member(b"dir/", typ=b"5", mode=0o750) + member(b"dir/f", b"data", mode=0o640, mtime=12345) + \
        member(b"l", typ=b"2", link=b"dir/f") + member(b"name", b"p", prefix=b"long/prefix") + END
    r, v = mount(img)
    assert r == 0
    assert v.stat("/dir").mode == stat.S_IFDIR | 0o750
    st = v.stat("/dir/f")
    assert (st.mode, st.size, st.mtime) == (stat.S_IFREG | 0o640, 4, 12345)
    assert v.readlink("/l") == b"dir/f" and v.lstat("/l").size == 5 and v.stat("/l").size == 4
    assert v.stat("/long/prefix/name").size == 1 and v.stat("/long").mode == stat.S_IFDIR | 0o755
    v.close()


def test_empty_images():
    for img in (END, bytes(10240)):
        r, v = mount(img)
        assert r == 0 and v.listdir("/") == []
        v.close()
    for img in (b"", bytes(512), bytes(1000)):  # an archive ends with two zero blocks
        assert refused(img)


def test_the_refusal_names_the_rule_and_the_header():
    img = member(b"ok", b"1") + member(b"../x", b"2") + END
    r, v = mount(img)
    assert r == -E.EINVAL and v.tar_refusal() == ("name-dotdot: a '..' component", 1024)
    assert v.mount_tar("/other", member(b"ok", b"1") + END) == 0 and v.tar_refusal() is None
    v.close()


def test_a_refused_image_leaves_nothing_mounted():
    r, v = mount(member(b"a/b", b"1") + member(b"a", b"2") + END)
    assert r == -E.EINVAL and v.tar_refusal()[0].startswith("parent:")
    assert v.listdir("/") == []  # the route was discarded: "/" is the skeleton's
    assert v.mount_tar("/", member(b"a", b"1") + END) == 0 and v.listdir("/") == [b"a"]
    v.close()


def test_subdirectory_routes():
    img = member(b"app/bin/x", b"1") + member(b"file", b"2") + END
    assert mount(img, "app")[0] == 0
    assert mount(img, "nope")[0] == -E.ENOENT
    assert mount(img, "file")[0] == -E.ENOTDIR
    assert mount(img, "../app")[0] == -E.EINVAL
    r, v = mount(img, "./app/")
    assert r == 0 and v.listdir("/") == [b"bin"]
    v.close()


def test_what_pythons_tarfile_writes():
    """A bare program's --fs-image is any tar in the format: Python's tarfile writes one (pax or
    ustar, whole-second mtimes); GNU's format is not it."""
    long = "d" * 200 + "/" + "f" * 200
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
            ti = tarfile.TarInfo(long)
            ti.size, ti.mtime, ti.uid, ti.uname = 3, 77, 4242, "someone"
            tf.addfile(ti, io.BytesIO(b"abc"))
            ti = tarfile.TarInfo("link")
            ti.type, ti.linkname = tarfile.SYMTYPE, "x" * 300
            tf.addfile(ti)
        if fmt == tarfile.GNU_FORMAT:
            assert refused(buf.getvalue())
            continue
        r, v = mount(buf.getvalue())
        assert r == 0
        fd = v.open("/" + long)
        assert v.read(fd, 10) == b"abc" and v.fstat(fd).mtime == 77
        assert v.readlink("/link") == b"x" * 300
        v.close()


def _checksummed(h: bytearray, which: str, delta: int) -> tuple[bytes, bool]:
    """h with its checksum field set as which says; and whether the format takes it (the
    unsigned sum only: not the signed one old tars wrote)."""
    h[148:156] = b" " * 8
    u = sum(h)
    s = sum(b - 256 if b >= 0x80 else b for b in h)
    value = {"unsigned": u, "signed": s, "above": u + delta, "below": s - delta}[which]
    if value < 0:  # an octal field cannot say it: the unsigned sum instead
        value = u
    h[148:156] = b"%06o\0 " % value
    return bytes(h), value == u


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=64, max_size=64), st.binary(min_size=12, max_size=12),
       st.sampled_from(["unsigned", "signed", "above", "below"]), st.integers(1, 300))
def test_checksums_whatever_the_bytes(names, tail, which, delta):
    """The header's sum (taken a word at a time in tarfmt.c) against Python's byte by byte:
    bytes >= 0x80, where the signed and unsigned sums part, go in fields no reader reads (the
    owner's and group's names, the block's last 12 bytes); exactly the unsigned sum is taken."""
    h = bytearray(header(b"f"))
    h[265:329] = names
    h[500:512] = tail
    image, ok = _checksummed(h, which, delta)
    assert refused(image + END) == (not ok)


def test_checksums_of_headers_full_of_high_bytes():
    for fill in (0x80, 0xFF, 0x7F):
        for which in ("unsigned", "signed", "above", "below"):
            h = bytearray(header(b"f"))
            h[265:329] = bytes([fill]) * 64
            h[500:512] = bytes([fill]) * 12
            image, ok = _checksummed(h, which, 1)
            assert refused(image + END) == (not ok), (fill, which)


# -- hypothesis: corrupted real images --------------------------------------------------------

def walk_all(v: HostVfs) -> None:
    """Reads everything the image holds; sizes and contents must agree."""
    todo, seen = ["/"], 0
    while todo and seen < 500:
        d = todo.pop()
        names = v.listdir(d)
        if isinstance(names, int):
            continue
        for name in names:
            seen += 1
            p = os.path.join(d, os.fsdecode(name))
            st_ = v.lstat(p)
            assert not isinstance(st_, int), (p, st_)
            if stat.S_ISDIR(st_.mode):
                todo.append(p)
            elif stat.S_ISLNK(st_.mode):
                assert len(v.readlink(p)) == st_.size
                v.stat(p)
            elif stat.S_ISREG(st_.mode):
                fd = v.open(p)
                if fd >= 0:
                    assert len(v.read(fd, st_.size + 10)) == st_.size
                    v.close_fd(fd)


@st.composite
def corrupted(draw):
    entries = draw(trees(max_entries=8))
    try:
        image = bytearray(build_tar(entries, draw(st.sampled_from([tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT]))))
    except ValueError:  # a name ustar cannot hold
        image = bytearray(build_tar(entries, tarfile.PAX_FORMAT))
    for _ in range(draw(st.integers(0, 6))):
        how = draw(st.integers(0, 6))
        if how == 0 and image:  # flip a byte in a header-ish place
            block = draw(st.integers(0, max(0, len(image) // 512 - 1)))
            at = min(len(image) - 1, block * 512 + draw(st.sampled_from([0, 1, 99, 100, 124, 130, 135, 148, 156, 157,
                                                                          257, 345, 400, draw(st.integers(0, 511))])))
            image[at] = draw(st.integers(0, 255))
        elif how == 1:  # truncate
            del image[draw(st.integers(0, len(image))):]
        elif how == 2 and len(image) >= 512:  # a new size field, checksum fixed so the size is what is read
            block = draw(st.integers(0, len(image) // 512 - 1)) * 512
            field = draw(st.sampled_from([b"\x80" + draw(st.binary(min_size=11, max_size=11)),
                                          b"%011o\0" % draw(st.integers(0, 8 ** 11 - 1)),
                                          draw(st.binary(min_size=12, max_size=12))]))
            image[block + 124:block + 136] = field
            image[block + 148:block + 156] = b" " * 8
            image[block + 148:block + 156] = b"%06o\0 " % sum(image[block:block + 512])
        elif how == 3:  # a random pax or long-name header in front
            body = draw(st.binary(max_size=300)) if draw(st.booleans()) else \
                b"".join(b"%d %s=%s\n" % (len(k) + len(val) + 4 + 2, k, val)
                         for k, val in draw(st.lists(st.tuples(st.sampled_from([b"path", b"linkpath", b"size", b"mtime"]),
                                                               st.binary(max_size=20)), max_size=3)))
            image[0:0] = member(b"h", body, typ=draw(st.sampled_from([b"x", b"g", b"L", b"K"])))
        elif how == 5 and len(image) >= 512:  # a field of a header, its checksum fixed: past the first check
            block = draw(st.integers(0, len(image) // 512 - 1)) * 512
            at = draw(st.sampled_from([0, 100, 124, 136, 156, 157, 257, 345]))
            image[block + at:block + at + 8] = draw(st.binary(min_size=8, max_size=8))
            image[block + 148:block + 156] = b" " * 8
            image[block + 148:block + 156] = b"%06o\0 " % sum(image[block:block + 512])
        elif how == 4:  # junk appended
            image += draw(st.binary(max_size=1100))
        else:  # a block duplicated
            if len(image) >= 512:
                block = draw(st.integers(0, len(image) // 512 - 1)) * 512
                image[block:block] = image[block:block + 512]
    return bytes(image)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(corrupted())
def test_corrupted_images_are_refused_or_readable(image):
    r, v = mount(image)
    try:
        assert r in (0, -E.EINVAL), r
        if r == 0:
            walk_all(v)
    finally:
        v.close()


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=0, max_size=3000))
def test_random_bytes_never_crash(data):
    for img in (data, header(b"f", size=len(data)) + data):
        r, v = mount(img)
        assert r in (0, -E.EINVAL)
        if r == 0:
            walk_all(v)
        v.close()
