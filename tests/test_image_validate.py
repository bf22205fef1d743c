"""Bad images are refused with a one-line ImageError naming the member and the rule it
breaks, never a crash: the messages of each kind of refusal, then hypothesis fuzzing of
the reader (random bytes, mutated valid images, truncations).  Which images keep the
format and which break which rule, for all three readers: tests/test_tar_corpus.py."""
import io
import json
import os
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from image_support import APP, END, LAYER, file_info, fix_checksum, header, image, member, meta, pax, pax_record
from xax_emu.errors import XaxError
from xax_emu.image import ImageError, pack, validate
from xax_emu.image.format import HEADER_MAX


def _short(value):
    """Test ids: raw bytes and member lists are shown as their size."""
    return f"{len(value)}B" if isinstance(value, (bytes, bytearray)) else (
        f"{len(value)}members" if isinstance(value, list) else None)


def refused(data: bytes, words: str, member_name: str | None = None, rule: str | None = None) -> ImageError:
    with pytest.raises(ImageError) as e:
        validate(data)
    text = str(e.value)
    assert "\n" not in text and "\r" not in text
    assert words in text, text
    if rule is not None:
        assert e.value.rule == rule, (e.value.rule, text)
    if member_name is not None:
        assert e.value.member == member_name and text.startswith(repr(member_name)), text
    assert isinstance(e.value, XaxError) and isinstance(e.value, ValueError)
    return e.value


def test_a_valid_raw_image_is_accepted():
    im = validate(image([member("lib/", typeflag=b"5", mode=0o755), member("lib/x", b"x")],
                        listed={"/lib/x": file_info(b"x")}))
    assert im.meta["app"]["entry"] == "/bin/app" and im.member("/lib/x").size == 1
    # symlinks inside the image (absolute ones from the image root), case kept
    files = {"/bin/l2": {"type": "symlink", "target": "../c"},
             "/bin/l3": {"type": "symlink", "target": "/nowhere/at/all"}, "/c": file_info(b"c"),
             "/d": file_info(b"d"), "/l1": {"type": "symlink", "target": "/bin/app"}}
    data = image([member("bin/l2", typeflag=b"2", link="../c"), member("bin/l3", typeflag=b"2", link="/nowhere/at/all"),
                  member("c", b"c"), member("d", b"d"), member("l1", typeflag=b"2", link="/bin/app")], listed=files)
    assert validate(data).member("/l1").link == "/bin/app"


@pytest.mark.parametrize("members, words, name, rule", ids=_short, argvalues=[
    ([member("/etc/passwd", b"x")], "an absolute name", "/etc/passwd", "name-absolute"),
    ([member("a/../../x", b"x")], "a '..' component", "a/../../x", "name-dotdot"),
    ([member("../", typeflag=b"5")], "a '..' component", "../", "name-dotdot"),
    ([member("./a", b"2")], "not normalized", "./a", "name-form"),
    ([member("d/", typeflag=b"5"), member("d//b", b"2")], "not normalized", "d//b", "name-form"),
    ([member("d", typeflag=b"5")], "does not end with '/'", "d", "name-form"),
    ([member("f", b"1"), member("f", b"2")], "the name of the earlier member 'f'", "f", "duplicate"),
    ([member("d/", typeflag=b"5"), member("d/", typeflag=b"5")], "the name of the earlier member", "d/", "duplicate"),
    ([member("f", b"1"), member("f/x", b"2")], "inside 'f', which is a file", "f/x", "parent"),
    ([member("s", typeflag=b"2", link="bin"), member("s/x", b"2")], "which is a symlink", "s/x", "parent"),
    ([member("d/x", b"2"), member("d/", typeflag=b"5")], "after members inside it", "d/", "dir-order"),
    ([member("esc", typeflag=b"2", link="../etc/passwd")], "leaves the image", "esc", "symlink-escape"),
    ([member("d/", typeflag=b"5"), member("d/esc", typeflag=b"2", link="../../x")], "leaves the image", "d/esc",
     "symlink-escape"),
    ([member("abs", typeflag=b"2", link="/../x")], "leaves the image", "abs", "symlink-escape"),
    ([member("root", typeflag=b"2", link="/"), member("via", typeflag=b"2", link="root/..")],
     "leaves the image", "via", "symlink-escape"),
    ([member("d/", typeflag=b"5"), member("d/up", typeflag=b"2", link="/bin/.."),
      member("e", typeflag=b"2", link="d/up/../..")], "leaves the image", "e", "symlink-escape"),
    ([member("empty", typeflag=b"2", link="")], "target is empty", "empty", "link"),
    ([member("h", typeflag=b"1", link="bin/app")], "member type b'1'", None, "typeflag"),
    ([member("x\ny", b"x")], "is not listed", "x\ny", "meta"),
    ([pax(pax_record("path", "y" * 256)) + member("short", b"x")], "component over 255 bytes", "y" * 256,
     "name-length"),
])
def test_bad_names_and_links(members, words, name, rule):
    refused(image(members), words, name, rule)


