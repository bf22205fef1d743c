"""The tar reader against hostile images: every malformed one is refused at mount with -EINVAL,
never a crash; what it accepts can be walked and read in full.  Hand-made headers for each rule,
then hypothesis: corrupted, truncated and oversized variants of real images."""
import errno as E
import io
import os
import stat
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vfs_support import build_tar, trees
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


def pax(records: dict[bytes, bytes] | bytes, typ: bytes = b"x") -> bytes:
    if isinstance(records, dict):
        body = b""
        for k, val in records.items():
            rec = b" " + k + b"=" + val + b"\n"
            n = len(rec) + 1
            while len(b"%d" % n) + len(rec) != n:
                n += 1
            body += b"%d" % n + rec
    else:
        body = records
    return member(b"PaxHeader", body, typ=typ)


END = bytes(1024)


def mount(image: bytes, subdir: str = "") -> tuple[int, HostVfs]:
    v = HostVfs(uid=0, gid=0)  # root: every mode can be walked
    return v.mount_tar("/", image, subdir), v


def refused(image: bytes) -> bool:
    r, v = mount(image)
    v.close()
    assert r in (0, -E.EINVAL), r
    return r == -E.EINVAL


def test_a_plain_image_and_its_fields():
    img = member(b"dir/", typ=b"5", mode=0o750) + member(b"dir/f", b"data", mode=0o640, mtime=12345) + \
        member(b"l", typ=b"2", link=b"dir/f") + member(b"name", b"p", prefix=b"long/prefix") + END
    r, v = mount(img)
    assert r == 0
    assert v.stat("/dir").mode == stat.S_IFDIR | 0o750
    st = v.stat("/dir/f")
    assert (st.mode, st.size, st.mtime) == (stat.S_IFREG | 0o640, 4, 12345)
    assert v.readlink("/l") == b"dir/f" and v.stat("/l").size == 4
    assert v.stat("/long/prefix/name").size == 1 and v.stat("/long").mode == stat.S_IFDIR | 0o755
    v.close()


def test_empty_images():
    for img in (b"", END, bytes(512), bytes(10240)):
        r, v = mount(img)
        assert r == 0 and v.listdir("/") == []
        v.close()


@pytest.mark.parametrize("name", [b"/etc/passwd", b"../x", b"a/../b", b"a/..", b"..", b"", b"./", b"a/\x00b"])
def test_hostile_names(name):
    img = member(name, b"x") + END
    if name == b"./":
        assert refused(img)  # "." as a regular file
    elif name == b"a/\x00b":
        assert not refused(img)  # the field ends at the NUL: "a/"
    else:
        assert refused(img)


def test_hostile_pax_and_gnu_names():
    assert refused(pax({b"path": b"/abs"}) + member(b"x", b"1") + END)
    assert refused(pax({b"path": b"a/../../b"}) + member(b"x", b"1") + END)
    assert refused(pax({b"path": b"a\x00b"}) + member(b"x", b"1") + END)
    assert refused(pax({b"path": b""}) + member(b"x", b"1") + END)
    assert refused(member(b"././@LongLink", b"../evil\0", typ=b"L") + member(b"x", b"1") + END)
    assert refused(member(b"././@LongLink", b"/evil\0", typ=b"L") + member(b"x", b"1") + END)
    assert refused(pax({b"linkpath": b""}) + member(b"x", typ=b"2", link=b"y") + END)


def test_names_over_the_limits():
    assert refused(member(b"x" * 99, b"") + pax({b"path": b"a/" + b"c" * 256}) + member(b"y") + END)
    assert refused(pax({b"path": b"d/" * 2048}) + member(b"y") + END)
    assert refused(member(b"l", typ=b"2", link=b"") + END)  # an empty symlink target
    assert refused(pax({b"linkpath": b"t/" * 2048}) + member(b"l", typ=b"2") + END)


def test_oversized_metadata_headers():
    big = {b"comment": b"x" * 70000}
    assert refused(pax(big) + member(b"f") + END)
    assert refused(pax(big, typ=b"g") + member(b"f") + END)
    assert refused(member(b"././@LongLink", b"a" * 70000, typ=b"L") + member(b"f") + END)
    ok = {b"comment": b"x" * 60000}
    assert not refused(pax(ok) + member(b"f") + END)


def test_sizes_past_the_end():
    assert refused(header(b"f", size=5000) + bytes(512) + END)
    assert refused(member(b"f", b"data" * 10)[:520])  # cut inside the data
    assert refused(header(b"f", size_field=b"\x80" + b"\xff" * 11) + END)  # base-256, huge
    assert refused(header(b"f", size_field=b"\xff" * 12) + END)  # negative
    assert refused(pax({b"size": b"99999999"}) + member(b"f", b"small") + END)
    assert refused(pax({b"size": b"12x"}) + member(b"f", b"small") + END)
    assert not refused(member(b"f", b"data")[:516])  # the last member's padding may be missing
    r, v = mount(header(b"f", size_field=b"\x80" + bytes(10) + b"\x05") + b"hello" + bytes(507) + END)
    assert r == 0 and v.stat("/f").size == 5  # base-256 sizes are read
    v.close()


def test_bad_checksums_and_numbers():
    assert refused(header(b"f", checksum_delta=1) + END)
    assert refused(header(b"f", size_field=b"12345678901\x00".replace(b"8", b"9")) + END)
    assert refused(header(b"f", size_field=b"1 2\0" + bytes(8)) + END)
    assert refused(member(b"f") + b"\x01" + bytes(100))  # a partial block that is not zeros


