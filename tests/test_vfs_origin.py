"""Origin routes of the C VFS: fetched whole on first use through env->fetch, kept for later opens,
sha256-pinned when declared, read-only; failures are ENOENT or EIO and are not kept."""
import errno as E
import hashlib
import os
import stat

import pytest

from xax_emu.vfs._host import HostVfs

FILES = {
    "/app/data/a.txt": b"alpha",
    "/app/data/sub/b.bin": bytes(range(256)) * 20,
    "/app/data/empty": b"",
    "/app/data/we ird?#%.txt": b"weird",
}


class Server:
    def __init__(self, files):
        self.files = dict(files)
        self.asked = []

    def __call__(self, url):
        self.asked.append(url)
        if url == "http://o/app/data/broken":
            return -E.EIO
        if url == "http://o/app/data/raises":
            raise RuntimeError("the fetcher failed")
        path = url.removeprefix("http://o")
        from urllib.parse import unquote
        return self.files.get(unquote(path), -E.ENOENT)


@pytest.fixture
def srv():
    return Server(FILES)


@pytest.fixture
def v(srv):
    vfs = HostVfs(fetch=srv)
    assert vfs.mount_origin("/data", "http://o/app/data/") == 0
    yield vfs
    vfs.close()


def read_all(v, path):
    fd = v.open(path)
    if fd < 0:
        return fd
    out = v.read(fd, 1 << 20)
    v.close_fd(fd)
    return out


def test_fetched_on_first_open_and_kept(v, srv):
    assert srv.asked == []
    assert read_all(v, "/data/a.txt") == b"alpha"
    assert read_all(v, "/data/a.txt") == b"alpha"
    assert srv.asked == ["http://o/app/data/a.txt"]
    st = v.stat("/data/a.txt")
    assert st.mode == stat.S_IFREG | 0o444 and st.size == 5
    assert srv.asked == ["http://o/app/data/a.txt"]


def test_nested_paths_and_directories_known_after_a_fetch(v, srv):
    assert read_all(v, "/data/sub/b.bin") == FILES["/app/data/sub/b.bin"]
    assert srv.asked == ["http://o/app/data/sub/b.bin"]
    assert v.stat("/data/sub").mode == stat.S_IFDIR | 0o555
    assert v.listdir("/data") == [b"sub"] and v.listdir("/data/sub") == [b"b.bin"]
    assert read_all(v, "/data/./sub//../a.txt") == b"alpha"
    assert v.chdir("/data/sub") == 0 and read_all(v, "../a.txt") == b"alpha" and v.getcwd() == "/data/sub"


def test_stat_fetches(v, srv):
    assert v.stat("/data/empty").size == 0
    assert srv.asked == ["http://o/app/data/empty"]
    assert read_all(v, "/data/empty") == b""


def test_missing_and_failing_files_are_not_kept(v, srv):
    assert v.open("/data/nope") == -E.ENOENT
    assert v.open("/data/nope") == -E.ENOENT
    assert srv.asked.count("http://o/app/data/nope") == 2
    assert v.open("/data/broken") == -E.EIO
    assert v.open("/data/raises") == -E.EIO
    assert v.stat("/data/no/such/dir/f") == -E.ENOENT
    assert v.listdir("/data") == []  # nothing made for what failed


def test_names_are_percent_encoded(v, srv):
    assert read_all(v, "/data/we ird?#%.txt") == b"weird"
    assert srv.asked == ["http://o/app/data/we%20ird%3F%23%25.txt"]


def test_origin_routes_are_read_only(v):
    assert v.open("/data/a.txt", os.O_WRONLY) == -E.EROFS
    assert v.open("/data/new", os.O_CREAT | os.O_WRONLY) == -E.EROFS
    assert v.open("/data/x/new", os.O_CREAT | os.O_WRONLY) == -E.EROFS
    assert v.mkdir("/data/d") == -E.EROFS and v.mkdir("/data/x/d") == -E.EROFS
    assert v.unlink("/data/a.txt") == -E.EROFS
    assert v.access("/data/a.txt", os.W_OK) == -E.EROFS and v.access("/data/a.txt", os.R_OK) == 0
    assert v.stat("/data/a.txt/") == -E.ENOTDIR and v.stat("/data/x/.") == -E.ENOENT


def test_sha256_pins(srv):
    v = HostVfs(fetch=srv)
    assert v.mount_origin("/data", "http://o/app/data/") == 0
    assert v.pin_sha256("/data", "a.txt", hashlib.sha256(b"alpha").digest()) == 0
    assert v.pin_sha256("/data", "./sub//b.bin", hashlib.sha256(b"not it").digest()) == 0
    assert v.pin_sha256("/data", "../x", bytes(32)) == -E.EINVAL
    assert v.pin_sha256("/nope", "a", bytes(32)) == -E.ENOENT
    assert read_all(v, "/data/a.txt") == b"alpha"
    assert v.open("/data/sub/b.bin") == -E.EIO  # mismatch: refused, and not kept
    assert v.open("/data/sub/b.bin") == -E.EIO
    assert srv.asked.count("http://o/app/data/sub/b.bin") == 2
    assert v.stat("/data/sub") == -E.ENOENT
    v.close()


def test_no_fetcher_means_eio():
    v = HostVfs()
    assert v.mount_origin("/o", "http://o/") == 0
    assert v.open("/o/x") == -E.EIO
    v.close()


def test_routes_inside_an_origin_route_and_deny(srv):
    v = HostVfs(fetch=srv)
    assert v.mount_origin("/data", "http://o/app/data/") == 0
    assert v.mount_deny("/data/sub") == 0
    assert v.open("/data/sub/b.bin") == -E.ENOENT  # denied: never fetched
    assert all("sub" not in u for u in srv.asked)
    v.close()


def test_o_creat_opens_a_file_the_origin_has(v, srv):
    fd = v.open("/data/sub/b.bin", os.O_CREAT | os.O_RDONLY)
    assert fd >= 0 and v.read(fd, 3) == bytes(range(3))
    assert v.open("/data/sub/none", os.O_CREAT | os.O_RDONLY) == -E.EROFS
    assert v.open("/data/x/y/", os.O_CREAT | os.O_RDONLY) == -E.EISDIR
