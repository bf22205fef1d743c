"""The record of validated images (launch/validated.py): a run of bytes the Monitor
has validated before skips the member-by-member validation; any other bytes — the
same path rewritten, the same name and times — are validated in full again, and a
record that does not fit the image is a miss, never a pass."""
import ast
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from image_support import file_info, image, member
from loopback import HttpOrigin
from xax_emu.launch import program as program_module
from xax_emu.errors import ProgramError
from xax_emu.launch import validated as validated_module
from xax_emu.monitor.fetch import HttpCache
from xax_emu.launch.imagefile import COPY_CHUNK, ImageFile
from xax_emu.launch.validated import ValidatedImages, validator_id
from xax_emu.launch.program import resolve

ROOT = Path(__file__).resolve().parent.parent
DATA = b"the data file\n" * 100


def good_image(data: bytes = DATA) -> bytes:
    return image([member("data/", typeflag=b"5"), member("data/f.txt", data)],
                 listed={"/data/f.txt": file_info(data)})


@pytest.fixture
def full_runs(monkeypatch):
    """How many times program.resolve ran validate() in full."""
    calls = []
    real = program_module.validate

    def counting(source, *args, **kwargs):
        calls.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(program_module, "validate", counting)
    return calls


def records(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.json"))


def test_a_second_run_of_the_same_bytes_is_not_validated_again(tmp_path, full_runs):
    path = tmp_path / "app.tar"
    path.write_bytes(good_image())
    seen = ValidatedImages(tmp_path / "validated")
    first = resolve(str(path), None, validated=seen)
    assert len(full_runs) == 1
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert first.image.sha256 == digest  # of the memfd's bytes, which are the file's here
    (record,) = records(tmp_path / "validated")
    assert record.name == f"{digest}.json" and record.parent.name == validator_id()[:32]
    second = resolve(str(path), None, validated=seen)
    assert len(full_runs) == 1  # only the metadata was read and checked again
    assert second.meta == first.meta and second.pal_settings == first.pal_settings
    assert second.image.sha256 == digest and os.pread(second.image.fd, 1 << 20, 0) == path.read_bytes()


def test_without_a_record_every_run_validates_in_full(tmp_path, full_runs):
    path = tmp_path / "app.tar"
    path.write_bytes(good_image())
    resolve(str(path), None)
    resolve(str(path), None)
    assert len(full_runs) == 2


def test_the_same_path_rewritten_in_place_is_validated_again_and_refused(tmp_path, full_runs):
    """Hostile: the image validated once (a record exists), then one byte of a member's
    data changed in place — same path, same inode, same size, same mtime.  The record
    is of the old bytes: the new ones are validated in full and refused."""
    path = tmp_path / "app.tar"
    good = good_image()
    path.write_bytes(good)
    seen = ValidatedImages(tmp_path / "validated")
    resolve(str(path), None, validated=seen)
    st = path.stat()
    bad = bytearray(good)
    at = bytes(good).index(DATA)
    bad[at] ^= 0x20
    with open(path, "r+b") as f:
        f.write(bad)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_ino == st.st_ino and path.stat().st_mtime_ns == st.st_mtime_ns
    with pytest.raises(ProgramError, match="does not match the size and sha256"):
        resolve(str(path), None, validated=seen)
    assert len(full_runs) == 2
    assert [r.stem for r in records(tmp_path / "validated")] == [hashlib.sha256(good).hexdigest()]  # no record of bad
    path.write_bytes(good)  # the old bytes again: the record applies again
    resolve(str(path), None, validated=seen)
    assert len(full_runs) == 2


def test_other_good_bytes_under_the_same_name_get_their_own_record(tmp_path, full_runs):
    path = tmp_path / "app.tar"
    seen = ValidatedImages(tmp_path / "validated")
    for data in (DATA, DATA.upper()):
        path.write_bytes(good_image(data))
        resolve(str(path), None, validated=seen)
    assert len(full_runs) == 2
    assert len(records(tmp_path / "validated")) == 2


def test_a_failed_validation_leaves_no_record(tmp_path):
    path = tmp_path / "bad.tar"
    bad = bytearray(good_image())
    bad[bytes(bad).index(DATA)] ^= 1
    path.write_bytes(bad)
    with pytest.raises(ProgramError, match="not a usable image"):
        resolve(str(path), None, validated=ValidatedImages(tmp_path / "validated"))
    assert records(tmp_path) == []


@pytest.mark.parametrize("edit", [
    lambda e: e.update(meta_offset=0),                    # the tar header, not JSON: the metadata does not check
    lambda e: e.update(meta_offset=e["meta_offset"] + 1),  # the JSON cut
    lambda e: e.update(size=e["size"] + 1),               # another size: not this image's record
    lambda e: e.update(meta_size=-1),
    lambda e: e.update(meta_offset=True),
    lambda e: e.update(sha256="0" * 64),
    lambda e: e.clear(),
])
def test_a_record_that_does_not_fit_is_a_miss(tmp_path, full_runs, edit):
    path = tmp_path / "app.tar"
    path.write_bytes(good_image())
    seen = ValidatedImages(tmp_path / "validated")
    resolve(str(path), None, validated=seen)
    (record,) = records(tmp_path / "validated")
    entry = json.loads(record.read_text())
    edit(entry)
    record.write_text(json.dumps(entry))
    again = resolve(str(path), None, validated=seen)
    assert len(full_runs) == 2 and again.meta["app"]["entry"] == "/bin/app"


def test_a_record_that_is_not_json_is_a_miss(tmp_path, full_runs):
    path = tmp_path / "app.tar"
    path.write_bytes(good_image())
    seen = ValidatedImages(tmp_path / "validated")
    resolve(str(path), None, validated=seen)
    (record,) = records(tmp_path / "validated")
    record.write_bytes(b"\xff" * 10000)
    resolve(str(path), None, validated=seen)
    assert len(full_runs) == 2


def test_records_of_another_validator_are_never_read(tmp_path, full_runs, monkeypatch):
    path = tmp_path / "app.tar"
    path.write_bytes(good_image())
    seen = ValidatedImages(tmp_path / "validated")
    resolve(str(path), None, validated=seen)
    monkeypatch.setattr(validated_module, "validator_id", lambda: "f" * 64)  # a rule changed
    resolve(str(path), None, validated=seen)
    assert len(full_runs) == 2
    assert len(records(tmp_path / "validated")) == 2  # one per validator


def _image_modules_imported_by(module: str, seen: set[str]) -> None:
    if module in seen:
        return
    seen.add(module)
    tree = ast.parse((ROOT / "xax_emu" / "image" / module).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            _image_modules_imported_by(node.module.split(".")[0] + ".py", seen)


def test_the_validator_id_covers_every_module_validate_uses():
    """A rule changed in any module validate() runs must change the id, or old records
    would vouch for images the new rules refuse."""
    used: set[str] = set()
    _image_modules_imported_by("validate.py", used)
    assert used <= set(validated_module._VALIDATOR_SOURCES), used - set(validated_module._VALIDATOR_SOURCES)
    assert validator_id() is not None and len(validator_id()) == 64


def test_an_image_from_the_http_cache_is_recorded_by_the_body_it_was_checked_as(tmp_path, full_runs):
    body = good_image()
    cache = HttpCache(tmp_path / "http")
    seen = ValidatedImages(tmp_path / "validated")
    with HttpOrigin() as origin:
        origin.add("/app.tar", body, Cache_Control="max-age=600")
        first = resolve(f"{origin.base}/app.tar", None, cache, validated=seen)   # downloaded
        second = resolve(f"{origin.base}/app.tar", None, cache, validated=seen)  # from the cache
    assert (first.image.kind, second.image.kind) == ("memfd", "cache")
    assert len(full_runs) == 1
    assert first.image.sha256 == second.image.sha256 == hashlib.sha256(body).hexdigest()
    assert second.meta == first.meta


def test_a_corrupt_http_cache_body_is_not_served_by_its_record(tmp_path, full_runs):
    """The cache's body file rewritten behind its back: the cache sees the sha256
    differ and downloads again; the record is never consulted for the bad bytes."""
    body = good_image()
    cache = HttpCache(tmp_path / "http")
    seen = ValidatedImages(tmp_path / "validated")
    with HttpOrigin() as origin:
        origin.add("/app.tar", body, Cache_Control="max-age=600")
        url = f"{origin.base}/app.tar"
        resolve(url, None, cache, validated=seen)
        body_file, _ = cache._paths(url)
        bad = bytearray(body)
        bad[body.index(DATA)] ^= 1
        body_file.write_bytes(bad)
        again = resolve(url, None, cache, validated=seen)
        assert len([r for r in origin.requests if r.path == "/app.tar"]) == 2
    assert os.pread(again.image.fd, len(body) + 1, 0) == body


@pytest.mark.parametrize("size", [0, 1, 511, COPY_CHUNK - 1, COPY_CHUNK, COPY_CHUNK + 1, 5 * COPY_CHUNK + 4097])
def test_the_copy_is_hashed_as_written(tmp_path, size):
    data = os.urandom(size)
    path = tmp_path / "f"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        img = ImageFile.copy_of_file(str(path), fd)
    finally:
        os.close(fd)
    assert img.size == size and os.pread(img.fd, size + 1, 0) == data
    assert img.sha256 == hashlib.sha256(data).hexdigest()


def test_the_digest_is_of_the_memfd_even_while_the_file_is_rewritten(tmp_path):
    """Hostile: the file's bytes change throughout the copy.  Whatever the memfd got,
    the digest is of exactly those bytes (the buffer hashed is the buffer written)."""
    size = 6 * COPY_CHUNK + 123
    path = tmp_path / "f"
    path.write_bytes(bytes(size))
    stop = threading.Event()

    def scribble() -> None:
        with open(path, "r+b", buffering=0) as f:
            n = 0
            while not stop.is_set():
                n += 1
                f.seek((n * 7919 * 4096) % size)
                f.write(os.urandom(4096))

    writer = threading.Thread(target=scribble)
    writer.start()
    try:
        for _ in range(20):
            fd = os.open(path, os.O_RDONLY)
            try:
                img = ImageFile.copy_of_file(str(path), fd)
            finally:
                os.close(fd)
            got = os.pread(img.fd, img.size + 1, 0)  # (the writes may have grown the file)
            assert len(got) == img.size == os.fstat(img.fd).st_size
            assert img.sha256 == hashlib.sha256(got).hexdigest()
            img.close()
    finally:
        stop.set()
        writer.join()


def _cli_run(tmp_path: Path, image_path: Path, *options: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg"), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "xax_emu", "run", *options, str(image_path)],
                          capture_output=True, env=env, timeout=60)


def test_run_records_a_validated_image_and_no_cache_does_not(tmp_path):
    """The image's layer is a fake (its program never starts): what matters is that
    it was validated, and where that was written down."""
    path = tmp_path / "app.tar"
    path.write_bytes(good_image())
    _cli_run(tmp_path, path, "--no-cache")
    assert records(tmp_path / "xdg") == []
    _cli_run(tmp_path, path)
    (record,) = records(tmp_path / "xdg" / "xax-emu" / "validated")
    assert record.stem == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_fifo_where_a_record_would_be_is_a_miss_not_a_hang(tmp_path, full_runs):
    path = tmp_path / "app.tar"
    path.write_bytes(good_image())
    seen = ValidatedImages(tmp_path / "validated")
    resolve(str(path), None, validated=seen)
    (record,) = records(tmp_path / "validated")
    record.unlink()
    os.mkfifo(record)
    resolve(str(path), None, validated=seen)
    assert len(full_runs) == 2


def test_a_memfd_that_cannot_be_sealed_is_an_error_not_an_unsealed_image():
    """F_SEAL_WRITE is retried on EBUSY a bounded number of times, then the error
    stands: here a writable shared mapping keeps it EBUSY for good."""
    import errno
    import mmap

    from xax_emu.launch.imagefile import _memfd

    fd = _memfd("t")
    try:
        os.write(fd, bytes(4096))
        m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        try:
            with pytest.raises(OSError) as e:
                ImageFile._sealed(fd, 4096)
            assert e.value.errno == errno.EBUSY
        finally:
            m.close()
    finally:
        os.close(fd)
