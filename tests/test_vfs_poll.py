"""Readiness (vfs_poll, each kind's poll hook) compared with what this machine's Linux gives poll(2)
for the same kind of file in the same state, asking for every bit: files and directories, the
devices, /proc's files, pipes (empty, with data, nearly full, without a reader or a writer), unix
sockets connected to nothing, fds that are not open or O_PATH.  A stdio channel's readiness is
the Monitor's: the answer names the channel to ask."""
import os
import select
import socket

import pytest

from vfs_support import Entry, build_tar
from xax_emu.vfs._host import HostVfs

# every bit poll takes from a program (POLLIN .. POLLMSG, POLLRDHUP)
ALL = (select.POLLIN | select.POLLPRI | select.POLLOUT | select.POLLRDNORM | select.POLLRDBAND |
       select.POLLWRNORM | select.POLLWRBAND | select.POLLMSG | select.POLLRDHUP)
TREE = [Entry(("data",), "dir", 0o755), Entry(("data", "f.txt"), "file", 0o644, data=b"abcdef")]


def native(fd: int, events: int = ALL) -> int:
    p = select.poll()
    p.register(fd, events)
    got = p.poll(0)
    return got[0][1] if got else 0


@pytest.fixture
def v():
    vfs = HostVfs(uid=1000, gid=1000)
    assert vfs.stdio() == 0
    assert vfs.mount_tar("/", build_tar(TREE)) == 0
    assert vfs.mount_ram("/tmp", 1 << 20) == 0
    assert vfs.mount_dev("/dev") == 0
    assert vfs.mount_proc("/proc", 100, None) == 0
    yield vfs
    vfs.close()


def ours(v, fd: int, events: int = ALL) -> int:
    revents, chan = v.poll(fd, events)
    assert chan == -1
    return revents


@pytest.mark.parametrize("path,native_path", [
    ("/data/f.txt", "/etc/hostname"), ("/data", "/etc"), ("/dev/null", "/dev/null"), ("/dev/zero", "/dev/zero"),
    ("/dev/full", "/dev/full"), ("/dev/random", "/dev/random"), ("/dev/urandom", "/dev/urandom"),
    ("/proc/loadavg", "/proc/loadavg"), ("/proc/stat", "/proc/stat"), ("/proc", "/proc")])
def test_files_and_devices_as_linux(v, path, native_path):
    fd = v.open(path, os.O_RDONLY)
    assert fd >= 0
    nfd = os.open(native_path, os.O_RDONLY)
    try:
        assert ours(v, fd) == native(nfd), path
    finally:
        os.close(nfd)


def test_a_ram_disk_file_open_for_writing_as_a_tmpfs_file(v, tmp_path):
    fd = v.open("/tmp/new", os.O_CREAT | os.O_RDWR, 0o600)
    nfd = os.open("/dev/shm" if os.path.isdir("/dev/shm") else tmp_path, os.O_TMPFILE | os.O_RDWR, 0o600)
    try:
        assert ours(v, fd) == native(nfd) == select.POLLIN | select.POLLOUT | select.POLLRDNORM | select.POLLWRNORM
    finally:
        os.close(nfd)


def _fill(fd_write, n: int, write) -> None:
    while n:
        k = write(fd_write, b"x" * min(n, 4096))
        assert k > 0
        n -= k


@pytest.mark.parametrize("written", [0, 1, 4096, 61440, 61441, 65536])
def test_pipe_ends_as_linux(v, written):
    r, w = v.pipe2()
    nr, nw = os.pipe()
    try:
        _fill(w, written, v.write)
        _fill(nw, written, os.write)
        assert (ours(v, r), ours(v, w)) == (native(nr), native(nw)), f"{written} bytes in the pipe"
    finally:
        os.close(nr)
        os.close(nw)


@pytest.mark.parametrize("data", [b"", b"left"])
def test_pipe_read_end_without_a_writer_as_linux(v, data):
    r, w = v.pipe2()
    nr, nw = os.pipe()
    try:
        if data:
            assert v.write(w, data) == os.write(nw, data)
        assert v.close_fd(w) == 0
        os.close(nw)
        assert ours(v, r) == native(nr)
        assert ours(v, r, select.POLLOUT) == native(nr, select.POLLOUT)  # the hang-up, whatever was asked
    finally:
        os.close(nr)


def test_pipe_write_end_without_a_reader_as_linux(v):
    r, w = v.pipe2()
    nr, nw = os.pipe()
    try:
        assert v.close_fd(r) == 0
        os.close(nr)
        assert ours(v, w) == native(nw)
        assert ours(v, w, select.POLLIN) == native(nw, select.POLLIN) == select.POLLERR
    finally:
        os.close(nw)


def test_what_was_not_asked_is_not_answered(v):
    r, w = v.pipe2()
    assert v.write(w, b"x") == 1
    assert ours(v, r, select.POLLOUT) == 0
    assert ours(v, r, select.POLLIN) == select.POLLIN
    assert ours(v, w, 0) == 0


@pytest.mark.parametrize("kind", [socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET])
def test_unconnected_unix_sockets_as_linux(v, kind):
    fd = v.socket(socket.AF_UNIX, kind)
    assert fd >= 0
    with socket.socket(socket.AF_UNIX, kind) as s:
        assert ours(v, fd) == native(s.fileno())


def test_fds_not_open_and_o_path_are_pollnval(v, tmp_path):
    assert ours(v, 99) == native(_closed_fd()) == select.POLLNVAL
    fd = v.open("/data/f.txt", os.O_PATH)
    nfd = os.open("/etc/hostname", os.O_PATH)
    try:
        assert ours(v, fd) == native(nfd) == select.POLLNVAL
    finally:
        os.close(nfd)


def _closed_fd() -> int:
    fd = os.open("/dev/null", os.O_RDONLY)
    os.close(fd)
    return fd


def test_stdio_channels_are_asked_of_the_monitor(v):
    for fd in (0, 1, 2):
        assert v.poll(fd, ALL) == (0, fd)
    dup = v.dup(1)
    assert v.poll(dup, ALL) == (0, 1)
    again = v.open("/dev/stdin", os.O_RDONLY)  # the channel opened again through its node
    assert again >= 0 and v.poll(again, ALL) == (0, 0)
