"""The three readers of images against one corpus (tests/tar_corpus.py, docs/image-format.md):
the Python one (tarread.py and validate.py: what the Monitor checks), the VFS's tar.c (what
the layer indexes, through the cffi host build) and the PAL's tarfind.c (how the PAL finds the
layer, through a host build of the same files).  Each case keeps every rule or breaks one;
every reader that applies that rule to the place the case breaks it refuses it, for that rule,
and every other reader accepts it — the places where a reader does not apply a rule are the
ones the document gives, with its reasons (READERS below).  Where all accept, they see the
same members at the same offsets."""
import errno
import io
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tar_corpus import LAYER, LEVEL, cases, header
from tarfind_host import find_layer
from xax_emu import protocol
from xax_emu.cli import main
from xax_emu.image import ImageError, pack_image, validate
from xax_emu.image.format import RULE_NAMES
from xax_emu.image.tarread import TarReader
from xax_emu.image.validate import read_tar
from xax_emu.launch.imagefile import ImageFile
from xax_emu.launch.program import resolve
from xax_emu.launch.request import Request, start_kwargs
from xax_emu.monitor import Monitor, Stdio
from xax_emu.vfs._host import HostVfs

DOC = Path(__file__).resolve().parent.parent / "docs" / "image-format.md"
CASES = cases()

# Which rules each reader applies (docs/image-format.md, "The readers").
READERS = {
    # validate(): every rule
    "validate": lambda case: case.rule,
    # read_tar() (the Monitor's check of an --fs-image): the tar's rules, not the app image's
    "read_tar": lambda case: case.rule if case.level in ("header", "tree") else None,
    # tar.c: the tar's rules but where a symlink leads (its walker keeps paths inside the route)
    "tar.c": lambda case: case.rule if case.level in ("header", "tree") and case.rule != "symlink-escape" else None,
    # tarfind.c: every rule, of the members it reads (the metadata, the padding, the layer)
    "tarfind.c": lambda case: case.rule if case.where == "prefix" else None,
}


def python_rule(check, image: bytes) -> str | None:
    try:
        check(image)
    except ImageError as e:
        assert "\n" not in str(e) and e.rule in RULE_NAMES, (str(e), e.rule)
        return e.rule
    return None


def vfs_rule(image: bytes) -> str | None:
    v = HostVfs(uid=0, gid=0)
    try:
        r = v.mount_tar("/", image)
        if r == 0:
            return None
        assert r == -errno.EINVAL, r
        why, _ = v.tar_refusal()
        return why.split(":")[0]
    finally:
        v.close()


def tarfind_rule(image: bytes) -> str | None:
    found = find_layer(image)
    return found.split(":")[0] if isinstance(found, str) else None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_readers_agree(case):
    assert case.rule is None or case.rule in RULE_NAMES, case.rule
    got = {"validate": python_rule(validate, case.image), "read_tar": python_rule(read_tar, case.image),
           "tar.c": vfs_rule(case.image), "tarfind.c": tarfind_rule(case.image)}
    want = {reader: applies(case) for reader, applies in READERS.items()}
    assert got == want


def _vfs_tree(v: HostVfs, d: str = "/") -> set[str]:
    out = set()
    for name in v.listdir(d):
        p = os.path.join(d, os.fsdecode(name))
        out.add(p)
        if stat.S_ISDIR(v.lstat(p).mode):
            out |= _vfs_tree(v, p)
    return out


