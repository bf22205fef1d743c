"""The C VFS, call by call: routes, path resolution and each errno it must give (as Linux does)."""
import errno as E
import os
import socket
import stat
import struct

import pytest

from vfs_support import Entry, build_tar
from xax_emu.vfs._host import AT_FDCWD, HostVfs, sha256

AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_EMPTY_PATH = 0x100, 0x200, 0x1000
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC = 0, 1, 2, 3, 4, 1030
RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT = 1, 2, 4
O = os
O_LARGEFILE = 0o100000  # Python's os.O_LARGEFILE is 0 on 64-bit

TREE = [
    Entry(("etc",), "dir", 0o755),
    Entry(("etc", "passwd"), "file", 0o644, data=b"root:x:0:0\n"),
    Entry(("etc", "secret"), "file", 0o000, data=b"s"),
    Entry(("bin",), "dir", 0o755),
    Entry(("bin", "sh"), "file", 0o755, data=b"\x7fELF" + bytes(100)),
    Entry(("usr",), "dir", 0o755),
    Entry(("usr", "lib"), "dir", 0o755),
    Entry(("usr", "lib", "libc.so.6"), "file", 0o644, data=b"libc"),
    Entry(("usr", "lib", "libc.so"), "link", target="libc.so.6"),
    Entry(("lib",), "link", target="usr/lib"),
    Entry(("abs",), "link", target="/etc/passwd"),
    Entry(("escape",), "link", target="../../../../etc"),
    Entry(("loop",), "link", target="loop"),
    Entry(("dangling",), "link", target="nowhere"),
    Entry(("closed",), "dir", 0o000),
    Entry(("closed", "inside"), "file", 0o644, data=b"i"),
]


@pytest.fixture
def v():
    vfs = HostVfs(uid=1000, gid=1000)
    assert vfs.mount_tar("/", build_tar(TREE)) == 0
    assert vfs.mount_ram("/tmp", 1 << 16) == 0
    assert vfs.mount_deny("/proc") == 0
    yield vfs
    vfs.close()


def read_all(v, path):
    fd = v.open(path)
    if fd < 0:
        return fd
    out = v.read(fd, 1 << 16)
    v.close_fd(fd)
    return out


# -- routes ---------------------------------------------------------------------------------

def test_longest_prefix_wins_and_routes_show_in_listings(v):
    assert v.mount_ram("/tmp/deep", 100) == 0
    fd = v.open("/tmp/deep/x", O.O_CREAT | O.O_WRONLY, 0o644)
    assert fd >= 0 and v.write(fd, b"deep") == 4
    assert v.listdir("/tmp") == [b"deep"]  # the RAM disk at /tmp has no "deep": the route's prefix shows
    assert v.listdir("/tmp/deep") == [b"x"]
    assert v.stat("/tmp/deep").dev != v.stat("/tmp").dev
    assert b"tmp" in v.listdir("/") and b"proc" not in v.listdir("/")  # deny routes are not listed


def test_route_prefixes_are_checked(v):
    for bad in ["", "tmp", "/tmp/", "/a//b", "/a/./b", "/a/../b", None]:
        assert v.mount_ram(bad) == -E.EINVAL, bad
    assert v.mount_ram("/tmp") == -E.EEXIST
    assert v.mount_tar("/x", b"garbage" * 100) == -E.EINVAL


def test_paths_outside_every_route(v):
    w = HostVfs()
    assert w.mount_ram("/data") == 0
    assert w.stat("/etc") == -E.ENOENT
    assert w.open("/etc/x", O.O_CREAT | O.O_WRONLY) == -E.ENOENT
    assert w.open("/x", O.O_CREAT | O.O_WRONLY) == -E.EROFS  # "/" is the skeleton: read-only
    assert w.mkdir("/x") == -E.EROFS
    assert w.listdir("/") == [b"data"]
    assert w.stat("/").mode == stat.S_IFDIR | 0o555
    assert w.getcwd() == "/"
    w.close()


