"""The HTTP cache is bounded: a total byte cap, least recently used entries evicted
first, never an entry in use (its body open through lookup, as a picoprocess's
image is), safe with worker threads and with two Monitors sharing its directory."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from loopback import HttpOrigin
from xax_emu.monitor.fetch import HttpCache, fetch
from xax_emu.monitor.origin import parse_origin

MiB = 1 << 20
ROOT = Path(__file__).resolve().parent.parent


def body_of(i: int) -> bytes:
    return hashlib.sha256(str(i).encode()).digest() * (MiB // 32)  # 1 MiB, different per URL


@pytest.fixture(scope="module")
def origin():
    with HttpOrigin() as s:
        for i in range(48):
            s.add(f"/u{i}", body_of(i), ETag=f'"{i}"', Cache_Control="max-age=600")
        yield s


def get(origin, path, cache, want_file=False):
    return fetch("GET", origin.base + path, parse_origin(origin.base), limit=2 * MiB, cache=cache,
                 want_file=want_file)


def served_from_cache(origin, path, cache) -> bool:
    before = len(origin.requests)
    assert get(origin, path, cache).body == body_of(int(path[2:]))
    return len(origin.requests) == before


def disk_usage(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())


def test_48_urls_of_1_mib_stay_under_a_16_mib_cap(origin, tmp_path):
    cache = HttpCache(tmp_path / "c", max_bytes=16 * MiB)
    for i in range(48):
        assert get(origin, f"/u{i}", cache).body == body_of(i)
        assert disk_usage(tmp_path / "c") <= 16 * MiB
    assert cache.usage() == disk_usage(tmp_path / "c") > 14 * MiB  # full, not emptied
    # the most recent survive, the oldest went
    assert served_from_cache(origin, "/u47", cache) and served_from_cache(origin, "/u40", cache)
    assert not served_from_cache(origin, "/u0", cache)


def test_a_hit_makes_an_entry_recent(origin, tmp_path):
    cache = HttpCache(tmp_path / "c", max_bytes=8 * MiB)
    for i in range(6):
        get(origin, f"/u{i}", cache)
        time.sleep(0.01)  # distinct mtimes: recency is the metadata file's
    assert served_from_cache(origin, "/u0", cache)  # u0, the oldest stored, used again
    time.sleep(0.01)
    for i in range(6, 12):
        get(origin, f"/u{i}", cache)
        time.sleep(0.01)
    assert served_from_cache(origin, "/u0", cache)
    assert not served_from_cache(origin, "/u1", cache)


def test_an_entry_in_use_is_never_evicted(origin, tmp_path):
    """A body held open through lookup (Response.file, which a picoprocess inherits as
    its image) stays, and stays the same file, however much else is stored; once it
    is closed it is evicted like any other."""
    d = tmp_path / "c"
    cache = HttpCache(d, max_bytes=4 * MiB)
    get(origin, "/u0", cache)
    held = get(origin, "/u0", cache, want_file=True)
    assert held.file is not None
    body_path, _ = cache._paths(origin.base + "/u0")
    inode = os.fstat(held.file).st_ino
    for i in range(1, 20):
        get(origin, f"/u{i}", cache)
        assert body_path.stat().st_ino == inode and disk_usage(d) <= 4 * MiB
    assert os.pread(held.file, MiB, 0) == body_of(0)
    assert served_from_cache(origin, "/u0", cache)
    os.close(held.file)
    for i in range(20, 26):
        get(origin, f"/u{i}", cache)
    assert not body_path.exists()


def test_an_entry_a_child_holds_is_in_use_after_the_monitor_closes_it(origin, tmp_path):
    """The picoprocess inherits the body's open file: the lock is its too, and lasts
    as long as it holds the file, whether or not the Monitor still does."""
    cache = HttpCache(tmp_path / "c", max_bytes=4 * MiB)
    get(origin, "/u30", cache)
    held = get(origin, "/u30", cache, want_file=True)
    child = subprocess.Popen(["sleep", "60"], pass_fds=[held.file])
    try:
        os.close(held.file)
        for i in range(31, 40):
            get(origin, f"/u{i}", cache)
        assert served_from_cache(origin, "/u30", cache)
    finally:
        child.kill()
        child.wait()
    for i in range(40, 46):
        get(origin, f"/u{i}", cache)
    assert not served_from_cache(origin, "/u30", cache)


def test_a_body_over_the_cap_is_not_stored(origin, tmp_path):
    cache = HttpCache(tmp_path / "c", max_bytes=MiB - 1)
    assert get(origin, "/u1", cache).body == body_of(1)
    assert not served_from_cache(origin, "/u1", cache)
    assert cache.usage() == 0


def test_a_crashed_writers_leftovers_are_removed(origin, tmp_path):
    d = tmp_path / "c"
    d.mkdir()
    old, young = d / ".tmp-crashed", d / ".tmp-writing"
    old.write_bytes(bytes(3 * MiB))
    young.write_bytes(bytes(MiB))
    os.utime(old, (time.time() - 2 * HttpCache.STALE_TMP,) * 2)
    cache = HttpCache(d, max_bytes=4 * MiB)
    for i in range(4):
        get(origin, f"/u{i}", cache)
    assert not old.exists() and young.exists()  # a young one may be another Monitor's store in progress
    assert disk_usage(d) <= 4 * MiB


def test_worker_threads_storing_at_once_stay_under_the_cap(origin, tmp_path):
    d = tmp_path / "c"
    cache = HttpCache(d, max_bytes=16 * MiB)
    errors = []

    def worker(k: int) -> None:
        try:
            for i in range(k, 48, 6):
                assert get(origin, f"/u{i}", cache).body == body_of(i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert disk_usage(d) <= 16 * MiB and not [p for p in d.iterdir() if p.name.startswith(".tmp-")]
    for p in d.glob("*.body"):  # every entry whole
        assert hashlib.sha256(p.read_bytes()).digest() in {hashlib.sha256(body_of(i)).digest() for i in range(48)}


SHARER = """
import sys
from xax_emu.monitor.fetch import HttpCache, fetch
from xax_emu.monitor.origin import parse_origin
base, directory, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
cache = HttpCache(__import__("pathlib").Path(directory), max_bytes=16 << 20)
for round_ in range(2):
    for i in range(start, 48, 2):
        r = fetch("GET", f"{base}/u{i}", parse_origin(base), limit=2 << 20, cache=cache)
        assert len(r.body) == 1 << 20