def test_the_error_is_one_line_even_for_a_name_with_newlines():
    e = refused(image([member("x\ny\rz", b"x")]), "not listed")
    assert "x\\ny\\rz" in str(e)


def test_oversized_headers_are_capped():
    big = pax_record("comment", "c" * HEADER_MAX)
    refused(image([pax(big) + member("x", b"x")]), "over the 64 KiB cap", None, "pax-size")
    refused(image([pax(pax_record("path", "p" * HEADER_MAX)) + member("x", b"x")]), "over the 64 KiB cap", None,
            "pax-size")


def test_long_names_and_pax_headers_are_read():
    long = "d/" + "n" * 99
    data = image([member("d/", typeflag=b"5"), member("n" * 99, b"L", prefix=b"d"),
                  pax(pax_record("path", "d/é") + pax_record("mtime", "12")) + member("d/other", b"P")],
                 listed={"/" + long: file_info(b"L"), "/d/é": file_info(b"P")})
    im = validate(data)
    assert im.member("/" + long).size == 1 and im.member("/d/é").mtime == 12


@pytest.mark.parametrize("data, words, rule", ids=_short, argvalues=[
    (image([header(b"big", size_field=b"77777777777\0")]), "runs past the end", "truncated"),
    (image([header(b"big", size_field=b"\x80" + bytes(3) + b"\xff" * 8)]), "the size is not an octal number",
     "number"),
    (image([pax(pax_record("size", "999999999")) + member("x", b"x")]), "runs past the end", "truncated"),
    (image([pax(pax_record("size", "-1")) + member("x", b"x")]), "not a decimal number", "pax-value"),
    (image([header(b"neg", size_field=b"\xff" * 12)]), "the size is not an octal number", "number"),
    (image([header(b"x", size_field=b"12345678901z")]), "the size is not an octal number", "number"),
    (image([member("x/", b"data", typeflag=b"5")]), "a dir member with 4 bytes of data", "data"),
    (image([member("x", b"data", typeflag=b"2", link="y")]), "a symlink member with 4 bytes of data", "data"),
    (image([member("sparse", b"", typeflag=b"S")]), "member type b'S' is not one the format has", "typeflag"),
    (image([member(b"././@LongLink", b"long\0", typeflag=b"L") + member("x", b"x")]), "member type b'L'",
     "typeflag"),
    (image([pax(pax_record("comment", "x"), typeflag=b"g") + member("x", b"x")]), "member type b'g'", "typeflag"),
    (image([header(b"x", checksum=False)]), "the header's checksum is wrong", "checksum"),
    (image([header(b"x", magic=b"\0" * 8)]), "not a POSIX ustar header", "magic"),
    (image([header(b"x", magic=b"ustar  \0")]), "not a POSIX ustar header", "magic"),
    (image([pax(pax_record("path", "b"))]), "no member after it", "pax-alone"),
    (image([pax(pax_record("comment", "b")) + member("x", b"x")]), "pax key b'comment'", "pax-key"),
    (image([pax(b"99 path=x\n") + member("x", b"x")]), "longer than its header", "pax-record"),
    (image([pax(b"x path=y\n") + member("x", b"x")]), "does not start with its length", "pax-record"),
    (image([pax(b"11 novalue\n") + member("x", b"x")]), "not key=value", "pax-record"),
    (image([pax(pax_record("path", b"\xff\xfe")) + member("x", b"x")]), "not UTF-8", "name-encoding"),
    (image([member(b"\xff", b"x")]), "a byte over 127 in the ustar name", "name-encoding"),
    (image([]) + b"junk", "bytes other than zeros after the end", "end"),
    (image([]) + bytes(9216), None, None),  # more zero blocks, as tools that block their output write
    (image([], end=bytes(512)), "one zero block, not the two", "end"),
    (image([], end=b""), "without the two zero blocks", "end"),
    (image([], end=bytes(1024))[:-1], "one zero block, not the two", "end"),
])
def test_bad_headers(data, words, rule):
    if words is None:
        validate(data)
    else:
        refused(data, words, rule=rule)