def _checksummed(h: bytearray, which: str, delta: int, base256: bool = False) -> tuple[bytes, bool]:
    """h with its checksum field set as which says (in octal, or in GNU's base-256, whose bytes
    are >= 0x80 themselves: the sum takes the field as spaces whatever it holds); and whether a
    tar reader must take it."""
    h[148:156] = b" " * 8
    u = sum(h)
    s = sum(b - 256 if b >= 0x80 else b for b in h)  # old tars summed signed chars
    value = {"unsigned": u, "signed": s, "above": u + delta, "below": s - delta}[which]
    if value < 0:  # an octal field cannot say it: the unsigned sum instead
        value = u
    h[148:156] = b"\x80" + value.to_bytes(7, "big") if base256 else b"%06o\0 " % value
    return bytes(h), value in (u, s)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=64, max_size=64), st.binary(min_size=12, max_size=12),
       st.sampled_from(["unsigned", "signed", "above", "below"]), st.integers(1, 300), st.booleans())
def test_checksums_signed_or_unsigned_whatever_the_bytes(names, tail, which, delta, base256):
    """The header's sum (taken a word at a time in tar.c) against Python's byte by byte: bytes
    >= 0x80, where the signed and unsigned sums part, go in fields the reader ignores (the owner's
    and group's names, the block's last 12 bytes); exactly the two sums are accepted."""
    h = bytearray(header(b"f"))
    h[265:329] = names
    h[500:512] = tail
    image, ok = _checksummed(h, which, delta, base256)
    assert refused(image + END) == (not ok)


def test_checksums_of_headers_full_of_high_bytes():
    for fill in (0x80, 0xFF, 0x7F):
        for which in ("unsigned", "signed", "above", "below"):
            h = bytearray(header(b"f"))
            h[265:329] = bytes([fill]) * 64
            h[500:512] = bytes([fill]) * 12
            for base256 in (False, True):
                image, ok = _checksummed(h, which, 1, base256)
                assert refused(image + END) == (not ok), (fill, which, base256)


def test_malformed_pax_records():
    for body in (b"5 a=b", b"x a=b\n", b"100 a=b\n", b"6 ab\n", b"7 =ab\n\n", b"3 \n", b"99999999999999999999 a=b\n"):
        assert refused(pax(body) + member(b"f") + END), body
    assert refused(pax({b"GNU.sparse.major": b"1"}) + member(b"f") + END)
    assert not refused(pax({b"unknown.key": b"anything", b"mtime": b"1234.5"}) + member(b"f") + END)


def test_metadata_without_a_member():
    assert refused(pax({b"path": b"x"}) + END)
    assert refused(member(b"././@LongLink", b"name\0", typ=b"L") + END)


def test_colliding_names_and_files_as_directories():
    assert refused(member(b"a", b"1") + member(b"a", b"2") + END)
    assert refused(member(b"a", b"1") + member(b"a/", typ=b"5") + END)
    assert refused(member(b"a/", typ=b"5") + member(b"a", b"1") + END)
    assert refused(member(b"a", b"1") + member(b"a/b", b"2") + END)
    assert refused(member(b"d/", typ=b"5") + member(b"./d/", typ=b"5") + END)
    assert not refused(member(b"d/f", b"1") + member(b"d/", typ=b"5") + END)  # a directory after its content


def test_types():
    assert refused(member(b"s", b"x", typ=b"S") + END)  # sparse
    assert refused(member(b"m", b"x", typ=b"M") + END)  # multi-volume
    assert refused(member(b"z", b"x", typ=b"Z") + END)  # unknown
    assert refused(member(b"d/", typ=b"5", size=1) + bytes(512) + END)  # data on a directory
    img = member(b"c", typ=b"3") + member(b"p", typ=b"6") + member(b"f", b"data", typ=b"7") + \
        member(b"v", typ=b"V") + END
    r, v = mount(img)
    assert r == 0
    assert stat.S_ISCHR(v.stat("/c").mode) and stat.S_ISFIFO(v.stat("/p").mode)
    assert v.open("/c") == -E.EACCES and v.open("/p") == -E.EACCES
    assert v.stat("/f").size == 4 and v.listdir("/") == [b"c", b"f", b"p"]
    v.close()


def test_hard_links():
    assert refused(member(b"h", typ=b"1", link=b"missing") + END)
    assert refused(member(b"d/", typ=b"5") + member(b"h", typ=b"1", link=b"d") + END)
    assert refused(member(b"h", typ=b"1", link=b"../f") + END)
    r, v = mount(member(b"f", b"shared", mode=0o600) + member(b"h", typ=b"1", link=b"./f", mode=0o777) + END)
    assert r == 0
    assert v.stat("/h").ino == v.stat("/f").ino and v.stat("/h").nlink == 2 and v.stat("/h").mode & 0o777 == 0o600
    fd = v.open("/h")
    assert v.read(fd, 100) == b"shared"
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


def test_gnu_and_pax_long_names_from_tarfile():
    long = "d" * 200 + "/" + "f" * 200
    for fmt in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
            ti = tarfile.TarInfo(long)
            ti.size, ti.mtime = 3, 77
            tf.addfile(ti, io.BytesIO(b"abc"))
            ti = tarfile.TarInfo("link")
            ti.type, ti.linkname = tarfile.SYMTYPE, "x" * 300
            tf.addfile(ti)
        r, v = mount(buf.getvalue())
        assert r == 0
        fd = v.open("/" + long)
        assert v.read(fd, 10) == b"abc" and v.fstat(fd).mtime == 77
        assert v.readlink("/link") == b"x" * 300
        v.close()


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
    image = bytearray(build_tar(entries, draw(st.sampled_from([tarfile.PAX_FORMAT, tarfile.GNU_FORMAT]))))
    for _ in range(draw(st.integers(0, 6))):
        how = draw(st.integers(0, 5))
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
