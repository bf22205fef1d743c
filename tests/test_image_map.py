"""Map, don't copy: the Monitor hands the image to the picoprocess as one read-only
fd (protocol.IMAGE_FD) instead of serving it through the channel; the boot block
maps it, the PAL maps the program from it, and the layer maps page-aligned files
of the image from it (ld.so's mmaps of libraries).

What proves the mapping path: no xaxcall fetches the image; and MADV_DONTNEED on
a written private page shows the file again only when the page is a mapping of
the file (on a copy, anonymous memory, it shows zeros) — the program's answers
are compared with the native run's, which are the kernel's file mappings."""
import fcntl
import hashlib
import os
import stat
from pathlib import Path

import pytest

from xax_emu import protocol
from xax_emu.image import pack_image, validate
from xax_emu.monitor import parse_origin
from xax_emu.monitor.fetch import FetchError, HttpCache, fetch
from xax_emu.launch.imagefile import SEALS, ImageFile
from xax_emu.monitor import picoprocess
from xax_emu.launch.program import resolve
from xax_emu.syscalls import catalogue

from conftest import run_native, run_pico
from loopback import HttpOrigin

EMULATED = protocol.TRACE_EMULATED
LIBZ = Path("/usr/lib/x86_64-linux-gnu/libz.so.1")
PAGE = 4096


@pytest.fixture(scope="module")
def mapfile_image(build, tmp_path_factory):
    """An image of tests/programs/mapfile.c with three files to map: a real shared
    library (ELF: page-aligned by pack; its size not a whole number of pages), an
    ELF-looking file of exactly three pages, and a text file (not aligned: copied)."""
    if not LIBZ.exists():
        pytest.fail(f"{LIBZ} is missing (zlib1g)")
    tmp = tmp_path_factory.mktemp("mapfile")
    prog = build("programs/mapfile.c")
    pages = tmp / "pages.bin"
    pages.write_bytes(b"\x7fELF" + bytes(range(256)) * 47 + bytes(3 * PAGE - 4 - 256 * 47))
    text = tmp / "text.txt"
    text.write_bytes(b"".join(b"line %d of a text file that is not page-aligned\n" % i for i in range(250)))
    (tmp / "app.toml").write_text(
        '[app]\nname = "mapfile"\nentry = "/bin/mapfile"\nargs = []\ncwd = "/"\nprofile = "static-libc"\n\n'
        f'[files]\n"/bin/mapfile" = "{prog}"\n"/lib/libz.so.1" = "{LIBZ.resolve()}"\n'
        f'"/data/pages.bin" = "{pages}"\n"/data/text.txt" = "{text}"\n')
    image = tmp / "mapfile.tar"
    pack_image(str(tmp / "app.toml"), str(image))
    return image, {"prog": prog, "/lib/libz.so.1": LIBZ, "/data/pages.bin": pages, "/data/text.txt": text}


def data_offset(image: Path, name: str) -> int:
    return next(m.data_offset for m in validate(str(image)).members if m.name == name)


def test_pack_aligns_what_the_layer_maps(mapfile_image):
    image, _ = mapfile_image
    for name in ("bin/mapfile", "lib/libz.so.1", "data/pages.bin"):
        assert data_offset(image, name) % PAGE == 0, name
    assert data_offset(image, "data/text.txt") % PAGE != 0


def test_layer_and_pal_map_the_image_as_the_kernel_maps_files(mapfile_image):
    """The same answers as the native run, MADV_DONTNEED included: the program's own
    data page and the libraries' pages are mappings of the image (a copy would show
    zeros), bytes past a file's end read as zeros (never the tar's next header), and
    private writes stay private.  The text file is copied; its mapping still reads
    equal.  No xaxcall fetched anything: the image came as the fd."""
    image, host = mapfile_image
    args = ["+/lib/libz.so.1", "+/data/pages.bin", "/data/text.txt"]
    r = run_pico(image, args, trace_all=True)
    native = run_native(host["prog"], ["+" + str(host["/lib/libz.so.1"]), "+" + str(host["/data/pages.bin"]),
                                       str(host["/data/text.txt"])])
    assert (r.code, r.stderr) == (0, b""), r.report
    assert r.stdout == native.stdout
    assert r.stdout.splitlines()[0] == b"own data page after MADV_DONTNEED: 0x5a5a5a5a"
    assert r.stdout.count(b"after MADV_DONTNEED the page shows the file") == 2
    assert "OPEN_URL" not in r.xaxcalls and "READ" not in r.xaxcalls, r.xaxcalls
    mmap = catalogue.by_name("mmap").nr
    assert r.report.trace[(mmap, EMULATED)] >= 7  # the file mappings reached the layer