def test_dotdot_at_root_stays_and_leaves_routes_like_a_mount(v):
    assert v.stat("/..").ino == v.stat("/").ino
    assert v.stat("/../../etc/passwd").size == 11
    assert v.stat("/tmp/..").ino == v.stat("/").ino  # ".." at a route's root: the directory holding it
    assert v.chdir("/tmp") == 0 and v.chdir("..") == 0 and v.getcwd() == "/"
    assert v.chdir("/../..//./tmp/") == 0 and v.getcwd() == "/tmp"


def test_symlinks_resolve_inside_the_image(v):
    assert read_all(v, "/abs") == b"root:x:0:0\n"
    assert read_all(v, "/lib/libc.so") == b"libc"
    assert v.listdir("/escape") == [b"passwd", b"secret"]  # "../../.." stops at the image's root
    assert v.readlink("/lib") == b"usr/lib"
    assert v.lstat("/lib").mode == stat.S_IFLNK | 0o777 and v.lstat("/lib").size == 7
    assert v.chdir("/lib") == 0 and v.getcwd() == "/usr/lib"


def test_symlinks_in_a_subdirectory_route_stay_in_it():
    tree = [Entry(("app",), "dir"), Entry(("app", "conf"), "file", 0o644, data=b"app conf"),
            Entry(("app", "up"), "link", target="../conf"), Entry(("app", "abs"), "link", target="/conf"),
            Entry(("conf",), "file", 0o644, data=b"outside")]
    v = HostVfs()
    assert v.mount_tar("/opt/app", build_tar(tree), "app") == 0
    assert read_all(v, "/opt/app/up") == b"app conf"
    assert read_all(v, "/opt/app/abs") == b"app conf"
    assert v.stat("/opt/app/../conf") == -E.ENOENT  # the skeleton's /opt has nothing but app
    assert v.listdir("/opt") == [b"app"]
    v.close()


def test_symlink_loops(v):
    assert v.open("/loop") == -E.ELOOP
    assert v.stat("/loop/x") == -E.ELOOP
    assert v.lstat("/loop").mode & 0o170000 == stat.S_IFLNK
    assert v.open("/abs", O.O_NOFOLLOW) == -E.ELOOP
    assert v.open("/abs", O.O_PATH | O.O_NOFOLLOW) >= 0
    assert v.stat("/dangling") == -E.ENOENT and v.readlink("/dangling") == b"nowhere"


def test_forty_symlinks_are_followed_not_forty_one():
    def chain(n):
        return [Entry(("f",), "file", 0o644, data=b"end")] + \
            [Entry((f"l{i}",), "link", target=f"l{i - 1}" if i else "f") for i in range(n)]
    for n, want in ((40, b"end"), (41, -E.ELOOP)):
        v = HostVfs()
        assert v.mount_tar("/", build_tar(chain(n))) == 0
        assert read_all(v, f"/l{n - 1}") == want
        v.close()


def test_name_length_limits(v):
    assert v.stat("/" + "a/" * 2047 + "b") == -E.ENAMETOOLONG  # 4096 bytes with the NUL... over PATH_MAX
    assert v.stat("/" * 4095) == v.stat("/")  # 4095 characters: fine
    assert v.stat("x" * 255) == -E.ENOENT
    assert v.stat("x" * 256) == -E.ENAMETOOLONG
    assert v.open("/tmp/" + "y" * 256, O.O_CREAT | O.O_WRONLY) == -E.ENAMETOOLONG
    assert v.mkdir("/tmp/" + "y" * 256) == -E.ENAMETOOLONG