@pytest.mark.parametrize("data, words", ids=_short, argvalues=[
    (b"", "not a tar archive"),
    (b"hello world\n" * 100, "not a tar archive"),
    (bytes(100), "the file ends inside the header"),
    (b"PK\x03\x04" + bytes(2000), "not a tar archive"),
    (bytes(2048), "not an xax-emu image"),
])
def test_non_tar_input(data, words):
    refused(data, words)


def test_truncated_images_are_refused():
    data = image([member("lib/", typeflag=b"5"), member("lib/x", b"x" * 3000)],
                 listed={"/lib/x": file_info(b"x" * 3000)})
    validate(data)
    for n in range(0, len(data) - 1, 97):
        with pytest.raises(ImageError):
            validate(data[:n])


def _limits_meta(**limits) -> bytes:
    return json.dumps(meta({}, limits={"memory": None, "cpu_seconds": None, "wall_seconds": None,
                                       "download": None, "threads": None, **limits})).encode()


def _app_meta(**app) -> bytes:
    return json.dumps(meta({}, app={"name": "t", "entry": "/bin/app", "cwd": "/", "args": [], "env": {},
                                    **app})).encode()


META_CASES = [
    (b"not json", "not valid UTF-8 JSON"),
    (b"\xff\xfe", "not valid UTF-8 JSON"),
    (b"[1, 2]", "not a JSON object"),
    pytest.param(b"[" * 100000, "JSON", id="deeply-nested"),
    (json.dumps(meta({}, format="zip")).encode(), "format is not 'xax-image'"),
    (json.dumps(meta({}, version=2)).encode(), "version 2 is not 1"),
    (json.dumps(meta({}, app={"name": "t"})).encode(), "app.entry is not an absolute path"),
    (json.dumps(meta({}, app={"name": "t", "entry": "/a", "cwd": "/", "args": [1], "env": {}})).encode(),
     "app.args"),
    (json.dumps(meta({}, app={"name": "t", "entry": "/a", "cwd": "/", "args": [], "env": {"A": 1}})).encode(),
     "app.env"),
    (json.dumps(meta({}, limits={"memory": -1})).encode(), "limits"),
    (json.dumps(meta({}, limits={"memory": float("inf"), "cpu_seconds": None, "wall_seconds": None,
                                 "download": None})).encode(), "Infinity is not a number JSON allows"),
    # limits.py's ranges, as for a manifest: an image is hostile data
    (_limits_meta(memory=1234567), "limits.memory: must be from 16M to 128T bytes"),
    (_limits_meta(memory=1234567).replace(b"1234567", b"1e999"), "the number 1e999 is out of range"),
    (_limits_meta(memory=1234567).replace(b"1234567", b"268435456.5"), "limits.memory: must be a whole number"),
    (_limits_meta(memory=2**70), "limits.memory: must be from 16M to 128T bytes, not 1180591620717411303424"),
    (_limits_meta(cpu_seconds=1.5), "limits.cpu_seconds: must be a whole number of seconds"),
    (_limits_meta(cpu_seconds=2**64), "limits.cpu_seconds: must be from 1 to 1000000000 seconds"),
    (_limits_meta(wall_seconds=1e10), "limits.wall_seconds: must be from 0.001 to 2147483 seconds"),
    (_limits_meta(threads=0), "limits.threads: must be from 1 to 4096 threads"),
    (_limits_meta(download="1M"), "limits.download: must be a whole number of bytes, not a string"),
    (_limits_meta(nice=1), "limits is not an object with memory"),
    (json.dumps(meta({}, profile={"spec": "s", "name": "s", "shipped": False, "syscalls": {},
                                  "routes": [{"prefix": "/", "backend": "ram", "size": 7}]})
                ).encode().replace(b": 7", b": -1e400"), "the number -1e400 is out of range"),
    # the image's arguments and environment must fit the BOOT message, with room for the user's
    (_app_meta(args=["a" * 100_000] * 6), "app.args and app.env come to 600"),
    (_app_meta(env={f"V{i}": "b" * 100_000 for i in range(6)}), "over the 128 KiB"),
    (_app_meta(args=["\udcff"]), "is not valid UTF-8"),
    (_app_meta(env={"A": "\ud800"}), "is not valid UTF-8"),
    (json.dumps(meta({}, layer={"member": "elsewhere"})).encode(), "layer is not"),
    (json.dumps(meta({"/bin/app": {"type": "file", "size": 6}})).encode(), "needs a size and a sha256"),
    (json.dumps(meta({"/bin/app": {"type": "fifo"}})).encode(), "neither file nor symlink"),
    (json.dumps(meta({"bin/app": file_info(b"#!app\n")})).encode(), "normalized absolute path"),
    (json.dumps(meta({"/bin//app": file_info(b"#!app\n")})).encode(), "normalized absolute path"),
    (json.dumps(meta({"/bin/app": file_info(b"#!app\n")}, profile=None)).encode(), "profile is not"),
]