"""


def test_two_monitors_sharing_the_directory_stay_under_the_cap(origin, tmp_path):
    d = tmp_path / "shared"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", SHARER, origin.base, str(d), str(k)], env=env,
                              stderr=subprocess.PIPE) for k in (0, 1)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    assert disk_usage(d) <= 16 * MiB
    assert not [p for p in d.iterdir() if p.name.startswith(".tmp-")]
    cache = HttpCache(d, max_bytes=16 * MiB)
    for p in d.glob("*.json"):  # every entry left is whole: found by its URL and checked
        import json
        url = json.loads(p.read_text())["url"]
        assert cache.lookup(url) is not None


def test_run_cache_size_bounds_the_cache(build, tmp_path):
    """`run --cache-size`: three programs of 600 KiB from an origin, a 1 MiB cap."""
    quiet = build("programs/quiet.c").read_bytes()
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(tmp_path))
    with HttpOrigin() as server:
        for i in range(3):  # an ELF with bytes after its last segment is still the same program
            server.add(f"/p{i}", quiet + bytes([i]) * (600 << 10), ETag=f'"{i}"', Cache_Control="max-age=600")
        for i in range(3):
            proc = subprocess.run([sys.executable, "-m", "xax_emu", "run", "--cache-size", "1M",
                                   f"{server.base}/p{i}"], env=env, capture_output=True, timeout=120)
            assert proc.returncode == 0, proc.stderr
            assert disk_usage(tmp_path / "xax-emu" / "http") <= MiB
        assert len(list((tmp_path / "xax-emu" / "http").glob("*.body"))) == 1


def test_the_image_a_running_picoprocess_maps_stays_in_the_cache(tmp_path):
    """A real picoprocess started from a cached image (sha1sum, waiting on its stdin):
    with the Monitor's own fd of the image closed, filling the cache far past its cap
    leaves the image's body in place, the same file; the program then reads its input
    and answers right; once it has exited, the entry is evicted like any other."""
    from image_support import build_example
    from xax_emu.image import pack
    from xax_emu.launch.program import resolve
    from xax_emu.launch.request import Request, start_kwargs
    from xax_emu.monitor import Monitor, Stdio

    manifest = build_example("sha1sum", tmp_path)
    pack(manifest, tmp_path / "sha1sum.tar")
    image = (tmp_path / "sha1sum.tar").read_bytes()
    cache = HttpCache(tmp_path / "c", max_bytes=max(4 * MiB, 2 * len(image)))
    with HttpOrigin() as server:
        server.add("/sha1sum.tar", image, Cache_Control="max-age=600")
        for i in range(24):
            server.add(f"/u{i}", body_of(i), ETag=f'"{i}"', Cache_Control="max-age=600")
        url = f"{server.base}/sha1sum.tar"
        resolve(url, None, cache)  # downloaded and stored
        prog = resolve(url, None, cache)
        assert prog.image.kind == "cache"
        body_path, _ = cache._paths(url)
        inode = body_path.stat().st_ino
        read_end, write_end = os.pipe()
        out = bytearray()
        with Monitor(log=lambda line: None, cache=cache) as monitor:
            pico = monitor.start(**start_kwargs(Request(prog, [], [], None, {"wall_seconds": 60})),
                                 stdio=Stdio(stdout=out.extend, stderr=lambda d: None, stdin_fd=read_end,
                                             stdin_bytes=None))
            for _ in range(5):
                monitor.step(max_wait=0.1)
            prog.image.close()  # only the picoprocess holds the body now
            for i in range(12):
                get(server, f"/u{i}", cache)
                assert disk_usage(tmp_path / "c") <= cache.max_bytes
            assert body_path.stat().st_ino == inode
            os.write(write_end, b"the input\n")
            os.close(write_end)
            (report,) = monitor.run_until_done([pico])
        os.close(read_end)
        assert report.exit_code == 0, report
        assert bytes(out).split()[0].decode() == hashlib.sha1(b"the input\n").hexdigest()
        for i in range(12, 24):
            get(server, f"/u{i}", cache)
        assert not body_path.exists()