def test_files_used_as_directories(v):
    assert v.stat("/etc/passwd/x") == -E.ENOTDIR
    assert v.stat("/etc/passwd/") == -E.ENOTDIR
    assert v.open("/etc/passwd", O.O_DIRECTORY) == -E.ENOTDIR
    fd = v.open("/etc/passwd")
    assert v.stat("x", dirfd=fd) == -E.ENOTDIR
    assert v.getdents(fd) == -E.ENOTDIR
    assert v.fchdir(fd) == -E.ENOTDIR and v.chdir("/etc/passwd") == -E.ENOTDIR


def test_directories_are_not_written(v):
    assert v.open("/etc", O.O_WRONLY) == -E.EISDIR
    assert v.open("/tmp", O.O_RDWR) == -E.EISDIR
    assert v.open("/tmp", O.O_CREAT | O.O_WRONLY) == -E.EISDIR
    assert v.open("/tmp/new/", O.O_CREAT | O.O_WRONLY) == -E.EISDIR
    fd = v.open("/tmp", O.O_RDONLY)
    assert v.read(fd, 10) == -E.EISDIR and v.write(fd, b"x") == -E.EBADF and v.pread(fd, 1, 0) == -E.EISDIR


def test_tar_routes_are_read_only(v):
    assert v.open("/etc/passwd", O.O_WRONLY) == -E.EROFS
    assert v.open("/etc/passwd", O.O_RDONLY | O.O_TRUNC) == -E.EROFS
    assert v.open("/etc/new", O.O_CREAT | O.O_RDONLY) == -E.EROFS
    assert v.open("/etc/passwd", O.O_CREAT | O.O_RDONLY) >= 0  # exists: nothing to write
    assert v.open("/etc/passwd", O.O_CREAT | O.O_EXCL | O.O_RDONLY) == -E.EEXIST
    assert v.mkdir("/etc/x") == -E.EROFS and v.mkdir("/etc") == -E.EEXIST
    assert v.unlink("/etc/passwd") == -E.EROFS and v.unlink("/nothing") == -E.EROFS
    assert v.rmdir("/etc") == -E.EROFS
    assert v.rename("/etc/passwd", "/etc/p") == -E.EROFS
    assert v.access("/etc/passwd", os.W_OK) == -E.EROFS and v.access("/etc/passwd", os.R_OK) == 0
    fd = v.open("/etc/passwd")
    assert v.write(fd, b"x") == -E.EBADF and v.ftruncate(fd, 0) == -E.EINVAL


def test_permissions_of_the_virtual_user(v):
    assert v.open("/etc/secret") == -E.EACCES
    assert v.stat("/closed/inside") == -E.EACCES and v.listdir("/closed") == -E.EACCES
    assert v.chdir("/closed") == -E.EACCES
    assert v.access("/bin/sh", os.X_OK) == 0 and v.access("/etc/passwd", os.X_OK) == -E.EACCES
    root = HostVfs(uid=0, gid=0)
    assert root.mount_tar("/", build_tar(TREE)) == 0
    assert read_all(root, "/etc/secret") == b"s" and read_all(root, "/closed/inside") == b"i"
    assert root.access("/etc/passwd", os.X_OK) == -E.EACCES  # root too needs an x bit to execute
    root.close()


def test_modes_sizes_mtimes_and_owner_come_from_the_image(v):
    st = v.stat("/bin/sh")
    assert st.mode == stat.S_IFREG | 0o755 and st.size == 104 and st.mtime == 1_600_000_000
    assert (st.uid, st.gid) == (1000, 1000)
    assert v.stat("/etc").nlink == 2 and v.stat("/usr").nlink == 3
    assert v.stat("/etc").size == 40 + 2 * 20
    assert v.set_user(7, 8) == 0 and v.stat("/bin/sh")[4:6] == (7, 8)
    x = v.statx("/bin/sh")
    assert x["mode"] == stat.S_IFREG | 0o755 and x["size"] == 104 and x["mtime"] == 1_600_000_000