def test_a_bare_program_still_fetches_through_the_channel(build):
    """The contrast that gives the check above its meaning: a bare program's layer and
    program come through xabi_open_url and READ xaxcalls."""
    r = run_pico(build("programs/hello.c"), ["x"])
    assert r.code == 0 and r.xaxcalls["OPEN_URL"] == 2 and r.xaxcalls["READ"] >= 2, r.xaxcalls


def test_fs_image_of_a_bare_program_is_mapped_too(build, mapfile_image):
    """`run --fs-image` hands its tar as the image fd as well: the layer maps an
    aligned library from it (MADV_DONTNEED shows the file), as natively."""
    image, host = mapfile_image
    prog = build("programs/mapfile.c")
    r = run_pico(prog, ["+/lib/libz.so.1"], fs_image=image.read_bytes())
    native = run_native(prog, ["+" + str(host["/lib/libz.so.1"])])
    assert r.code == 0, (r.report, r.stderr)
    # The first line differs by design: a bare program is copied in (it comes through the channel).
    assert r.stdout.splitlines()[0] == b"own data page after MADV_DONTNEED: 0"
    assert r.stdout.splitlines()[1:] == native.stdout.splitlines()[1:]
    assert b"shows the file" in r.stdout


def test_a_local_image_is_handed_as_a_sealed_copy(mapfile_image):
    """A local file may be rewritten in place by its owner at any time: the picoprocess
    gets a memfd copy sealed against writes, shrinking and growing (and further seals),
    and the Monitor validated those very bytes."""
    image, _ = mapfile_image
    prog = resolve(str(image), None)
    img = prog.image
    assert img.kind == "memfd" and img.size == image.stat().st_size
    assert fcntl.fcntl(img.fd, fcntl.F_GET_SEALS) & SEALS == SEALS
    assert os.pread(img.fd, img.size, 0) == image.read_bytes()
    for attempt in (lambda: os.pwrite(img.fd, b"x", 0), lambda: os.ftruncate(img.fd, 0),
                    lambda: os.ftruncate(img.fd, img.size + PAGE)):
        with pytest.raises(PermissionError):
            attempt()
    with open(f"/proc/self/fd/{img.fd}", "r+b", buffering=0) as f, pytest.raises(PermissionError):
        f.write(b"x")  # the same memfd reopened for writing is still sealed
    assert prog.local_files == {}  # nothing is served through the channel


def test_rewriting_a_local_image_in_place_does_not_reach_the_running_copy(mapfile_image, tmp_path):
    image, _ = mapfile_image
    mine = tmp_path / "mine.tar"
    mine.write_bytes(image.read_bytes())
    prog = resolve(str(mine), None)
    with open(mine, "r+b") as f:  # in place, same inode: what `cp other.tar mine.tar` does
        f.truncate(0)
    assert os.pread(prog.image.fd, 512, 0) == image.read_bytes()[:512]
    assert os.fstat(prog.image.fd).st_size == image.stat().st_size


def test_an_image_from_the_cache_is_the_cache_file(mapfile_image, tmp_path):
    """From an origin, through the HTTP cache: the first run downloads (a sealed memfd
    copy of the body), the next is served from the cache and gets the cache's own
    body file, read-only, the very inode whose bytes the Monitor checked."""
    image, _ = mapfile_image
    body = image.read_bytes()
    cache = HttpCache(tmp_path / "cache")
    with HttpOrigin() as origin:
        origin.add("/apps/mapfile.tar", body, Cache_Control="max-age=600")
        url = f"{origin.base}/apps/mapfile.tar"
        first = resolve(url, None, cache)
        assert first.image.kind == "memfd"
        second = resolve(url, None, cache)
        assert len([s for s in origin.requests if s.path == "/apps/mapfile.tar"]) == 1
        assert second.image.kind == "cache"
        flags = fcntl.fcntl(second.image.fd, fcntl.F_GETFL)
        assert flags & os.O_ACCMODE == os.O_RDONLY
        cached_body, _ = cache._paths(url)
        assert os.fstat(second.image.fd).st_ino == cached_body.stat().st_ino
        r = run_pico(url, ["+/lib/libz.so.1", "/data/text.txt"], cache=cache)
    assert r.code == 0, (r.report, r.stderr)
    assert b"after MADV_DONTNEED the page shows the file" in r.stdout
    assert "OPEN_URL" not in r.xaxcalls
    assert hashlib.sha256(cached_body.read_bytes()).digest() == hashlib.sha256(body).digest()


