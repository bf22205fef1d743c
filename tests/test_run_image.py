"""`xax-emu run IMAGE`: the article's loader — xabi_args() names the image, the
Monitor hands it over as the image fd, the PAL loads the layer it carries and starts
its entry — for the example apps packed from images/, locally and from an origin."""
import hashlib
import subprocess
import sys

import pytest

from xax_emu.image import pack_image

from conftest import run_native, run_pico
from image_support import build_example
from loopback import HttpOrigin

TEXT = b"".join(b"line %d of the text to hash\n" % i for i in range(20000))


@pytest.fixture(scope="module")
def sha1sum_image(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sha1sum")
    manifest = build_example("sha1sum", tmp)
    out = tmp / "sha1sum.tar"
    pack_image(str(manifest), str(out))
    return out, manifest.parent / "build" / "sha1sum"


@pytest.fixture(scope="module")
def tarram_image(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tarram")
    manifest = build_example("tarram", tmp)
    out = tmp / "tarram.tar"
    pack_image(str(manifest), str(out))
    return out, manifest.parent


def cli(*args, stdin=b"", env=None):
    return subprocess.run([sys.executable, "-m", "xax_emu", "run", *args], input=stdin, capture_output=True,
                          timeout=120, env=env)


def test_sha1sum_image_matches_native(sha1sum_image):
    image, program = sha1sum_image
    native = run_native(program, stdin=TEXT)
    r = cli(str(image), stdin=TEXT)
    assert r.returncode == native.returncode == 0, r.stderr
    assert r.stdout == native.stdout
    assert r.stdout.split()[0].decode() == hashlib.sha1(TEXT).hexdigest()


def test_sha1sum_image_from_an_origin(sha1sum_image, tmp_path):
    image, _ = sha1sum_image
    with HttpOrigin() as origin:
        origin.add("/apps/sha1sum.tar", image.read_bytes())
        r = cli(f"{origin.base}/apps/sha1sum.tar", stdin=b"abc", env={"XDG_CACHE_HOME": str(tmp_path),
                                                                      "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == hashlib.sha1(b"abc").hexdigest()


def test_tarram_image_reads_the_image_and_writes_the_ram_disk(tarram_image):
    image, source = tarram_image
    r = run_pico(image)
    assert r.code == 0, (r.report, r.stderr)
    words = (source / "data" / "words.txt").read_bytes()
    listing = " ".join(sorted(p.name for p in (source / "data").iterdir()))
    assert r.stdout.decode() == (f"/data/words.txt: {words.count(10)} lines, {len(words.split())} words, "
                                 f"{len(words)} bytes\n/data: {listing}\n")


def test_image_arguments_and_limits(tarram_image):
    image, _ = tarram_image
    r = run_pico(image, ["/data/nothing.txt"])
    assert r.code == 1
    assert b"/data/nothing.txt: No such file or directory" in r.stderr


def test_profile_option_is_refused_for_an_image(sha1sum_image):
    image, _ = sha1sum_image
    r = cli("--profile", "static-libc", str(image))
    assert r.returncode == 2
    assert b"an image carries its own profile and files" in r.stderr


def test_a_damaged_image_is_refused_with_one_line(sha1sum_image, tmp_path):
    image, _ = sha1sum_image
    data = bytearray(image.read_bytes())
    data[600] ^= 0xFF  # inside the metadata: its sha256 or JSON no longer holds
    bad = tmp_path / "bad.tar"
    bad.write_bytes(bytes(data))
    r = cli(str(bad))
    assert r.returncode == 2
    assert r.stderr.count(b"\n") == 1 and b"not a usable image" in r.stderr