def test_deny_routes(v):
    assert v.stat("/proc") == -E.ENOENT
    assert v.stat("/proc/self/exe") == -E.ENOENT
    assert v.open("/proc/cpuinfo") == -E.ENOENT
    assert v.open("/proc/x", O.O_CREAT | O.O_WRONLY) == -E.EACCES
    assert v.open("/proc/cpuinfo", O.O_WRONLY) == -E.EACCES
    assert v.mkdir("/proc/x") == -E.EACCES
    assert v.mkdir("/proc") == -E.EACCES
    assert v.chdir("/proc") == -E.ENOENT


# -- the RAM disk ---------------------------------------------------------------------------

def test_ram_disk_cap_gives_enospc_and_short_writes():
    v = HostVfs()
    assert v.mount_ram("/r", 100) == 0
    fd = v.open("/r/a", O.O_CREAT | O.O_RDWR, 0o644)
    assert v.write(fd, b"x" * 70) == 70
    fd2 = v.open("/r/b", O.O_CREAT | O.O_RDWR, 0o644)
    assert v.write(fd2, b"y" * 50) == 30  # what fits
    assert v.write(fd2, b"y") == -E.ENOSPC
    assert v.pwrite(fd, b"z" * 10, 0) == 10  # rewriting costs nothing
    assert v.ftruncate(fd, 10) == 0 and v.write(fd2, b"y" * 60) == 60  # truncating gives it back
    assert v.ftruncate(fd, 1 << 30) == 0  # a hole: free, as on tmpfs
    assert v.stat("/r/a").size == 1 << 30 and v.pread(fd, 4, 1 << 20) == bytes(4)
    assert v.unlink("/r/b") == 0 and v.write(fd2, b"w" * 10) == -E.ENOSPC  # still open: still counted
    assert v.close_fd(fd2) == 0
    fd3 = v.open("/r/c", O.O_CREAT | O.O_RDWR, 0o644)
    assert v.write(fd3, b"c" * 90) == 90  # the unlinked file's bytes came back when it was closed
    v.close()


def test_ram_disk_umask_and_modes():
    v = HostVfs(umask=0o027)
    assert v.mount_ram("/r") == 0
    assert v.close_fd(v.open("/r/f", O.O_CREAT | O.O_WRONLY, 0o777)) == 0
    assert v.stat("/r/f").mode == stat.S_IFREG | 0o750
    assert v.mkdir("/r/d", 0o7777) == 0 and v.stat("/r/d").mode == stat.S_IFDIR | 0o1750
    assert v.umask(0) == 0o027
    fd = v.open("/r/ro", O.O_CREAT | O.O_RDWR, 0o444)  # created: opened as asked, whatever the mode
    assert fd >= 0 and v.write(fd, b"ok") == 2
    assert v.open("/r/ro", O.O_WRONLY) == -E.EACCES
    v.close()


def test_cross_route_rename_is_exdev(v):
    fd = v.open("/tmp/f", O.O_CREAT | O.O_WRONLY, 0o644)
    assert fd >= 0
    assert v.rename("/tmp/f", "/etc/f") == -E.EXDEV
    assert v.rename("/tmp/f", "/tmp/g", RENAME_NOREPLACE) == 0
    assert v.close_fd(v.open("/tmp/h", O.O_CREAT | O.O_WRONLY, 0o644)) == 0
    assert v.rename("/tmp/g", "/tmp/h", RENAME_NOREPLACE) == -E.EEXIST
    assert v.rename("/tmp/g", "/tmp/h", RENAME_WHITEOUT) == -E.EPERM
    assert v.rename("/tmp/g", "/tmp/h", RENAME_EXCHANGE | RENAME_NOREPLACE) == -E.EINVAL
    assert v.rename("/tmp/g", "/tmp/h", 8) == -E.EINVAL


