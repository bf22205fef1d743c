"""The image store (launch/store.py): a local image is imported once, named by its
sha256, and mapped from there by every run; the user's file is never mapped, and a
file rewritten in place is imported again under its new name."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xax_emu.image import pack_image
from xax_emu.launch.store import ImageStore


@pytest.fixture
def image(build, tmp_path):
    program = build("programs/hello.c")
    manifest = tmp_path / "hello.toml"
    manifest.write_text('[app]\nname = "hello"\nentry = "/bin/hello"\nargs = ["stored"]\ncwd = "/"\n'
                        f'profile = "static-libc"\n\n[files]\n"/bin/hello" = "{program}"\n')
    out = tmp_path / "hello.tar"
    pack_image(str(manifest), str(out))
    return out


def run(image: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, "-m", "xax_emu", "run", *extra, str(image)], capture_output=True,
                          env=env, timeout=120)


def store_files(cache: Path) -> list[Path]:
    d = cache / "xax-emu" / "images"
    return sorted(p for p in d.iterdir() if len(p.name) == 64) if d.exists() else []


def test_a_local_image_is_imported_once_and_mapped_from_the_store(image, tmp_path):
    cache = tmp_path / "cache"
    first = run(image, cache)
    assert first.returncode == 0 and b"argv[1] = stored" in first.stdout, first.stderr
    (stored,) = store_files(cache)
    import hashlib
    assert stored.name == hashlib.sha256(image.read_bytes()).hexdigest()
    assert stored.read_bytes() == image.read_bytes() and stored.stat().st_mode & 0o777 == 0o444
    inode = stored.stat().st_ino
    second = run(image, cache)
    assert second.stdout == first.stdout and store_files(cache) == [stored] and stored.stat().st_ino == inode


def test_the_running_picoprocess_maps_the_store_copy_not_the_users_file(image, tmp_path):
    """What the picoprocess holds at the image fd is the store file (seen from outside,
    in /proc/PID/maps of the running picoprocess, by its inode)."""
    from xax_emu.launch.program import resolve
    from xax_emu.launch.request import Request, start_kwargs
    from xax_emu.monitor import Limits, Monitor, Stdio
    store = ImageStore(tmp_path / "store")
    prog = resolve(str(image), None, store=store)
    assert prog.image.kind == "store"
    store_ino, user_ino = os.fstat(prog.image.fd).st_ino, image.stat().st_ino
    assert store_ino != user_ino
    with Monitor(log=lambda line: None) as monitor:
        pico = monitor.start(**start_kwargs(Request(prog, [], [], limits={"wall_seconds": 30})),
                             stdio=Stdio(stdout=lambda b: None, stderr=lambda b: None, stdin_bytes=b""))
        maps = open(f"/proc/{pico.pid}/maps").read()
        monitor.run_until_done([pico])
    inodes = {int(line.split()[4]) for line in maps.splitlines() if len(line.split()) > 5}
    assert user_ino not in inodes


def test_a_file_rewritten_in_place_is_imported_again(image, tmp_path):
    cache = tmp_path / "cache"
    assert run(image, cache).returncode == 0
    data = image.read_bytes()
    with open(image, "r+b") as f:  # same size, same inode: only a byte (and the change time) differs
        f.seek(len(data) - 1)
        f.write(b"\x01")
    second = run(image, cache)
    # the new bytes were imported and checked (the end-of-archive block is no longer zeros),
    # not the store's copy of the old ones
    assert second.returncode == 2 and b"one zero block, not the two that end an archive" in second.stderr
    assert len(store_files(cache)) == 2
    with open(image, "r+b") as f:
        f.seek(len(data) - 1)
        f.write(data[-1:])
    third = run(image, cache)
    assert third.returncode == 0 and len(store_files(cache)) == 2  # the same bytes as the first: the same name


def test_no_cache_uses_a_sealed_copy_and_a_full_store_is_evicted(image, tmp_path):
    cache = tmp_path / "cache"
    assert run(image, cache, "--no-cache").returncode == 0
    assert store_files(cache) == []
    store = ImageStore(tmp_path / "small", cap=1)
    from xax_emu.launch.program import resolve
    for i in range(3):
        copy = tmp_path / f"copy{i}.tar"
        copy.write_bytes(image.read_bytes() + b"\0" * 512 * (i + 1))
        resolve(str(copy), None, store=store).image.close()
    kept = [p for p in (tmp_path / "small").iterdir() if len(p.name) == 64]
    assert len(kept) == 1  # over the cap, all but the newest went
    by_file = list((tmp_path / "small" / "by-file").iterdir())
    assert all(json.loads(p.read_text())["sha256"] for p in by_file)


def test_a_store_that_cannot_be_used_is_named_and_the_run_still_answers(image, tmp_path):
    """No silent fallback: a cache directory that cannot hold the store (here a regular file
    stands where its directory would be) costs a copy in memory, and the run says so."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "xax-emu").write_text("not a directory")
    result = run(image, cache)
    assert result.returncode == 0 and b"argv[1] = stored" in result.stdout, result.stderr
    line, = [l for l in result.stderr.decode().splitlines() if "image store" in l]
    assert line.startswith("xax-emu: the image store ") and str(cache / "xax-emu" / "images") in line
    assert "Not a directory" in line and f"{image} is copied into memory for this run" in line
