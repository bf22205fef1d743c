"""The image format's corpus (docs/image-format.md): app images that keep every rule, and
for each rule images that break it and nothing else — each case saying which readers must
refuse it, for which rule.  tests/test_tar_corpus.py runs every case through the three
readers (tarread.py/validate.py, the VFS's tar.c, the PAL's tarfind.c); a fuzzer can seed
from `cases()` (plain data: a name, the bytes, the rule, where the deviation lies).

Images are written byte by byte (`App`, `M`), as libarchive writes them unless a case says
otherwise, so that a case can break exactly one rule; `written_by_pack()` adds images that
the real writer (tarwrite.TarWriter, libarchive) writes.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Callable

from xax_emu.image.format import BLOCK, LAYER, META, PAGE, RULES

LEVEL = {name: level for name, level, _ in RULES}
MAGIC = b"ustar\x0000"
END = bytes(2 * BLOCK)
ELF = b"\x7fELF\x02\x01\x01" + bytes(57)  # the magic and an ELF header's worth of zeros: no reader parses more
LAYER_DATA = ELF + b"a fake layer"
APP_DATA = b"#!app\n"


# -- headers, byte by byte ----------------------------------------------------------------

def octal(n: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, n)


def base256(n: int, width: int) -> bytes:
    """GNU's base-256 form, as libarchive writes it in a field a pax record overrides
    (its last byte a space)."""
    return (b"\x80" if n >= 0 else b"\xff") + (n % (1 << (8 * (width - 2)))).to_bytes(width - 2, "big") + b" "


def header(name: bytes, typeflag: bytes = b"0", *, size: int = 0, mode: int = 0o644, mtime: int = 0,
           link: bytes = b"", prefix: bytes = b"", magic: bytes = MAGIC, fields: dict[int, bytes] | None = None,
           checksum: str | int | bytes = "unsigned") -> bytes:
    """One 512-byte header.  `fields`: raw bytes placed at offsets, over what the other
    arguments wrote; `checksum`: "unsigned" (POSIX), "signed" (old tars), an int added to
    the unsigned sum, or the field's bytes."""
    h = bytearray(BLOCK)
    h[0:len(name)] = name
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = octal(size, 12)
    h[136:148] = octal(mtime, 12) if 0 <= mtime < 8 ** 11 else base256(mtime, 12)
    h[156:157] = typeflag
    h[157:157 + len(link)] = link
    h[257:265] = magic
    h[329:345] = octal(0, 8) * 2
    h[345:345 + len(prefix)] = prefix
    for at, raw in (fields or {}).items():
        h[at:at + len(raw)] = raw
    h[148:156] = b" " * 8
    total = sum(b - 256 if b > 127 else b for b in h) if checksum == "signed" else \
        sum(h) + (checksum if isinstance(checksum, int) else 0)
    h[148:156] = checksum if isinstance(checksum, bytes) else b"%06o\0 " % total
    return bytes(h)