def test_mount_points_are_busy():
    v = HostVfs()
    assert v.mount_ram("/") == 0 and v.mount_ram("/mnt") == 0
    assert v.mkdir("/mnt") == -E.EEXIST
    assert v.rmdir("/mnt") == -E.EBUSY
    assert v.unlink("/mnt") == -E.EISDIR
    assert v.rename("/mnt", "/x") == -E.EXDEV or v.rename("/mnt", "/x") == -E.EBUSY
    assert v.mkdir("/d") == 0 and v.rename("/d", "/mnt") == -E.EBUSY
    assert v.mount_ram("/d/e") == 0 and v.rmdir("/d") == -E.EBUSY
    v.close()


# -- fds --------------------------------------------------------------------------------------

def test_fd_table(v):
    fd = v.open("/etc/passwd", O.O_RDONLY | O.O_CLOEXEC)
    assert fd == 0 and v.fcntl(fd, F_GETFD) == 1
    assert v.fcntl(fd, F_GETFL) == O.O_RDONLY | O_LARGEFILE
    assert v.dup(fd) == 1 and v.fcntl(1, F_GETFD) == 0
    assert v.fcntl(fd, F_DUPFD, 10) == 10 and v.fcntl(fd, F_DUPFD_CLOEXEC, 10) == 11 and v.fcntl(11, F_GETFD) == 1
    assert v.fcntl(fd, F_DUPFD, 1024) == -E.EINVAL and v.fcntl(fd, F_DUPFD, -1) == -E.EINVAL
    assert v.dup3(fd, fd, 0) == -E.EINVAL and v.dup2(fd, fd) == fd and v.dup2(99, 99) == -E.EBADF
    assert v.dup3(fd, 1024, 0) == -E.EBADF and v.dup3(fd, 5, 0x4) == -E.EINVAL
    assert v.dup3(fd, 5, O.O_CLOEXEC) == 5 and v.fcntl(5, F_GETFD) == 1
    assert v.read(1, 4) == b"root" and v.read(5, 2) == b":x"  # dup'ed fds share the offset
    assert v.fcntl(fd, F_SETFL, O.O_APPEND | O.O_NONBLOCK | O.O_RDWR) == 0
    assert v.fcntl(fd, F_GETFL) == O.O_RDONLY | O_LARGEFILE | O.O_APPEND | O.O_NONBLOCK
    assert v.fcntl(fd, 9999) == -E.EINVAL and v.fcntl(77, F_GETFD) == -E.EBADF
    assert v.close_fd(fd) == 0 and v.close_fd(fd) == -E.EBADF and v.close_fd(-1) == -E.EBADF
    p = v.open("/etc", O.O_PATH)
    assert v.fcntl(p, F_GETFL) == O.O_PATH and v.fcntl(p, F_SETFL, 0) == -E.EBADF
    assert v.read(p, 1) == -E.EBADF and v.getdents(p) == -E.EBADF and v.fstat(p).mode & stat.S_IFDIR
    assert v.fchdir(p) == 0 and v.getcwd() == "/etc"


def test_fd_limit_gives_emfile(v):
    assert v.set_fd_limit(4) == 0
    assert [v.open("/etc/passwd") for _ in range(5)] == [0, 1, 2, 3, -E.EMFILE]
    assert v.set_fd_limit(2) == -E.EBUSY


def test_openat_relative_to_a_directory_fd(v):
    d = v.open("/usr/lib", O.O_RDONLY | O.O_DIRECTORY)
    fd = v.open("libc.so", dirfd=d)
    assert v.read(fd, 10) == b"libc"
    assert v.stat("../../etc/passwd", dirfd=d).size == 11
    assert v.open("/etc/passwd", dirfd=12345) >= 0  # absolute: the dirfd does not matter
    assert v.open("x", dirfd=12345) == -E.EBADF
    assert v.stat("", AT_EMPTY_PATH, dirfd=fd).size == 4 and v.stat("", 0, dirfd=fd) == -E.ENOENT
    assert v.stat("", AT_EMPTY_PATH).ino == v.stat("/").ino
    assert v.stat("/", 0x4) == -E.EINVAL and v.statx("/", 0x6000) == -E.EINVAL