@pytest.mark.parametrize("case", [c for c in CASES if READERS["tar.c"](c) is None], ids=lambda c: c.name)
def test_what_the_readers_accept_they_see_alike(case):
    """Every member tarread.py reads, the VFS shows: its kind, mode, size, mtime, target, and
    the offset of its data (which the layer maps); nothing else but the directories that
    hold members; tarfind.c finds the layer where tarread.py does."""
    members = TarReader(io.BytesIO(case.image), len(case.image)).members()
    v = HostVfs(uid=0, gid=0)
    try:
        assert v.mount_tar("/", case.image) == 0
        implicit = set()
        for m in members:
            path = "/" + m.name
            parts = m.name.split("/")
            implicit |= {"/" + "/".join(parts[:i]) for i in range(1, len(parts))}
            st = v.lstat(path)
            fmt = {"file": stat.S_IFREG, "dir": stat.S_IFDIR, "symlink": stat.S_IFLNK}[m.type]
            perm = 0o777 if m.type == "symlink" else m.mode
            mtime = st.mtime - (1 << 64) if st.mtime >= 1 << 63 else st.mtime  # the kernel's field is unsigned
            assert (stat.S_IFMT(st.mode), stat.S_IMODE(st.mode), mtime) == (fmt, perm, m.mtime), path
            if m.type == "file":
                fd = v.open(path, os.O_RDONLY)
                assert fd >= 0 and v.tar_offset(fd) == m.data_offset and st.size == m.size, path
                assert v.read(fd, 64) == case.image[m.data_offset:m.data_offset + min(64, m.size)]
                v.close_fd(fd)
            if m.type == "symlink":
                assert v.readlink(path) == m.link.encode() and st.size == len(m.link.encode()), path
        assert _vfs_tree(v) == {"/" + m.name for m in members} | implicit
    finally:
        v.close()
    layer = [m for m in members if m.name == LAYER]
    if READERS["tarfind.c"](case) is None and layer:
        assert find_layer(case.image) == (layer[0].data_offset, layer[0].size)


def test_the_corpus_breaks_every_rule_it_can():
    """Each rule has a case, but "members" (a million members or 64 MiB of names: an image of
    hundreds of MiB; tarfmt.c and tarread.py count both the same way)."""
    broken = {c.rule for c in CASES if c.rule}
    assert RULE_NAMES - broken == {"members"}
    assert {c.where for c in CASES if c.rule} == {"prefix", "body"}
    assert any(c.rule is None for c in CASES) and len({c.name for c in CASES}) == len(CASES)


def test_the_document_states_every_rule():
    text = DOC.read_text()
    missing = [name for name in sorted(RULE_NAMES) if f"`{name}`" not in text]
    assert not missing, f"docs/image-format.md does not state {missing}"
    assert set(LEVEL.values()) == {"header", "tree", "app"}


# -- beyond the corpus: the valid images mutated, the readers still agree ------------------------