def blocks(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def pax_record(key: bytes, value: bytes) -> bytes:
    body = b" " + key + b"=" + value + b"\n"
    n = len(body) + 1
    while len(b"%d" % n) + len(body) != n:
        n = len(b"%d" % n) + len(body)
    return b"%d" % n + body


def pax_header(body: bytes, *, typeflag: bytes = b"x", size: int | None = None) -> bytes:
    return header(b"PaxHeader/x", typeflag, size=len(body) if size is None else size) + blocks(body)


# -- members and app images ---------------------------------------------------------------

@dataclass(frozen=True)
class M:
    """One member as the writer lays it out.  By default as libarchive writes it: a pax
    header when the name or target does not fit (or is not ASCII) or the mtime is out of the
    octal range; `raw=True` writes the ustar fields as given, nothing added."""
    name: str | bytes  # as the archive has it: a directory's ends with "/"
    kind: str = "file"  # file, dir, symlink
    data: bytes = b""
    link: str | bytes = ""
    mode: int | None = None  # 0644 for files, 0755 for directories, 0777 for symlinks
    mtime: int = 0
    pax: tuple = ()  # more (key, value) records, after the ones the writer adds
    pax_body: bytes | None = None  # the whole pax header's data, instead of records
    typeflag: bytes | None = None
    fields: dict = field(default_factory=dict)  # raw header bytes at offsets (header())
    checksum: str | int | bytes = "unsigned"
    magic: bytes = MAGIC
    prefix: bool = False  # the name split into the ustar prefix and name fields
    raw: bool = False
    before: bytes = b""  # whole blocks written before its headers (a GNU 'L' header, a 'g' header...)
    size: int | None = None  # the header's size field, if not len(data)
    align: bool | None = None  # data on a page (None: if it is an ELF file)
    listed: bool = True  # in .xax/meta.json (files and symlinks)

    @property
    def bname(self) -> bytes:
        return self.name.encode() if isinstance(self.name, str) else self.name

    @property
    def blink(self) -> bytes:
        return self.link.encode() if isinstance(self.link, str) else self.link

    def aligned(self) -> bool:
        return self.align if self.align is not None else self.data[:4] == ELF[:4]

    def headers(self) -> bytes:
        name, link = self.bname, self.blink
        records = []
        ustar_name, ustar_link, prefix = name, link, b""
        if not self.raw:
            if self.prefix:
                cut = name.rindex(b"/", 0, len(name) - 1)
                prefix, ustar_name = name[:cut], name[cut + 1:]
            elif len(name) > 100 or not name.isascii():
                records.append((b"path", name))
                ustar_name = name.decode("utf-8", "replace").encode("ascii", "replace")[:99]
            if len(link) > 100 or not link.isascii():
                records.append((b"linkpath", link))
                ustar_link = b"././@LongSymLink"
            if not 0 <= self.mtime < 8 ** 11:
                records.append((b"mtime", b"%d" % self.mtime))
        records += list(self.pax)
        body = self.pax_body if self.pax_body is not None else b"".join(pax_record(k, v) for k, v in records)
        kind_flag = {"file": b"0", "dir": b"5", "symlink": b"2"}[self.kind]
        mode = self.mode if self.mode is not None else {"file": 0o644, "dir": 0o755, "symlink": 0o777}[self.kind]
        h = header(ustar_name, self.typeflag if self.typeflag is not None else kind_flag,
                   size=len(self.data) if self.size is None else self.size, mode=mode, mtime=self.mtime,
                   link=ustar_link, prefix=prefix, magic=self.magic, fields=self.fields, checksum=self.checksum)
        return self.before + (pax_header(body) if body or self.pax_body is not None else b"") + h

    def info(self) -> dict | None:
        """Its entry in .xax/meta.json's files, or None."""
        given = dict(self.pax)  # a pax path or linkpath the case gives wins, as for the readers
        path = "/" + given.get(b"path", self.bname).decode("utf-8", "replace").rstrip("/")
        if not self.listed or self.kind == "dir":
            return None
        if self.kind == "symlink":
            return {path: {"type": "symlink", "target": given.get(b"linkpath", self.blink).decode("utf-8", "replace")}}
        return {path: {"type": "file", "size": len(self.data), "mode": self.mode or 0o644, "mtime": self.mtime,
                       "sha256": hashlib.sha256(self.data).hexdigest(), "elf": self.data[:4] == ELF[:4]}}


def meta(files: dict, entry: str = "/bin/app", **changes) -> dict:
    """.xax/meta.json as pack writes it (its schema: pack.py)."""
    m = {
        "format": "xax-image", "version": 1,
        "app": {"name": "t", "entry": entry, "args": [], "env": {}, "cwd": "/"},
        "profile": {"spec": "static-libc", "name": "static-libc", "shipped": True, "routes": [],
                    "syscalls": {"emulate": 1, "reject": 1, "forward": 0, "missing": 1, "total": 3}},
        "limits": {"memory": None, "cpu_seconds": None, "wall_seconds": None, "download": None},
        "layer": {"member": LAYER, "size": len(LAYER_DATA), "sha256": hashlib.sha256(LAYER_DATA).hexdigest()},
        "files": files,
    }
    m.update(changes)
    return m


BASE = (M("bin/", "dir"), M("bin/app", data=APP_DATA, mode=0o755))


@dataclass
class App:
    """An app image: .xax/meta.json (listing the body's files and symlinks), padding and
    .xax/layer, the body, the end.  Each part can be replaced to break a rule."""
    body: tuple = BASE
    meta_member: Callable[[M], M] = lambda m: m  # what the metadata's member becomes
    layer_member: Callable[[M], M] = lambda m: m
    pad: Callable[[int, M], M | None] = lambda number, m: m  # a padding member (None: left out)
    meta_obj: dict | None = None  # instead of the one made from the body
    meta_bytes: bytes | None = None
    extra_files: dict = field(default_factory=dict)  # more entries in meta's files
    end: bytes = END
    tail: bytes = b""  # after the end
    prefix_members: tuple | None = None  # instead of the metadata's and the layer's members

    def build(self) -> bytes:
        files = {}
        for m in self.body:
            files.update(m.info() or {})
        files.update(self.extra_files)
        if self.meta_bytes is None:
            self.meta_bytes = json.dumps(self.meta_obj if self.meta_obj is not None else meta(files),
                                         sort_keys=True, indent=1).encode()
        first = self.prefix_members if self.prefix_members is not None else (
            self.meta_member(M(META, data=self.meta_bytes, listed=False)),
            self.layer_member(M(LAYER, data=LAYER_DATA, mode=0o755, align=True, listed=False)))
        w = _Writer(self.pad)
        for m in (*first, *self.body):
            w.write(m)
        return bytes(w.out) + self.end + self.tail


class _Writer:
    def __init__(self, pad: Callable[[int, M], M | None]):
        self.out = bytearray()
        self.pads = 0
        self.pad = pad

    def write(self, m: M) -> None:
        headers = m.headers()
        if m.aligned():
            gap = -(len(self.out) + len(headers)) % PAGE
            if gap:  # as tarwrite does: a padding member whose header and data fill the gap
                self.pads += 1
                pad = self.pad(self.pads, M(".xax/pad/%06d" % self.pads, data=bytes(gap - BLOCK), align=False,
                                            listed=False))
                if pad is not None:
                    self.write(pad)
                headers = m.headers()
        self.out += headers + blocks(m.data)


# -- the cases ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    name: str
    image: bytes = field(repr=False)
    rule: str | None  # None: the image keeps every rule
    where: str = "body"  # "prefix": in the members the PAL's tarfind reads (metadata, padding, layer)

    @property
    def level(self) -> str | None:
        return LEVEL[self.rule] if self.rule else None


def _with(body: tuple, *more: M) -> tuple:
    return (*body, *more)


def path_of(m: M) -> str:
    """The member's name as readers normalize it (a pax path wins; no trailing '/')."""
    raw = dict(m.pax).get(b"path", m.bname)
    return raw.decode("utf-8", "replace").rstrip("/")


def in_order(*members: M) -> tuple:
    """The members in the order of their paths, as pack writes them."""
    return tuple(sorted(members, key=path_of))


def _zero_pad_body() -> tuple:
    """A body in which the padding before an ELF file has no data (its header fills the gap):
    the first size of the file before it that makes it so."""
    for n in range(0, PAGE, BLOCK):
        seen = []

        def note(number: int, m: M) -> M:
            seen.append(len(m.data))
            return m

        body = in_order(*BASE, M("a", data=b"a" * n), M("e.so", data=ELF))
        App(body=body, pad=note).build()
        if seen[-1:] == [0]:
            return body
    raise AssertionError("no size gives an empty padding member")


def _long_tree() -> tuple:
    """Names at the limits: a component of 255 bytes, a name of 4094, a target of 4095."""
    comp = "c" * 255
    deep = "/".join([comp] * 16)[:4094 - 2].rstrip("/")
    dirs = []
    parts = deep.split("/")
    for i in range(1, len(parts)):
        dirs.append(M("/".join(parts[:i]) + "/", "dir"))
    leaf = deep + "/" + "f" * (4094 - len(deep) - 1)
    assert len(leaf.encode()) == 4094
    return (*dirs, M(leaf, data=b"deep"), M("target", "symlink", link="t/" * 2047 + "x"))


def valid() -> list[Case]:
    body = BASE
    out = [
        Case("minimal", App().build(), None),
        Case("names", App(body=in_order(*body, M("d/", "dir", mode=0o700), M("d/" + "n" * 150, data=b"long"),
                                M("p" * 90 + "/", "dir"), M("p" * 90 + "/" + "q" * 90, data=b"split", prefix=True),
                                M("é/", "dir"), M("é/ü", data=b"utf8"), M("l", "symlink", link="é/ü"),
                                M("long-link", "symlink", link="d/" + "n" * 150),
                                M("nowhere", "symlink", link="/not/in/the/image"))).build(), None),
        Case("limits", App(body=in_order(*body, *_long_tree())).build(), None),
        Case("mtimes", App(body=in_order(*body, M("t0", data=b"0", mtime=0), M("t31", data=b"1", mtime=1 << 31),
                                 M("t33", data=b"2", mtime=8 ** 11 - 1), M("tbig", data=b"3", mtime=8 ** 11),
                                 M("tmax", data=b"4", mtime=(1 << 63) - 1), M("tneg", data=b"5", mtime=-1),
                                 M("tmin", data=b"6", mtime=-((1 << 63) - 1)))).build(), None),
        Case("elf-files", App(body=in_order(*body, M("lib/", "dir"), M("lib/a.so", data=ELF + b"a" * 100),
                                    M("lib/b.so", data=ELF + b"b" * 3000), M("lib/c.so", data=ELF),
                                    M("lib/d.txt", data=b"d" * 513))).build(), None),
        Case("directory-in-the-prefix", App(body=(*body, M("", "dir", raw=True, fields={345: b"pre"}),
                                                   M("pre/f", data=b"f"))).build(), None),  # as tarfile's ustar writes it
        Case("blocked", App(tail=bytes(10240 - 1024)).build(), None),
        Case("sizes", App(body=in_order(*body, M("empty", data=b""), M("block", data=b"b" * 512),
                                M("pax-size", data=b"x" * 10, pax=((b"size", b"10"),),
                                  fields={124: base256(10, 12)}))).build(), None),
        Case("all-pax-keys", App(body=in_order(*body, M("x", "symlink", link="bin/app", pax=(
            (b"path", b"all"), (b"linkpath", b"bin/app"), (b"mtime", b"-5"))))).build(), None),
        Case("padding-of-one-block", App(body=_zero_pad_body()).build(), None),
    ]
    return out


def _gnu_long_name(name: bytes) -> bytes:
    return header(b"././@LongLink", b"L", size=len(name) + 1) + blocks(name + b"\0")


def header_cases() -> list[Case]:
    """One member of the body breaks a rule of the "header" level (and, where the same can be
    done to the metadata's or the layer's header, a "prefix" case too)."""
    b = BASE
    c: list[Case] = []

    def body(name: str, rule: str, *members: M, **app) -> None:
        c.append(Case(name, App(body=_with(b, *members), **app).build(), rule))

    def prefix(name: str, rule: str, *, meta=None, layer=None) -> None:
        a = App()
        if meta:
            a.meta_member = lambda m: dataclasses.replace(m, **meta)
        if layer:
            a.layer_member = lambda m: dataclasses.replace(m, **layer)
        c.append(Case(name, a.build(), rule, "prefix"))

    image = App().build()
    # truncated, end
    c.append(Case("truncated/in-data", App(body=_with(b, M("big", data=b"d" * 5000))).build()[:-3000], "truncated"))
    c.append(Case("truncated/in-header", image[:len(image) - 1024 - 512 - 200], "truncated"))
    c.append(Case("truncated/size-past-the-end", App(body=_with(b, M("f", data=b"x", size=99999))).build(),
                  "truncated"))
    c.append(Case("truncated/layer", image[:PAGE + 40], "truncated", "prefix"))
    c.append(Case("end/none", App(end=b"").build(), "end"))
    c.append(Case("end/one-block", App(end=bytes(512)).build(), "end"))
    c.append(Case("end/junk-after", App(tail=b"junk").build(), "end"))
    c.append(Case("end/member-after-end", App(tail=header(b"late", size=0)).build(), "end"))
    c.append(Case("end/empty-file", b"", "end", "prefix"))
    # checksum, magic
    body("checksum/off-by-one", "checksum", M("f", data=b"x", checksum=1))
    body("checksum/signed-sum", "checksum", M("café", data=b"x", raw=True, checksum="signed"))
    body("checksum/not-octal", "checksum", M("f", data=b"x", checksum=b"abcdef\0 "))
    prefix("checksum/metadata", "checksum", meta={"checksum": -1})
    body("magic/gnu", "magic", M("f", data=b"x", magic=b"ustar  \0"))
    body("magic/v7", "magic", M("f", data=b"x", magic=bytes(8)))
    prefix("magic/layer", "magic", layer={"magic": b"ustar  \0"})
    # numbers
    body("number/base-256-size", "number", M("f", data=b"x" * 5, fields={124: base256(5, 12)}))
    body("number/base-256-mtime", "number", M("f", data=b"x", fields={136: base256(5, 12)}))
    body("number/leading-spaces", "number", M("f", data=b"x", fields={100: b"   644\0\0"}))
    body("number/no-terminator", "number", M("f", data=b"x", fields={124: b"00000000001\x31"}))
    body("number/empty-mtime", "number", M("f", data=b"x", fields={136: bytes(12)}))
    body("number/file-type-in-mode", "number", M("f", data=b"x", fields={100: b"0100644\0"}))
    body("number/pax-header-size", "number", M("f", data=b"x", before=header(b"PaxHeader/f", b"x", fields={
        124: base256(12, 12)}) + blocks(pax_record(b"path", b"f"))))
    prefix("number/metadata-mode", "number", meta={"fields": {100: b"0x644\0\0\0"}})
    # member types
    for flag, what in ((b"1", "hard-link"), (b"3", "char-device"), (b"4", "block-device"), (b"6", "fifo"),
                       (b"7", "contiguous"), (b"\0", "old-regular"), (b"S", "sparse"), (b"M", "multi-volume"),
                       (b"V", "volume-label"), (b"D", "gnu-dumpdir"), (b"Z", "unknown")):
        link = "bin/app" if flag == b"1" else ""
        body(f"typeflag/{what}", "typeflag", M("f", typeflag=flag, link=link, listed=False))
    body("typeflag/gnu-long-name", "typeflag", M("short", data=b"x", before=_gnu_long_name(b"d/" + b"n" * 120)))
    body("typeflag/gnu-long-link", "typeflag",
         M("s", "symlink", link="x", before=header(b"././@LongLink", b"K", size=4) + blocks(b"abc\0")))
    body("typeflag/global-pax", "typeflag", M("f", data=b"x", before=pax_header(pax_record(b"comment", b"hi"),
                                                                                typeflag=b"g")))
    prefix("typeflag/gnu-long-name-before-the-layer", "typeflag",
           layer={"before": _gnu_long_name(LAYER.encode())})
    prefix("typeflag/metadata-as-hard-link", "typeflag", meta={"typeflag": b"1", "data": b"", "link": "x"})
    # pax headers
    body("pax-size/over-64-KiB", "pax-size", M("f", data=b"x", pax=((b"path", b"f" * 70000),)))
    prefix("pax-size/before-the-metadata", "pax-size", meta={"pax_body": pax_record(b"path", b"p" * 70000)})
    for what, raw in (("no-newline", b"5 a=b"), ("length-not-a-number", b"x path=y\n"),
                      ("length-past-the-data", b"99 path=x\n"), ("leading-zero", b"011 path=ab\n"),
                      ("no-equals", b"11 novalue\n"), ("empty-key", b"7 =abc\n"),
                      ("nul-padding", pax_record(b"path", b"f") + b"\0\0\0"), ("two-spaces", b"12  path=f\n"),
                      ("newline-early", b"12 path=f\nxx")):
        body(f"pax-record/{what}", "pax-record", M("f", data=b"x", pax_body=raw))
    prefix("pax-record/layer", "pax-record", layer={"pax_body": b"99 path=.xax/layer\n"})
    for key in (b"comment", b"atime", b"ctime", b"uid", b"uname", b"hdrcharset", b"GNU.sparse.major",
                b"SCHILY.xattr.user.x", b"LIBARCHIVE.creationtime", b"PATH"):
        body(f"pax-key/{key.decode()}", "pax-key", M("f", data=b"x", pax=((key, b"1"),)))
    body("pax-key/twice", "pax-key", M("f", data=b"x", pax=((b"mtime", b"1"), (b"mtime", b"2"))))
    body("pax-key/linkpath-on-a-file", "pax-key", M("f", data=b"x", pax=((b"linkpath", b"y"),)))
    body("pax-key/size-on-a-directory", "pax-key", M("d/", "dir", pax=((b"size", b"0"),)))
    body("pax-key/size-on-a-symlink", "pax-key", M("s", "symlink", link="bin/app", pax=((b"size", b"0"),)))
    for what, key, value in (("empty-path", b"path", b""), ("empty-linkpath", b"linkpath", b""),
                             ("size-not-decimal", b"size", b"12x"), ("size-leading-zero", b"size", b"01"),
                             ("size-negative", b"size", b"-1"), ("size-over-63-bits", b"size", b"%d" % (1 << 63)),
                             ("mtime-fraction", b"mtime", b"12.5"), ("mtime-minus-zero", b"mtime", b"-0"),
                             ("mtime-plus", b"mtime", b"+5"), ("mtime-over-63-bits", b"mtime", b"%d" % (1 << 63)),
                             ("mtime-leading-zero", b"mtime", b"007")):
        kind = "symlink" if key == b"linkpath" else "file"
        body(f"pax-value/{what}", "pax-value",
             M("f", kind, data=b"x" if kind == "file" else b"", link="bin/app" if kind == "symlink" else "",
               pax=((key, value),)))
    body("pax-alone/then-the-end", "pax-alone", M("f", data=b"x"), end=pax_header(pax_record(b"path", b"g")) + END)
    body("pax-alone/two-in-a-row", "pax-alone",
         M("f", data=b"x", before=pax_header(pax_record(b"mtime", b"1")), pax=((b"path", b"f"),)))
    # names
    body("name-encoding/ustar-latin1", "name-encoding", M(b"caf\xe9", data=b"x", raw=True, listed=False))
    body("name-encoding/ustar-utf8", "name-encoding", M("café", data=b"x", raw=True))
    body("name-encoding/pax-not-utf8", "name-encoding", M(b"\xff\xfe", data=b"x", listed=False))
    body("name-encoding/pax-surrogate", "name-encoding", M(b"\xed\xa0\x80", data=b"x", listed=False))
    body("name-encoding/pax-overlong", "name-encoding", M(b"\xc0\xaf", data=b"x", listed=False))
    body("name-encoding/pax-nul", "name-encoding", M("f", data=b"x", pax=((b"path", b"a\0b"),)))
    body("name-encoding/link-latin1", "name-encoding", M("s", "symlink", link=b"caf\xe9", raw=True, listed=False))
    body("name-encoding/pax-link-not-utf8", "name-encoding", M("s", "symlink", link=b"\xff", listed=False))
    for what, name, kind in (("dot-slash", "./f", "file"), ("double-slash", "bin//f", "file"),
                             ("dot-inside", "bin/./f", "file"), ("dir-without-slash", "d", "dir"),
                             ("file-with-slash", "f/", "file"), ("empty", "", "file"), ("root", "./", "dir"),
                             ("slash-only", "/", "dir")):
        rule = "name-absolute" if name.startswith("/") else "name-form"
        body(f"{rule}/{what}", rule, M(name, kind, data=b"x" if kind == "file" else b"", listed=False))
    body("name-form/file-in-a-prefix-with-an-empty-name", "name-form",
         M("", data=b"x", listed=False, raw=True, fields={345: b"pre"}))
    body("name-form/prefix-ending-with-slash-and-an-empty-name", "name-form",
         M("", "dir", listed=False, raw=True, fields={345: b"pre/"}))
    body("name-form/prefix-ending-with-slash", "name-form", M("p/" + "q" * 99, data=b"x", listed=False, prefix=True,
                                                              fields={345: b"p/"}))
    body("name-absolute/ustar", "name-absolute", M("/etc/passwd", data=b"x", listed=False))
    body("name-absolute/pax", "name-absolute", M("f", data=b"x", listed=False, pax=((b"path", b"/abs"),)))
    body("name-absolute/prefix", "name-absolute", M("/p/" + "q" * 99, data=b"x", listed=False, prefix=True))
    for what, name in (("leading", "../x"), ("inside", "bin/../x"), ("trailing", "bin/.."), ("alone", "..")):
        body(f"name-dotdot/{what}", "name-dotdot", M(name, data=b"x", listed=False))
    body("name-dotdot/pax", "name-dotdot", M("f", data=b"x", listed=False, pax=((b"path", b"a/../../b"),)))
    prefix("name-dotdot/before-the-layer", "name-dotdot", layer={"pax": ((b"path", b"../.xax/layer"),)})
    body("name-length/component", "name-length", M("c" * 256, data=b"x", listed=False))
    body("name-length/name", "name-length", M("/".join(["d" * 200] * 21)[:4095], data=b"x", listed=False))
    # links, data
    body("link/empty-target", "link", M("s", "symlink", link=""))
    body("link/target-over-4095", "link", M("s", "symlink", link="t/" * 2048))
    body("link/linkname-on-a-file", "link", M("f", data=b"x", link="bin/app", raw=True))
    body("link/linkname-on-a-directory", "link", M("d/", "dir", link="bin", raw=True))
    body("data/on-a-directory", "data", M("d/", "dir", size=1, data=b""))
    body("data/on-a-symlink", "data", M("s", "symlink", link="bin/app", size=4, data=b""))
    return c


def tree_cases() -> list[Case]:
    b = BASE
    c: list[Case] = []

    def body(name: str, rule: str, *members: M) -> None:
        c.append(Case(name, App(body=_with(b, *members)).build(), rule))

    body("duplicate/file", "duplicate", M("f", data=b"1"), M("f", data=b"2", listed=False))
    body("duplicate/directory", "duplicate", M("d/", "dir"), M("d/", "dir"))
    body("duplicate/file-then-directory", "duplicate", M("f", data=b"1"), M("f/", "dir"))
    body("duplicate/of-the-metadata", "duplicate", M(META, data=b"{}", listed=False))
    body("duplicate/unicode", "duplicate", M("é", data=b"1"), M("é", data=b"2", raw=False, listed=False))
    body("parent/inside-a-file", "parent", M("f", data=b"1"), M("f/x", data=b"2", listed=False))
    body("parent/inside-a-symlink", "parent", M("s", "symlink", link="bin"), M("s/x", data=b"2", listed=False))
    body("parent/file-after-its-content", "parent", M("d/x", data=b"1"), M("d", data=b"2", listed=False))
    body("parent/symlink-after-content", "parent", M("d/x", data=b"1"), M("d", "symlink", link="bin"))
    body("dir-order/after-its-content", "dir-order", M("d/x", data=b"1"), M("d/", "dir"))
    body("dir-order/the-xax-directory", "dir-order", M(".xax/", "dir"))
    for what, link in (("up", "../etc/passwd"), ("absolute-up", "/../x"), ("deep", "bin/../../x"),
                       ("through-a-symlink", "root/..")):
        extra = (M("root", "symlink", link="/"),) if what == "through-a-symlink" else ()
        body(f"symlink-escape/{what}", "symlink-escape", *extra, M("esc", "symlink", link=link))
    return c


def app_cases() -> list[Case]:
    b = BASE
    c: list[Case] = []
    lay = M(LAYER, data=LAYER_DATA, mode=0o755, align=True, listed=False)

    def first(name: str, rule: str, *members: M, where: str = "prefix", body=b) -> None:
        c.append(Case(name, App(prefix_members=members, body=body).build(), rule, where))

    meta_m = M(META, data=json.dumps(meta({"/bin/app": M("bin/app", data=APP_DATA, mode=0o755).info()["/bin/app"]}))
               .encode(), listed=False)
    first("meta-first/layer-first", "meta-first", lay, meta_m)
    first("meta-first/no-metadata", "meta-first", lay)
    first("meta-first/a-file-first", "meta-first", M("readme", data=b"x", listed=False), meta_m, lay)
    first("meta-first/metadata-as-directory", "meta-first", M(META + "/", "dir"), lay)
    first("meta-first/metadata-as-symlink", "meta-first", M(META, "symlink", link="x"), lay)
    first("meta-first/nothing", "meta-first", body=())
    first("layer/missing", "layer", meta_m)
    first("layer/not-on-a-page", "layer", meta_m, dataclasses.replace(lay, align=False))
    first("layer/a-file-before-it", "layer", meta_m, M("a", data=b"x", listed=False), lay)
    first("layer/a-symlink", "layer", meta_m, M(LAYER, "symlink", link="bin/app"))
    first("layer/a-directory", "layer", meta_m, M(LAYER + "/", "dir"))

    def pad(name: str, rule: str, change: Callable[[int, M], M | None], where: str = "prefix", body=b) -> None:
        c.append(Case(name, App(pad=change, body=body).build(), rule, where))

    pad("pad/numbered-2", "pad", lambda n, m: dataclasses.replace(m, name=".xax/pad/000002"))
    pad("pad/numbered-1-in-5-digits", "pad", lambda n, m: dataclasses.replace(m, name=".xax/pad/00001"))
    pad("pad/not-zeros", "pad", lambda n, m: dataclasses.replace(m, data=b"\1" + m.data[1:]))
    pad("pad/not-whole-blocks", "pad", lambda n, m: dataclasses.replace(m, data=m.data[:-1]))
    pad("pad/too-big", "pad", lambda n, m: dataclasses.replace(m, data=m.data + bytes(PAGE)))
    pad("pad/a-directory", "pad", lambda n, m: M(".xax/pad/000001/", "dir"))
    pad("pad/a-symlink", "pad", lambda n, m: M(".xax/pad/000001", "symlink", link="x"))
    elf = M("e.so", data=ELF)
    pad("pad/numbered-out-of-order-later", "pad",
        lambda n, m: dataclasses.replace(m, name=".xax/pad/%06d" % (n + 1)) if n > 1 else m, "body",
        _with(b, elf))
    pad("pad/not-zeros-later", "pad", lambda n, m: dataclasses.replace(m, data=b"\1" * len(m.data))
        if n > 1 and m.data else m, "body", _with(b, elf))
    c.append(Case("pad/at-the-end", App(body=_with(b, M(".xax/pad/000002", data=bytes(512), listed=False))).build(),
                  "pad"))
    c.append(Case("pad/before-a-member-off-its-page", App(body=_with(
        b, M(".xax/pad/000002", data=bytes(512), listed=False), M("z", data=b"z"))).build(), "pad"))
    c.append(Case("reserved/another-member", App(body=_with(b, M(".xax/other", data=b"x", listed=False))).build(),
                  "reserved"))
    c.append(Case("reserved/a-second-layer", App(body=_with(b, M(".xax/layers", data=b"x", listed=False))).build(),
                  "reserved"))
    c.append(Case("elf-aligned/off-its-page", App(body=_with(b, M("e.so", data=ELF, align=False))).build(),
                  "elf-aligned"))
    c.append(Case("order/reversed", App(body=_with(b, M("z", data=b"z"), M("y", data=b"y"))).build(), "order"))
    c.append(Case("order/directory-after-its-sibling", App(body=(M("bin/", "dir"), M("bin/app", data=APP_DATA,
                                                                                       mode=0o755),
                                                                 M("a", data=b"a"))).build(), "order"))
    c.append(Case("meta/not-json", App(meta_bytes=b"not json").build(), "meta"))
    c.append(Case("meta/a-file-not-listed", App(body=_with(b, M("f", data=b"x", listed=False))).build(), "meta"))
    c.append(Case("meta/elf-flag-wrong", App(body=_with(b, M("e", data=b"x")),
                                             extra_files={"/e": {**M("e", data=b"x").info()["/e"], "elf": True}}
                                             ).build(), "meta"))
    return c


# -- the site table (.xax/sites, docs/rewrite.md "The site table") ----------------------------

def tiny_elf(code: bytes, flags: int = 5) -> bytes:
    """An ELF header, one PT_LOAD of the whole file (flags: PF_R|PF_X by default), then code at 120."""
    import struct
    eh = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 120, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    size = 120 + len(code)
    ph = struct.pack("<IIQQQQQQ", 1, flags, 0, 0, 0, size, size, PAGE)
    return eh + ph + code


SITE_CODE = b"\x90\xb8\x27\x00\x00\x00\x0f\x05\xc3"  # nop; mov $39, %eax; syscall; ret: the window at 121


def sites_image(rows=lambda base: [(base + 121, 7, 5, 39)], *, elf_flags: int = 5, sites_name: str = ".xax/sites",
                after: tuple = (), meta_size=None, raw_table=None) -> bytes:
    """An app image with one ELF file (tiny_elf) and a site table whose rows, given the image
    offset of that file's data, are (offset, length, syscall, nr); built twice, the second time
    with the offsets the first one placed the file at (the table, last, moves nothing)."""
    import struct
    from xax_emu.image.format import SITES_HEADER, SITES_MAGIC
    from xax_emu.image.validate import read_tar
    elf = M("lib/", "dir"), M("lib/x.so", data=tiny_elf(SITE_CODE, elf_flags))

    def build(base: int) -> bytes:
        table = raw_table if raw_table is not None else struct.pack("<8sII", SITES_MAGIC, len(rows(base)), 0) + \
            b"".join(struct.pack("<QBBHI", *r, 0) for r in rows(base))
        body = in_order(*BASE, *elf)
        files = {}
        for m in body:
            files.update(m.info() or {})
        size = len(table) if meta_size is None else meta_size
        obj = meta(files, sites={"member": ".xax/sites", "size": size})
        return App(body=(*body, M(sites_name, data=table, listed=False), *after), meta_obj=obj).build()

    base = read_tar(build(0)).by_name["lib/x.so"].data_offset
    return build(base)


def site_cases() -> list[Case]:
    b = sites_image
    return [
        Case("sites/valid", b(), None),
        Case("sites/a-second-window-without-syscall", b(lambda base: [(base + 121, 7, 5, 39), (base + 128, 5, 0, 0xFFFF)]),
             "sites"),
        Case("sites/overlapping", b(lambda base: [(base + 121, 7, 5, 39), (base + 125, 5, 2, 39)]), "sites"),
        Case("sites/unsorted", b(lambda base: [(base + 121, 7, 5, 39), (base + 120, 8, 6, 39)]), "sites"),
        Case("sites/no-syscall-there", b(lambda base: [(base + 120, 7, 5, 39)]), "sites"),
        Case("sites/outside-every-elf-file", b(lambda base: [(max(0, base - PAGE), 7, 5, 39)]), "sites"),
        Case("sites/past-the-file", b(lambda base: [(base + 121 + PAGE, 7, 5, 39)]), "sites"),
        Case("sites/not-executable", b(elf_flags=4), "sites"),
        Case("sites/window-too-long", b(lambda base: [(base + 100, 40, 27, 39)]), "sites"),
        Case("sites/syscall-past-the-window", b(lambda base: [(base + 121, 7, 6, 39)]), "sites"),
        Case("sites/bad-magic", b(raw_table=b"XAXSITE0" + bytes(8)), "sites"),
        Case("sites/count-wrong", b(raw_table=b"XAXSITE1" + b"\x02" + bytes(7) + bytes(16)), "sites"),
        Case("sites/size-not-as-meta-says", b(meta_size=48), "meta"),
        Case("reserved/sites-not-last", b(after=(M("zz", data=b"z"),)), "reserved"),
        Case("reserved/sites-misnamed", b(sites_name=".xax/sitez"), "reserved"),
    ]


def written_by_pack() -> list[Case]:
    """Images the real writer writes (tarwrite.TarWriter: libarchive's pax), as pack lays them
    out — the format's first witness."""
    from xax_emu.image.tarwrite import TarWriter

    members = sorted([
        ("bin/", "dir", b"", None, 0o755, 0), ("bin/app", "file", APP_DATA, None, 0o755, 1_700_000_000),
        ("d/", "dir", b"", None, 0o755, 0), ("d/" + "n" * 150, "file", b"long", None, 0o644, 5),
        ("d/é", "file", b"utf8", None, 0o644, 8 ** 11), ("d/neg", "file", b"n", None, 0o644, -7),
        ("d/so", "file", ELF + b"s" * 5000, None, 0o755, 1), ("d/so2", "file", ELF, None, 0o755, 1),
        ("l", "symlink", b"", "d/" + "n" * 150, 0o777, 0), ("p" * 90 + "/", "dir", b"", None, 0o755, 0),
        ("p" * 90 + "/" + "q" * 90, "file", b"split", None, 0o644, 0)], key=lambda m: m[0].rstrip("/"))
    files = {}
    for name, kind, data, target, mode, mtime in members:
        if kind == "file":
            files["/" + name] = {"type": "file", "size": len(data), "mode": mode, "mtime": mtime,
                                 "sha256": hashlib.sha256(data).hexdigest(), "elf": data[:4] == ELF[:4]}
        elif kind == "symlink":
            files["/" + name] = {"type": "symlink", "target": target}
    meta_bytes = json.dumps(meta(files), sort_keys=True, indent=1).encode()
    out = io.BytesIO()
    with TarWriter(out) as w:
        w.add(META, "file", size=len(meta_bytes), chunks=[meta_bytes])
        w.add(LAYER, "file", size=len(LAYER_DATA), mode=0o755, chunks=[LAYER_DATA], align=True)
        for name, kind, data, target, mode, mtime in members:
            w.add(name, kind, size=len(data), mode=mode, mtime=mtime, target=target, chunks=[data],
                  align=data[:4] == ELF[:4])
    return [Case("written-by-tarwriter", out.getvalue(), None)]


def cases() -> list[Case]:
    """Every case: the valid images first."""
    return [*valid(), *written_by_pack(), *header_cases(), *tree_cases(), *app_cases(), *site_cases()]