def test_read_write_seek(v):
    fd = v.open("/tmp/f", O.O_CREAT | O.O_RDWR, 0o644)
    assert v.writev(fd, [b"ab", b"", b"cde"]) == 5
    assert v.lseek(fd, 0, os.SEEK_CUR) == 5 and v.lseek(fd, 1, os.SEEK_SET) == 1
    assert v.readv(fd, [1, 0, 2]) == b"bcd"
    assert v.lseek(fd, -1, os.SEEK_SET) == -E.EINVAL and v.lseek(fd, 0, 5) == -E.EINVAL
    assert v.lseek(fd, 2, os.SEEK_DATA) == 2 and v.lseek(fd, 2, os.SEEK_HOLE) == 5
    assert v.lseek(fd, 5, os.SEEK_DATA) == -E.ENXIO
    assert v.lseek(fd, 10, os.SEEK_END) == 15 and v.write(fd, b"!") == 1
    assert v.pread(fd, 20, 0) == b"abcde" + bytes(10) + b"!"
    assert v.pread(fd, 1, -1) == -E.EINVAL and v.pwrite(fd, b"x", -1) == -E.EINVAL
    assert v.readv(fd, [1] * 1025) == -E.EINVAL and v.writev(fd, []) == 0
    assert v.fsync(fd) == 0 and v.fdatasync(fd) == 0 and v.fsync(99) == -E.EBADF
    assert v.ftruncate(fd, -1) == -E.EINVAL and v.ftruncate(99, 1) == -E.EBADF
    assert v.ftruncate(fd, 3) == 0 and v.fstat(fd).size == 3


def test_getdents_lists_dot_dotdot_and_entries(v):
    fd = v.open("/etc", O.O_RDONLY | O.O_DIRECTORY)
    assert v.getdents(fd, 10) == -E.EINVAL  # too small for one entry
    ents = v.getdents(fd, 4096)
    assert sorted((e.name, e.type) for e in ents) == [(b".", 4), (b"..", 4), (b"passwd", 8), (b"secret", 8)]
    assert [e for e in ents if e.name == b".."][0].ino == v.stat("/").ino
    assert v.getdents(fd, 4096) == []
    assert v.lseek(fd, 0, os.SEEK_SET) == 0 and len(v.getdents(fd, 4096)) == 4
    assert v.lseek(fd, 0, os.SEEK_END) == -E.EINVAL
    one = v.open("/etc", O.O_RDONLY)
    got = []
    while True:
        chunk = v.getdents(one, 32)  # one entry at a time
        if not chunk:
            break
        assert len(chunk) == 1
        got += chunk
    assert sorted(e.name for e in got) == [b".", b"..", b"passwd", b"secret"]


def test_getdents_positions_survive_changes():
    v = HostVfs()
    assert v.mount_ram("/") == 0
    for n in "abcd":
        v.close_fd(v.open(n, O.O_CREAT | O.O_WRONLY, 0o644))
    fd = v.open("/", O.O_RDONLY)
    first = v.getdents(fd, 24 * 3)
    assert [e.name for e in first] == [b".", b"..", b"d"]  # newest first, as tmpfs lists
    assert v.unlink("c") == 0 and v.close_fd(v.open("e", O.O_CREAT | O.O_WRONLY)) == 0
    assert [e.name for e in v.getdents(fd, 4096)] == [b"b", b"a"]  # neither lost nor repeated
    v.close()


def test_cwd(v):
    assert v.getcwd() == "/" and v.getcwd(1) == -E.ERANGE and v.getcwd(2) == "/"
    assert v.mkdir("/tmp/d") == 0 and v.chdir("/tmp/d") == 0 and v.getcwd() == "/tmp/d"
    assert v.rmdir("/tmp/d") == 0
    assert v.getcwd() == -E.ENOENT
    assert v.open("x", O.O_CREAT | O.O_WRONLY) == -E.ENOENT and v.stat(".").nlink == 0
    assert v.chdir("..") == 0 and v.getcwd() == "/tmp"
    assert v.chdir("") == -E.ENOENT and v.chdir(None) == -E.EFAULT