@pytest.mark.parametrize("meta_bytes, words", META_CASES, ids=_short)
def test_bad_metadata(meta_bytes, words):
    refused(image([], meta_bytes=meta_bytes), words, ".xax/meta.json")


def test_missing_metadata_and_layer():
    refused(member("bin/app", b"x") + END, "the first member is not .xax/meta.json", rule="meta-first")
    app = {"/bin/app": file_info(APP)}
    data = member(".xax/meta.json", json.dumps(meta(app)).encode()) + member("bin/app", APP) + END
    refused(data, ".xax/layer, a regular file, does not follow .xax/meta.json", rule="layer")
    data = image([], meta_obj=meta(app, layer={"member": ".xax/layer", "size": len(LAYER), "sha256": "0" * 64}))
    refused(data, "does not match", ".xax/layer")


def test_contents_must_match_the_metadata():
    app = {"/bin/app": file_info(APP)}
    # a file the metadata does not list, a listed file that is missing, a changed file
    refused(image([member("extra", b"x")]), "is not listed in .xax/meta.json", "extra")
    refused(image([], listed={"/gone": file_info(b"x")}), "lists it, the image does not have it", "/gone")
    refused(image([member("bin/app", b"#!XXX\n")], listed=app, app=False), "does not match", "bin/app")
    refused(image([member("bin/app", typeflag=b"2", link="x")], listed=app, app=False),
            "is a symlink, .xax/meta.json says file", "bin/app")
    refused(image([member("l", typeflag=b"2", link="a")], listed={"/l": {"type": "symlink", "target": "b"}}),
            "symlink target 'a', .xax/meta.json says 'b'", "l")
    refused(image([member(".xax/other", b"x")]), "a member under /.xax that is not", ".xax/other", "reserved")
    # padding members are the image's own, never listed
    elf = b"\x7fELF" + bytes(100)
    body = member("e", elf)
    before = image([], listed={"/e": file_info(elf)})[:-len(END)]
    gap = -(len(before) + 512 + 512) % 4096
    data = before + member(".xax/pad/000002", bytes(gap)) + body + END
    assert validate(data).member("/e").data_offset % 4096 == 0
    refused(before + body + END, "an ELF file whose data does not start on a page", "e", "elf-aligned")
    # check_data=False trusts the sizes and skips the hashes
    validate(image([member("bin/app", b"#!XXX\n")], listed=app, app=False), check_data=False)


