"""The image fd: the one widening of the seal for "map, don't copy".  The filter
lets a picoprocess map fd protocol.IMAGE_FD privately (seal/allowlist.py); a
hostile program tries everything else with it, and every allowed form, in each
way the Monitor hands an image over: a bare program's --fs-image and a local app
image (sealed memfd copies), and an app image from the HTTP cache (the cache's
own file, whose bytes and times must not change).  The canary and the loopback
listener stay untouched (hostile_support)."""
import errno
from pathlib import Path

from hostile_support import hostile, parse
from loopback import HttpOrigin
from test_hostile import EMULATED, MISSING, traced
from xax_emu.image import pack_image
from xax_emu.monitor.fetch import HttpCache
from xax_emu.launch.program import resolve

EBADF, EINVAL, ENOMEM, ENOSYS = -errno.EBADF, -errno.EINVAL, -errno.ENOMEM, -errno.ENOSYS
UAPI = ["-idirafter", "/usr/include", "-idirafter", "/usr/include/x86_64-linux-gnu"]

ALLOWED = {"private_read": 1, "is_the_tar": 1, "private_rw": 1, "private_write_stays": 1, "dontneed": 0,
           "dontneed_shows_the_image": 1, "mprotect_rw": 0, "exec": 1, "fixed": 1, "populate": 1,
           "junk_above_the_fd": 1, "private_read_after_close": 1, "intact": 1}
TRAPPED = {"shared_read": EBADF, "shared_rw": EBADF, "shared_validate": EBADF, "shared_junk_above_the_fd": EBADF,
           "private_stack": EBADF, "private_growsdown": EINVAL, "private_32bit": EINVAL, "private_locked": EINVAL,
           "private_hugetlb": ENOMEM, "private_flags_upper_bit": EINVAL, "prot_sem": EINVAL, "fd_below": EBADF,
           "fd_above": EBADF, "fd_channel": EBADF, "read": EBADF, "pread": EBADF, "write": EBADF, "pwrite": EBADF,
           "ftruncate": EBADF, "fallocate_punch_hole": ENOSYS, "fcntl_add_seals": EBADF, "fcntl_getfl": EBADF,
           "fstat": EBADF, "dup": EBADF, "dup2_onto": EBADF, "madvise_remove": ENOSYS, "close": EBADF}


def check(r) -> None:
    assert (r.code, r.report.reason) == (0, None), (r.report, r.stderr)
    assert parse(r.stdout) == {**ALLOWED, **TRAPPED}
    emulated, missing = traced(r, EMULATED), traced(r, MISSING)
    # The 14 refused mmaps reached the layer; the allowed ones never did (the program's libc maps nothing).
    assert emulated.get("mmap", 0) == 14, emulated
    assert {n: emulated.get(n, 0) for n in ("read", "pread64", "pwrite64", "ftruncate", "fstat", "dup", "dup2",
                                            "close")} == {"read": 1, "pread64": 1, "pwrite64": 1, "ftruncate": 1,
                                                          "fstat": 1, "dup": 1, "dup2": 1, "close": 1}
    assert emulated["fcntl"] >= 2 and emulated["write"] >= 1
    assert missing == {"fallocate": 1, "madvise": 1}


def image_of(program: Path) -> Path:
    out = program.parent / f"{program.name}.tar"
    manifest = program.parent / f"{program.name}.toml"
    manifest.write_text(f'[app]\nname = "hostile"\nentry = "/bin/hostile"\nargs = []\ncwd = "/"\n'
                        f'profile = "static-libc"\n\n[files]\n"/bin/hostile" = "{program}"\n')
    pack_image(str(manifest), str(out))
    return out


def test_image_fd_of_a_bare_program(build, tmp_path):
    r = hostile(build, tmp_path, "image_fd.c", trace_all=True, extra=UAPI,
                fs_image=image_of(build("hostile/image_fd.c", "musl", UAPI)).read_bytes())
    check(r)


def test_image_fd_of_a_local_image(build, tmp_path):
    r = hostile(build, tmp_path, "image_fd.c", trace_all=True, extra=UAPI, wrap=lambda prog: str(image_of(prog)))
    check(r)


def test_image_fd_of_an_image_from_the_cache(build, tmp_path):
    """The picoprocess maps the cache's own body file: after the attacks its bytes,
    size and times are what they were."""
    cache = HttpCache(tmp_path / "cache")
    seen = {}

    def wrap(prog: Path) -> str:
        origin.add("/hostile.tar", image_of(prog).read_bytes(), Cache_Control="max-age=600")
        url = f"{origin.base}/hostile.tar"
        assert resolve(url, None, cache).image.kind == "memfd"  # downloaded, and now cached
        assert resolve(url, None, cache).image.kind == "cache"  # as hostile() will resolve it
        body = cache._paths(url)[0]
        seen.update(file=body, bytes=body.read_bytes(), stat=body.stat())
        return url

    with HttpOrigin() as origin:
        r = hostile(build, tmp_path, "image_fd.c", trace_all=True, extra=UAPI, wrap=wrap, cache=cache)
        assert len([s for s in origin.requests if s.path == "/hostile.tar"]) == 1
    check(r)
    after = seen["file"].stat()
    assert seen["file"].read_bytes() == seen["bytes"]
    assert (after.st_ino, after.st_size, after.st_mtime_ns, after.st_ctime_ns) == (
        seen["stat"].st_ino, seen["stat"].st_size, seen["stat"].st_mtime_ns, seen["stat"].st_ctime_ns)