def test_stdio():
    v = HostVfs(stdin=b"hello\nworld")
    assert v.stdio() == 0 and v.stdio() == -E.EBUSY
    assert v.read(0, 6) == b"hello\n" and v.readv(0, [0, 3, 10]) == b"wor"
    assert v.write(1, b"out") == 3 and v.writev(2, [b"e", b"rr"]) == 3
    assert bytes(v.stdout) == b"out" and bytes(v.stderr) == b"err"
    assert v.write(0, b"x") == -E.EBADF and v.read(1, 1) == -E.EBADF
    assert v.lseek(0, 0, 0) == -E.ESPIPE and v.pread(0, 1, 0) == -E.ESPIPE and v.pwrite(1, b"x", 0) == -E.ESPIPE
    assert v.fstat(1).mode == stat.S_IFIFO | 0o600 and v.stat("", AT_EMPTY_PATH, dirfd=2).mode & stat.S_IFIFO
    assert v.fcntl(0, F_GETFL) == O.O_RDONLY and v.fcntl(1, F_GETFL) == O.O_WRONLY
    assert v.fcntl(1, F_SETFL, O.O_NONBLOCK) == -E.EINVAL and v.fsync(1) == -E.EINVAL
    assert v.getdents(0) == -E.ENOTDIR and v.ftruncate(1, 0) == -E.EINVAL and v.mmap_copy(0, 0, 4096) == -E.ENODEV
    assert v.dup2(1, 5) == 5 and v.close_fd(1) == 0 and v.closed_channels == []
    assert v.write(5, b"!") == 1 and v.close_fd(5) == 0 and v.closed_channels == [1]
    assert v.read(0, 100) == b"ld" and v.read(0, 100) == b""  # then end of file
    v.close()


def test_mmap_copy_and_tar_offsets(v):
    image = build_tar(TREE)
    fd = v.open("/bin/sh")
    n, mem = v.mmap_copy(fd, 0, 8192)
    assert n == 104 and mem == b"\x7fELF" + bytes(8188)
    assert v.mmap_copy(fd, 4096, 4096) == (0, bytes(4096))
    assert v.mmap_copy(fd, 1, 4096) == -E.EINVAL and v.mmap_copy(fd, 0, 0) == -E.EINVAL
    assert v.mmap_copy(v.open("/etc", O.O_RDONLY), 0, 4096) == -E.ENODEV
    w = v.open("/tmp/w", O.O_CREAT | O.O_WRONLY, 0o644)
    assert v.mmap_copy(w, 0, 4096) == -E.EACCES and v.mmap_copy(99, 0, 4096) == -E.EBADF
    off = v.tar_offset(fd)
    assert image[off:off + 104] == b"\x7fELF" + bytes(100) and off % 512 == 0
    assert v.tar_offset(w) == -E.ENODEV
    # The same checks without the copy (the layer's before it maps the image), the size on success.
    assert v.mmap_check(fd, 0, 8192) == 104 and v.mmap_check(fd, 4096, 4096) == 104
    assert v.mmap_check(fd, 1, 4096) == -E.EINVAL and v.mmap_check(fd, 0, 0) == -E.EINVAL
    assert v.mmap_check(fd, 4096, (1 << 64) - 4096) == -E.EOVERFLOW
    assert v.mmap_check(v.open("/etc", O.O_RDONLY), 0, 4096) == -E.ENODEV
    assert v.mmap_check(w, 0, 4096) == -E.EACCES and v.mmap_check(99, 0, 4096) == -E.EBADF