def open_files() -> set[str]:
    """The files this process has open (not its sockets and pipes, which the test's own
    HTTP server's threads open and close as they please)."""
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:
            continue
        if target.startswith("/"):
            out.add(f"{fd} {target}")
    return out


def test_a_cache_file_is_handed_over_only_if_fetched_with_want_file(tmp_path):
    """Origin files the program opens never leave fds behind: only resolve asks."""
    cache = HttpCache(tmp_path)
    with HttpOrigin() as origin:
        origin.add("/f", b"body", Cache_Control="max-age=600")
        here = parse_origin(origin.base)
        before = open_files()
        a = fetch("GET", f"{origin.base}/f", here, limit=100, cache=cache)
        b = fetch("GET", f"{origin.base}/f", here, limit=100, cache=cache)
        assert (a.file, b.file, b.body) == (None, None, b"body")
        assert open_files() == before
        c = fetch("GET", f"{origin.base}/f", here, limit=100, cache=cache, want_file=True)
        assert c.file is not None and os.pread(c.file, 10, 0) == b"body"
        os.close(c.file)
        with pytest.raises(FetchError):  # cached, but over this limit: fetched again, and refused
            fetch("GET", f"{origin.base}/f", here, limit=3, cache=cache, want_file=True)
        g = f"{origin.base}/g"
        origin.add("/g", b"v1", ETag='"1"', Cache_Control="no-cache")
        assert fetch("GET", g, here, limit=100, cache=cache, want_file=True).file is None  # downloaded
        revalidated = fetch("GET", g, here, limit=100, cache=cache, want_file=True)  # stale: 304, the cache file
        assert os.pread(revalidated.file, 10, 0) == b"v1"
        os.close(revalidated.file)
        origin.add("/g", b"v2", ETag='"2"', Cache_Control="no-cache")
        changed = fetch("GET", g, here, limit=100, cache=cache, want_file=True)  # stale and changed: 200
        assert (changed.file, changed.body) == (None, b"v2")
        assert open_files() == before


def test_image_file_from_bytes_is_sealed_and_executable_mappable():
    img = ImageFile.copy_of_bytes(b"\x7fELF" + bytes(PAGE), "t")
    try:
        import mmap
        m = mmap.mmap(img.fd, img.size, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_EXEC)
        assert m[:4] == b"\x7fELF"
        m.close()
        with pytest.raises(PermissionError):
            mmap.mmap(img.fd, img.size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        assert stat.S_ISREG(os.fstat(img.fd).st_mode)
    finally:
        img.close()
    assert img.fd == -1


def test_boot_places_the_fds_whatever_numbers_they_arrive_at(mapfile_image, tmp_path, monkeypatch):
    """The Monitor's fds can have any numbers, even each other's final ones: here the
    channel arrives at the image's number and the image at the channel's (3)."""
    image, host = mapfile_image
    swap = tmp_path / "swap.sh"
    swap.write_text(f'#!/bin/bash\nc=$1 i=$2\nexec 1000<&"$c" 1001<&"$i" {{c}}<&- {{i}}<&-\n'
                    f'exec {protocol.IMAGE_FD}<&1000 3<&1001 1000<&- 1001<&-\n'
                    f'exec {picoprocess.pico_binary()} {protocol.IMAGE_FD} 3\n')
    swap.chmod(0o755)
    monkeypatch.setattr(picoprocess, "pico_binary", lambda: swap)
    r = run_pico(image, ["+/lib/libz.so.1"])
    assert r.code == 0, (r.report, r.stderr)
    assert b"after MADV_DONTNEED the page shows the file" in r.stdout