@pytest.mark.parametrize("entry, members, listed, words", ids=_short, argvalues=[
    ("/bin/none", [], {}, "the entry /bin/none is not a regular file in the image"),
    ("/bin", [], {}, "the entry /bin is not a regular file"),
    ("/bin/app/x", [], {}, "the entry /bin/app/x is not a regular file"),
    ("/loop", [member("loop", typeflag=b"2", link="loop")], {"/loop": {"type": "symlink", "target": "loop"}},
     "the entry /loop is not a regular file"),
    ("/up", [member("up", typeflag=b"2", link="..")], {"/up": {"type": "symlink", "target": ".."}},
     "leaves the image"),
])
def test_entry_must_be_a_file_in_the_image(entry, members, listed, words):
    files = {"/bin/app": file_info(APP), **listed}
    refused(image(members, listed=listed, meta_obj=meta(files, entry=entry)), words)


def test_entry_through_a_symlink():
    listed = {"/run": {"type": "symlink", "target": "bin/app"}}
    validate(image([member("run", typeflag=b"2", link="bin/app")], listed=listed,
                   meta_obj=meta({"/bin/app": file_info(APP), **listed}, entry="/run")))


def test_a_file_that_is_not_readable(tmp_path):
    with pytest.raises(ImageError, match="cannot open the image"):
        validate(tmp_path / "nothing.tar")
    with pytest.raises(ImageError, match="cannot"):
        validate(tmp_path)  # a directory


# -- fuzzing: whatever the bytes, ImageError or an image -----------------------------------


def check(data: bytes) -> None:
    try:
        validate(data)
    except ImageError as e:
        assert "\n" not in str(e)


VALID = image([member("lib/", typeflag=b"5"), member("lib/l", typeflag=b"2", link="x"),
               member("n" * 99, b"n", prefix=b"lib"), member("lib/x", b"x" * 700),
               pax(pax_record("path", "lib/é")) + member("p", b"p")],
              listed={"/lib/x": file_info(b"x" * 700),
                      "/lib/l": {"type": "symlink", "target": "x"}, "/lib/é": file_info(b"p"),
                      "/lib/" + "n" * 99: file_info(b"n")})
HEADERS = [m.header_offset for m in validate(VALID).members] + [
    m.data_offset - 512 for m in validate(VALID).members]