VALID = [c.image for c in CASES if c.rule is None]
FUZZ = settings(max_examples=int(os.environ.get("XAX_FUZZ_EXAMPLES", "300")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def mutated(draw):
    image = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.integers(0, 3))
        if how == 0 and len(image) >= 512:  # bytes of a header changed, its checksum fixed (or not)
            block = draw(st.integers(0, len(image) // 512 - 1)) * 512
            for _ in range(draw(st.integers(1, 4))):
                image[block + draw(st.integers(0, 511))] = draw(st.integers(0, 255))
            if draw(st.booleans()):
                image[block + 148:block + 156] = b" " * 8
                image[block + 148:block + 156] = b"%06o\0 " % sum(image[block:block + 512])
        elif how == 1:  # cut
            del image[draw(st.integers(0, len(image))):]
        elif how == 2:  # a block moved elsewhere
            if len(image) >= 1024:
                src = draw(st.integers(0, len(image) // 512 - 1)) * 512
                dst = draw(st.integers(0, len(image) // 512 - 1)) * 512
                image[dst:dst] = image[src:src + 512]
        else:  # bytes appended
            image += draw(st.binary(max_size=600))
    return bytes(image)


@FUZZ
@given(mutated())
def test_mutated_images_the_readers_agree(image):
    """Whatever the bytes: tar.c refuses for the rule read_tar refuses for (both report the first
    problem in the archive's order), but where a symlink leads, which tar.c leaves to its walker;
    tarfind.c refuses what validate refuses (for the same rule, if it is one of a header), and
    what it accepts validate does not refuse for the metadata's or the layer's place."""
    py, c = python_rule(read_tar, image), vfs_rule(image)
    assert c == py or (py == "symlink-escape" and c is None), (py, c)
    app, pal = python_rule(validate, image), tarfind_rule(image)
    if pal is not None:
        assert app is not None and (LEVEL[pal] != "header" or app == pal), (app, pal)
    else:
        assert app not in ("meta-first", "layer"), app


# -- the refusals as the user sees them -----------------------------------------------------------

def _packed_hello(build, tmp_path) -> Path:
    prog = build("programs/hello.c", "musl")
    manifest = tmp_path / "hello.toml"
    manifest.write_text(f'[app]\nname = "hello"\nentry = "/bin/hello"\nargs = []\ncwd = "/"\n'
                        f'profile = "static-libc"\n\n[files]\n"/bin/hello" = "{prog}"\n')
    out = tmp_path / "hello.tar"
    pack_image(str(manifest), str(out))
    return out


def _run_unchecked(image_path: Path, data: bytes):
    """Run an app image as `run` does, but hand the picoprocess `data` instead of the bytes the
    Monitor validated: what the PAL and the layer do with an image nobody checked."""
    request = Request(resolve(str(image_path), None, None), [], [], None, {"wall_seconds": 30})
    kwargs = start_kwargs(request)
    kwargs["image"] = ImageFile.copy_of_bytes(data, "unchecked")
    out = bytearray()
    with Monitor() as monitor:
        pico = monitor.start(**kwargs, stdio=Stdio(stdout=out.extend, stderr=out.extend, stdin_bytes=b""))
        (report,) = monitor.run_until_done([pico])
    return report


def test_the_pal_and_the_layer_say_which_rule_an_image_breaks(build, tmp_path):
    """An image the Monitor did not check (it always does): the PAL refuses its first members
    (tarfind.c), the layer the rest (tar.c), each through the PAL's one failure path, in one
    line naming the rule."""
    path = _packed_hello(build, tmp_path)
    good = path.read_bytes()
    assert _run_unchecked(path, good).exit_code == 0
    members = TarReader(io.BytesIO(good), len(good)).members()
    layer = next(m for m in members if m.name == LAYER)
    bad_prefix = bytearray(good)
    bad_prefix[layer.data_offset - 512 + 257:layer.data_offset - 512 + 265] = b"ustar  \0"  # GNU's magic
    bad_prefix[layer.data_offset - 512 + 148:layer.data_offset - 512 + 156] = b" " * 8
    bad_prefix[layer.data_offset - 512 + 148:layer.data_offset - 512 + 156] = b"%06o\0 " % sum(
        bad_prefix[layer.data_offset - 512:layer.data_offset])
    report = _run_unchecked(path, bytes(bad_prefix))
    assert report.exit_code == protocol.EXIT_RUNTIME_FAILED
    assert "cannot start the image: magic: not a POSIX ustar header" in report.reason, report.reason
    bad_body = good[:-1024] + header(b"../escape") + bytes(1024)
    report = _run_unchecked(path, bad_body)
    assert report.exit_code == protocol.EXIT_RUNTIME_FAILED
    assert "cannot start the layer: name-dotdot: a '..' component" in report.reason, report.reason


def test_run_refuses_an_fs_image_out_of_the_format_in_one_line(build, tmp_path, capsys):
    """A bare program's --fs-image: the Monitor reads it as the VFS will, before anything starts."""
    prog = build("programs/hello.c", "musl")
    fs = tmp_path / "fs.tar"
    fs.write_bytes(header(b"./a") + bytes(1024))
    assert main(["run", "--fs-image", str(fs), str(prog)]) == 2
    err = capsys.readouterr().err
    assert err == "xax-emu: --fs-image: './a': an empty or '.' component (the name is not normalized) " \
                  "(docs/image-format.md: rule name-form)\n"
    fs.write_bytes(header(b"a") + bytes(1024))
    assert main(["run", "--fs-image", str(fs), str(prog)]) == 0