def test_o_tmpfile_and_odd_open_flags(v):
    assert v.open("/tmp", O.O_TMPFILE | O.O_RDWR) == -E.EOPNOTSUPP
    assert v.open("/tmp", O.O_TMPFILE) == -E.EINVAL
    assert v.open("/tmp/x", O.O_CREAT | O.O_DIRECTORY) == -E.EINVAL
    assert v.open("/tmp", O.O_CREAT | O.O_DIRECTORY | O.O_PATH) >= 0
    assert v.open("", O.O_RDONLY) == -E.ENOENT and v.open(None) == -E.EFAULT


def test_sha256_matches_hashlib():
    import hashlib
    for n in (0, 1, 55, 56, 63, 64, 65, 119, 1000, 100_000):
        data = bytes(range(256)) * (n // 256 + 1)
        assert sha256(data[:n]) == hashlib.sha256(data[:n]).digest()


def test_at_fdcwd_constant():
    assert AT_FDCWD == -100


def test_readlinkat_on_an_o_path_symlink_fd(v):
    fd = v.open("/lib", O.O_PATH | O.O_NOFOLLOW)
    assert v.readlink("", dirfd=fd) == b"usr/lib"
    assert v.readlink("") == -E.ENOENT  # the cwd is not a symlink
    assert v.readlink("/lib", 0) == -E.EINVAL and v.readlink("/etc") == -E.EINVAL
    assert v.readlink("/lib", 3) == b"usr"


def test_pipes_host_build(v):
    """The host build has no env.wait: what would block answers EAGAIN; the rest is Linux's."""
    rd, wr = v.pipe2(os.O_CLOEXEC)
    assert (v.fcntl(rd, F_GETFD), v.fcntl(wr, F_GETFL)) == (1, os.O_WRONLY)
    assert v.pipe2(os.O_DIRECT) == -E.EINVAL and v.pipe2(0x40000000) == -E.EINVAL
    assert v.read(rd, 10) == -E.EAGAIN  # would block: a writer is open
    assert v.write(wr, b"x" * 70000) == 65536
    assert v.write(wr, b"y") == -E.EAGAIN
    assert v.read(rd, 10) == b"x" * 10
    assert v.write(wr, b"z" * 11) == -E.EAGAIN  # at most PIPE_BUF bytes: all or nothing
    assert v.write(wr, b"z" * 10) == 10
    assert v.read(rd, 70000) == b"x" * (65536 - 10) + b"z" * 10  # across the ring's end
    st = v.fstat(rd)
    assert stat.S_ISFIFO(st.mode) and stat.S_IMODE(st.mode) == 0o600
    assert v.lseek(rd, 0, os.SEEK_SET) == -E.ESPIPE
    assert v.close_fd(wr) == 0
    assert v.read(rd, 10) == b""
    rd2, wr2 = v.pipe2()
    assert v.close_fd(rd2) == 0 and v.write(wr2, b"a") == -E.EPIPE
    assert v.close_fd(rd) == 0 and v.close_fd(wr2) == 0


def _sun(path: bytes) -> bytes:
    return struct.pack("<H", socket.AF_UNIX) + path


def test_unix_socket_connect_on_a_read_only_image_is_erofs(v):
    """As the kernel answers on a read-only mount: connect needs write permission, and a
    regular file or directory there is -EROFS (sb_permission), before any refusal."""
    fd = v.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    assert v.connect(fd, _sun(b"/etc/passwd")) == -E.EROFS
    assert v.connect(fd, _sun(b"/nope")) == -E.ENOENT


def test_unix_socket_connect_needs_write_permission(tmp_path):
    vfs = HostVfs(uid=1000, gid=1000)
    assert vfs.mount_tar("/", build_tar(TREE)) == 0
    fd = vfs.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    assert vfs.connect(fd, _sun(b"/closed/inside")) == -E.EACCES  # search permission
    assert vfs.connect(fd, _sun(b"/etc/passwd")) == -E.EROFS  # the kernel's order: read-only mount first
    vfs.close()