# bounded for CI; XAX_FUZZ_EXAMPLES=20000 for a longer local run
FUZZ = settings(max_examples=int(os.environ.get("XAX_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_random_bytes(data):
    check(data)


@FUZZ
@given(st.binary(min_size=1, max_size=2048))
def test_fuzz_random_bytes_after_a_valid_header(tail):
    check(header(b"x", size=len(tail)) + tail)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_fuzz_mutated_image(changes):
    data = bytearray(VALID)
    for pos, value in changes:
        data[pos] = value
    check(bytes(data))


@FUZZ
@given(st.sampled_from(sorted(set(HEADERS))), st.lists(st.tuples(st.integers(0, 511), st.integers(0, 255)),
                                                        min_size=1, max_size=6))
def test_fuzz_mutated_headers_with_good_checksums(offset, changes):
    """Mutations inside one header, the checksum fixed: past the first check, into the fields."""
    data = bytearray(VALID)
    block = bytearray(data[offset:offset + 512])
    for pos, value in changes:
        if not 148 <= pos < 156:
            block[pos] = value
    fix_checksum(block)
    data[offset:offset + 512] = block
    check(bytes(data))


@FUZZ
@given(st.integers(0, len(VALID)), st.binary(max_size=600))
def test_fuzz_truncated_and_extended(n, tail):
    check(VALID[:n] + tail)


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    (d / "app").write_text("#!/bin/sh\n")
    (d / "m.toml").write_text('[app]\nname = "f"\nentry = "/app"\n[files]\n"/app" = "app"\n"/bin/ls" = "/bin/ls"\n')
    pack(d / "m.toml", d / "f.tar")
    return (d / "f.tar").read_bytes()


def test_fuzz_mutated_packed_image(packed):
    validate(packed)
    with tarfile.open(fileobj=io.BytesIO(packed)) as t:
        offsets = [m.offset for m in t.getmembers()]

    @FUZZ
    @given(st.sampled_from(offsets), st.lists(st.tuples(st.integers(0, 511), st.integers(0, 255)), max_size=4),
           st.integers(0, len(packed)))
    def run(offset, changes, cut):
        data = bytearray(packed)
        block = bytearray(data[offset:offset + 512])
        for pos, value in changes:
            block[pos] = value
        fix_checksum(block)
        data[offset:offset + 512] = block
        check(bytes(data[:cut]))

    run()


# -- the header checksum, against the definition ------------------------------------------


def _checksum_by_definition(h: bytes) -> bool:
    """POSIX: the unsigned sum of the header's bytes, the checksum field taken as eight
    spaces, in a field of octal digits from its first byte ended by NULs or spaces.
    Written out byte by byte."""
    field = h[148:156]
    digits = 0
    while digits < 8 and field[digits:digits + 1] in [b"%d" % d for d in range(8)]:
        digits += 1
    if digits == 0 or digits == 8 or any(c not in b"\0 " for c in field[digits:]):
        return False
    rest = h[:148] + b" " * 8 + h[156:]
    return int(field[:digits], 8) == sum(rest)


def _with_checksum(h: bytes, value: int, form: int) -> bytes:
    field = [b"%06o\0 ", b"%07o\0", b"%o", b" %06o "][form] % (value & 0o7777777)
    return h[:148] + field[:8].ljust(8, b"\0") + h[156:]


@given(st.binary(min_size=512, max_size=512), st.integers(0, 3), st.integers(-4, 4), st.booleans())
def test_header_checksum_matches_its_definition(h, form, delta, signed):
    """tarread's checksum (summed in C) accepts exactly the headers the definition accepts:
    stored checksums equal to the unsigned sum; not the signed one old tars wrote, nor one
    off by a little, nor one with a leading space, nor garbage."""
    from xax_emu.image.tarread import _checksum_ok

    rest = h[:148] + b" " * 8 + h[156:]
    total = sum(b - 256 if b > 127 else b for b in rest) if signed else sum(rest)
    block = _with_checksum(h, total + delta, form)
    assert _checksum_ok(block) == _checksum_by_definition(block)
    assert _checksum_ok(h) == _checksum_by_definition(h)


def test_header_checksum_signed_form_is_refused():
    h = bytearray(header(b"caf\xc3\xa9"))  # a byte over 127: the signed and unsigned sums differ
    h[148:156] = b" " * 8
    signed = sum(b - 256 if b > 127 else b for b in h)
    h[148:156] = b"%06o\0 " % signed
    from xax_emu.image.tarread import _checksum_ok
    assert signed != sum(bytes(h[:148]) + b" " * 8 + bytes(h[156:])) and not _checksum_ok(bytes(h))


@pytest.mark.parametrize("argv0", [5, "", "a\0b", None, ["x"]])
def test_an_argv0_that_is_not_a_string_is_refused(argv0):
    """app.argv0 (the manifest's argv0) reaches the program's argv: a non-empty string without NUL."""
    files = {"/bin/app": file_info(APP)}
    m = meta(files)
    m["app"]["argv0"] = argv0
    refused(image([], meta_obj=m), "app.argv0 is not a non-empty string")
    m["app"]["argv0"] = "app"
    assert validate(image([], meta_obj=m)).meta["app"]["argv0"] == "app"
