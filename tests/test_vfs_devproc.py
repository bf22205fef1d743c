"""The synthetic /dev and /proc routes of the C VFS (devices.c, proc.c), driven through the host
build, each answer compared with what this machine's Linux gives for the same call.

Native calls that could change the machine if they succeeded (creating, removing or renaming
in /dev and /proc) run only in a child that is not root (`unprivileged`), and only those; as
root they would really create files in /dev."""
import ctypes
import errno as E
import fcntl
import json
import mmap
import os
import stat
import subprocess
import sys
import termios

import pytest

from vfs_support import Entry, build_tar
from xax_emu.vfs._host import HostVfs

O = os
AT_SYMLINK_NOFOLLOW = 0x100
RNDGETENTCNT = 0x80045200
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}
PID = 100
TREE = [Entry(("bin",), "dir", 0o755), Entry(("bin", "app"), "file", 0o755, data=b"\x7fELF program"),
        Entry(("data",), "dir", 0o755), Entry(("data", "f.txt"), "file", 0o644, data=b"abcdef")]


@pytest.fixture
def v():
    vfs = HostVfs(uid=1000, gid=1000)
    assert vfs.stdio() == 0
    assert vfs.reserve_fd(3) == 0  # a reserved number, as the layer reserves the channel's (1024)
    assert vfs.mount_tar("/", build_tar(TREE)) == 0
    assert vfs.mount_ram("/tmp", 1 << 20) == 0
    assert vfs.mount_dev("/dev") == 0
    assert vfs.mount_proc("/proc", PID, "/bin/app") == 0
    yield vfs
    vfs.close()


def err(f, *args):
    """f(*args), or the errno name it fails with."""
    try:
        r = f(*args)
    except OSError as e:
        return E.errorcode[e.errno]
    return r


def name(r):
    """A VFS answer with its errno as a name."""
    return E.errorcode[-r] if isinstance(r, int) and r < 0 else r


def unprivileged(code: str) -> dict:
    """Run Python code natively as a user that is not root (nobody, with the system's python3,
    when the tests run as root) and return the JSON it prints."""
    python, kwargs = sys.executable, {}
    if os.geteuid() == 0:
        python, kwargs = "/usr/bin/python3", dict(user=65534, group=65534, extra_groups=[])
        if not os.access(python, os.X_OK):
            pytest.fail("/usr/bin/python3 is missing (bootstrap.sh installs Debian's python3)")
    prelude = ("import errno, json, os\nassert os.geteuid() != 0, 'never as root'\n"
               "def err(f, *a):\n    try:\n        return f(*a)\n    except OSError as e:\n"
               "        return errno.errorcode[e.errno]\n")
    r = subprocess.run([python, "-c", prelude + code], capture_output=True, text=True, cwd="/",
                       timeout=60, **kwargs)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


# -- /dev ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dev", sorted(DEVICES))
def test_devices_stat_as_linux_shows_them(v, dev):
    mine, real = v.stat(f"/dev/{dev}"), os.stat(f"/dev/{dev}")
    assert stat.S_ISCHR(mine.mode) and stat.S_ISCHR(real.st_mode)
    assert (stat.S_IMODE(mine.mode), os.major(mine.rdev), os.minor(mine.rdev)) == \
           (stat.S_IMODE(real.st_mode), os.major(real.st_rdev), os.minor(real.st_rdev)) == (0o666, *DEVICES[dev])
    assert (mine.nlink, mine.size, mine.blksize, mine.blocks) == \
           (real.st_nlink, real.st_size, real.st_blksize, real.st_blocks)
    # Owners as udev makes them on Debian (this machine's may differ: containers remap them)
    assert (mine.uid, mine.gid) == (0, 5 if dev == "tty" else 0)
    stx = v.statx(f"/dev/{dev}")
    assert (stx["rdev_major"], stx["rdev_minor"]) == DEVICES[dev]


def native_ops(path: str) -> dict:
    """Harmless calls on the machine's own device (reads, writes into it, seeks)."""
    fd = os.open(path, os.O_RDWR)
    try:
        out = {"read": err(os.read, fd, 100), "read0": err(os.read, fd, 0), "cur": os.lseek(fd, 0, os.SEEK_CUR),
               "set": err(os.lseek, fd, 5, os.SEEK_SET), "end": err(os.lseek, fd, -3, os.SEEK_END),
               "bad": err(os.lseek, fd, 0, 99), "write": err(os.write, fd, b"x" * 33),
               "pread": err(os.pread, fd, 8, 100), "pwrite": err(os.pwrite, fd, b"12345678", 100),
               "fsync": err(os.fsync, fd), "ftruncate": err(os.ftruncate, fd, 0),
               "tcgets": err(fcntl.ioctl, fd, termios.TCGETS, bytes(64))}
        try:
            with mmap.mmap(fd, 8192, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ) as m:
                out["mmap"] = m[:] == bytes(8192)
        except OSError as e:
            out["mmap"] = E.errorcode[e.errno]
    finally:
        os.close(fd)
    return out


def vfs_ops(v, path: str) -> dict:
    fd = v.open(path, os.O_RDWR)
    assert fd >= 0
    got = v.mmap_copy(fd, 0, 8192)
    out = {"read": name(v.read(fd, 100)), "read0": name(v.read(fd, 0)), "cur": v.lseek(fd, 0, os.SEEK_CUR),
           "set": name(v.lseek(fd, 5, os.SEEK_SET)), "end": name(v.lseek(fd, -3, os.SEEK_END)),
           "bad": name(v.lseek(fd, 0, 99)), "write": name(v.write(fd, b"x" * 33)),
           "pread": name(v.pread(fd, 8, 100)), "pwrite": name(v.pwrite(fd, b"12345678", 100)),
           "fsync": name(v.fsync(fd)), "ftruncate": name(v.ftruncate(fd, 0)),
           "tcgets": name(v.ioctl(fd, termios.TCGETS)),
           "mmap": name(got) if isinstance(got, int) else got == (0, bytes(8192))}
    assert v.close_fd(fd) == 0
    return out


@pytest.mark.parametrize("dev", ["null", "zero", "full", "urandom", "random"])
def test_device_calls_answer_as_linux(v, dev):
    mine, real = vfs_ops(v, f"/dev/{dev}"), native_ops(f"/dev/{dev}")
    if dev in ("urandom", "random"):  # the bytes differ, their number does not
        for key in ("read", "pread"):
            assert len(mine[key]) == len(real[key]) and mine[key] != real[key]
            del mine[key], real[key]
    assert mine == real
    if dev == "null":
        assert mine["read"] == b"" and mine["write"] == 33 and mine["pread"] == b""
    if dev == "full":
        assert mine["write"] == "ENOSPC" and mine["read"] == bytes(100)


def test_urandom_reads_come_from_the_environment_whole():
    stream, limits = bytearray(b"abcdefghijklmnopqrstuvwxyz"), iter([3, 5, 100, 100, 100])

    def source(n):  # answers short at first
        k = min(n, next(limits))
        out = bytes(stream[:k])
        del stream[:k]
        return out

    with HostVfs(random=source) as v:
        assert v.mount_dev() == 0
        fd = v.open("/dev/urandom")
        assert v.read(fd, 10) == b"abcdefghij"  # short answers are asked again until the read is whole
        assert v.random_calls == [10, 7, 2]
        assert v.readv(fd, [2, 3]) == b"klmno" and v.lseek(fd, 0, os.SEEK_CUR) == 0
    with HostVfs(random=lambda n: -E.EIO) as v:
        assert v.mount_dev() == 0
        assert v.read(v.open("/dev/random"), 4) == -E.EIO
    partial = iter([b"xy", -E.EIO])
    with HostVfs(random=lambda n: next(partial)) as v:
        assert v.mount_dev() == 0
        assert v.read(v.open("/dev/urandom"), 4) == b"xy"  # what came before the failure


def test_random_ioctls(v):
    fd = os.open("/dev/urandom", os.O_RDONLY)
    try:
        buf = bytearray(4)
        real = (fcntl.ioctl(fd, RNDGETENTCNT, buf), int.from_bytes(buf, "little"))
        unknown = err(fcntl.ioctl, fd, 0, bytes(4))
    finally:
        os.close(fd)
    mine = v.open("/dev/urandom")
    assert v.ioctl_int(mine, RNDGETENTCNT) == real == (0, 256)
    assert name(v.ioctl(mine, 0)) == unknown == "EINVAL"
    assert v.ioctl(v.open("/dev/null"), termios.TCGETS) == -E.ENOTTY
    assert v.ioctl(v.open("/bin/app", os.O_PATH), termios.TCGETS) == -E.EBADF  # as Linux: O_PATH


def test_tty_is_enxio_without_a_controlling_terminal(v):
    r = subprocess.run([sys.executable, "-c", "import os\ntry:\n os.open('/dev/tty', os.O_RDWR)\n"
                        "except OSError as e:\n print(e.errno)"], capture_output=True, text=True,
                       start_new_session=True, timeout=60)
    assert int(r.stdout) == E.ENXIO  # a new session has no controlling terminal
    assert v.open("/dev/tty", os.O_RDWR) == -E.ENXIO
    assert v.access("/dev/tty", os.R_OK | os.W_OK) == 0


def test_dev_lists_its_entries_and_nothing_else(v):
    assert v.listdir("/dev") == sorted([b"null", b"zero", b"full", b"random", b"urandom", b"tty", b"fd", b"stdin",
                                        b"stdout", b"stderr"])
    for absent in ["/dev/shm", "/dev/sda", "/dev/pts/0", "/dev/null2", "/dev/mem"]:
        assert v.stat(absent) == -E.ENOENT
    d, real = v.stat("/dev"), os.stat("/dev")
    assert stat.S_IMODE(d.mode) == stat.S_IMODE(real.st_mode) == 0o755 and (d.uid, d.gid) == (0, 0)
    assert v.stat("/dev").dev == v.stat("/dev/null").dev != v.stat("/proc").dev


def test_dev_links_lead_into_proc(v):
    for link, target in [("fd", b"/proc/self/fd"), ("stdin", b"/proc/self/fd/0"), ("stdout", b"/proc/self/fd/1"),
                         ("stderr", b"/proc/self/fd/2")]:
        assert v.readlink(f"/dev/{link}") == target == os.fsencode(os.readlink(f"/dev/{link}"))
        mine, real = v.lstat(f"/dev/{link}"), os.lstat(f"/dev/{link}")
        assert (mine.mode, mine.size) == (real.st_mode, real.st_size)
    assert v.listdir("/dev/fd") == [b"0", b"1", b"2", b"4"]  # 4: the listing's own fd (3 is reserved)


def test_writes_in_dev_and_proc_are_refused_as_for_an_unprivileged_user(v):
    real = unprivileged(
        "print(json.dumps({'create dev': err(os.open, '/dev/x', os.O_CREAT | os.O_WRONLY, 0o600),"
        " 'mkdir dev': err(os.mkdir, '/dev/x'), 'unlink null': err(os.unlink, '/dev/null'),"
        " 'rename zero': err(os.rename, '/dev/zero', '/dev/zero2'),"
        " 'create proc': err(os.open, '/proc/x', os.O_CREAT | os.O_WRONLY, 0o600),"
        " 'create fd': err(os.open, '/proc/self/fd/77', os.O_CREAT | os.O_WRONLY, 0o600),"
        " 'mkdir proc': err(os.mkdir, '/proc/x'), 'unlink loadavg': err(os.unlink, '/proc/loadavg'),"
        " 'rename to new': err(os.rename, '/proc/loadavg', '/proc/x'),"
        " 'rename over': err(os.rename, '/proc/loadavg', '/proc/stat'),"
        " 'write loadavg': err(os.open, '/proc/loadavg', os.O_WRONLY),"
        " 'trunc loadavg': err(os.open, '/proc/loadavg', os.O_RDONLY | os.O_TRUNC),"
        " 'access w loadavg': os.access('/proc/loadavg', os.W_OK), 'access w null': os.access('/dev/null', os.W_OK),"
        " 'access x null': os.access('/dev/null', os.X_OK)}))")
    mine = {"create dev": name(v.open("/dev/x", O.O_CREAT | O.O_WRONLY, 0o600)), "mkdir dev": name(v.mkdir("/dev/x")),
            "unlink null": name(v.unlink("/dev/null")), "rename zero": name(v.rename("/dev/zero", "/dev/zero2")),
            "create proc": name(v.open("/proc/x", O.O_CREAT | O.O_WRONLY, 0o600)),
            "create fd": name(v.open("/proc/self/fd/77", O.O_CREAT | O.O_WRONLY, 0o600)),
            "mkdir proc": name(v.mkdir("/proc/x")), "unlink loadavg": name(v.unlink("/proc/loadavg")),
            "rename to new": name(v.rename("/proc/loadavg", "/proc/x")),
            "rename over": name(v.rename("/proc/loadavg", "/proc/stat")),
            "write loadavg": name(v.open("/proc/loadavg", O.O_WRONLY)),
            "trunc loadavg": name(v.open("/proc/loadavg", O.O_RDONLY | O.O_TRUNC)),
            "access w loadavg": v.access("/proc/loadavg", os.W_OK) == 0,
            "access w null": v.access("/dev/null", os.W_OK) == 0, "access x null": v.access("/dev/null", os.X_OK) == 0}
    assert mine == real
    assert real["create dev"] == "EACCES" and real["create proc"] == "ENOENT"


def test_the_virtual_root_cannot_create_there_either():
    with HostVfs(uid=0, gid=0) as v:
        assert v.mount_dev() == 0 and v.mount_proc() == 0
        assert v.open("/dev/x", O.O_CREAT | O.O_WRONLY) == -E.EPERM  # devtmpfs would let root: not ours
        assert v.mkdir("/dev/x") == -E.EPERM and v.unlink("/dev/null") == -E.EPERM
        assert v.mkdir("/proc/x") == -E.ENOENT
        assert v.access("/proc/loadavg", os.W_OK) == 0  # root's rights; procfs is no read-only mount
        fd = v.open("/proc/loadavg", O.O_WRONLY)
        assert fd >= 0 and v.write(fd, b"1") == -E.EINVAL  # nothing to write to


def test_python_opens_devnull_for_writing(v):
    fd = v.open("/dev/null", O.O_WRONLY | O.O_CREAT | O.O_TRUNC | O.O_CLOEXEC, 0o666)  # open(os.devnull, "w")
    assert fd >= 0 and v.write(fd, b"discarded") == 9
    assert v.open("/dev/null", O.O_WRONLY | O.O_CREAT | O.O_EXCL) == -E.EEXIST
    assert v.open("/dev/null", O.O_RDONLY | O.O_DIRECTORY) == -E.ENOTDIR
    assert v.getdents(fd) == -E.ENOTDIR


# -- /proc --------------------------------------------------------------------------------------


def test_proc_self_is_the_virtual_pid(v):
    assert v.readlink("/proc/self") == b"100"
    assert v.listdir("/proc") == [b"100", b"loadavg", b"self", b"stat"]
    assert v.listdir("/proc/self") == [b"exe", b"fd"]
    assert v.stat("/proc/self").ino == v.stat("/proc/100").ino
    pid, fd = v.stat("/proc/self"), v.stat("/proc/self/fd")
    assert (stat.S_IMODE(pid.mode), pid.uid) == (0o555, 1000)  # the process's own: the virtual user's
    assert (stat.S_IMODE(fd.mode), fd.blksize) == (stat.S_IMODE(os.stat("/proc/self/fd").st_mode), 1024) == \
           (0o500, 1024)
    root, real = v.stat("/proc"), os.stat("/proc")
    assert (stat.S_IMODE(root.mode), root.uid, root.size, root.blksize) == \
           (stat.S_IMODE(real.st_mode), 0, real.st_size, real.st_blksize)
    for absent in ["/proc/cpuinfo", "/proc/meminfo", "/proc/self/maps", "/proc/1", "/proc/sys/kernel",
                   "/proc/self/cwd", "/proc/thread-self", "/proc/101"]:
        assert v.stat(absent) == -E.ENOENT, absent


def test_proc_self_exe(v):
    assert v.readlink("/proc/self/exe") == b"/bin/app"
    link = v.lstat("/proc/self/exe")
    assert stat.S_ISLNK(link.mode) and stat.S_IMODE(link.mode) == stat.S_IMODE(os.lstat("/proc/self/exe").st_mode)
    assert v.stat("/proc/self/exe").ino == v.stat("/bin/app").ino  # following it reaches the program
    fd = v.open("/proc/self/exe")
    assert v.read(fd, 100) == b"\x7fELF program"
    with HostVfs() as bare:
        assert bare.mount_proc("/proc", 7, None) == 0
        assert bare.readlink("/proc/self") == b"7"
        assert bare.readlink("/proc/self/exe") == -E.ENOENT  # no path names a bare program
        assert bare.listdir("/proc/self") == [b"fd"]
        assert bare.mount_proc("/p2", 0, None) == -E.EINVAL
        assert bare.mount_proc("/p3", 7, "relative/path") == -E.EINVAL


def test_loadavg_and_stat_are_the_picoprocess_machine(v):
    for path in ["/proc/loadavg", "/proc/stat"]:
        mine, real = v.stat(path), os.stat(path)
        assert (mine.mode, mine.nlink, mine.size, mine.blksize, mine.blocks, mine.uid) == \
               (real.st_mode, real.st_nlink, real.st_size, real.st_blksize, real.st_blocks, 0)
    assert read_small(v, "/proc/loadavg") == b"0.00 0.00 0.00 1/1 100\n"
    text = read_small(v, "/proc/stat").decode()
    assert text.splitlines()[:2] == ["cpu  0 0 0 0 0 0 0 0 0 0", "cpu0 0 0 0 0 0 0 0 0 0 0"]
    # Linux's lines in Linux's order (and as many numbers on each), with one CPU
    with open("/proc/stat") as f:
        real = [line.split() for line in f if not (line.startswith("cpu") and line[3:4].isdigit() and line[3] != "0")]
    mine = [line.split() for line in text.splitlines()]
    assert [(r[0], len(r)) for r in real if r[0] != "intr"] == [(m[0], len(m)) for m in mine if m[0] != "intr"]
    assert [m[0] for m in mine] == ["cpu", "cpu0", "intr", "ctxt", "btime", "processes", "procs_running",
                                    "procs_blocked", "softirq"]
    btime = int(text.split("btime ")[1].split()[0])
    assert abs(btime - int(v.clock() // 1_000_000_000)) <= 2  # booted when the route was mounted


def read_small(v, path) -> bytes:
    fd = v.open(path)
    out = b""
    while chunk := v.read(fd, 7):  # small reads: each continues where the last stopped
        out += chunk
    v.close_fd(fd)
    return out


def raw_mmap(fd: int, length: int):
    """mmap(2) itself (Python's mmap refuses a length past a regular file's size of 0)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    addr = libc.mmap(None, length, mmap.PROT_READ, mmap.MAP_PRIVATE, fd, 0)
    if addr in (None, ctypes.c_void_p(-1).value):
        return E.errorcode[ctypes.get_errno()]
    libc.munmap(ctypes.c_void_p(addr), ctypes.c_size_t(length))
    return "mapped"


def test_proc_files_seek_and_map_as_procfs_does(v):
    real_fd = os.open("/proc/loadavg", os.O_RDONLY)
    try:
        real = {"end": err(os.lseek, real_fd, 0, os.SEEK_END), "set": os.lseek(real_fd, 3, os.SEEK_SET),
                "cur": err(os.lseek, real_fd, -100, os.SEEK_CUR), "fsync": err(os.fsync, real_fd)}
        real["mmap"] = raw_mmap(real_fd, 4096)
    finally:
        os.close(real_fd)
    fd = v.open("/proc/loadavg")
    mine = {"end": name(v.lseek(fd, 0, os.SEEK_END)), "set": v.lseek(fd, 3, os.SEEK_SET),
            "cur": name(v.lseek(fd, -100, os.SEEK_CUR)), "fsync": name(v.fsync(fd)),
            "mmap": name(v.mmap_copy(fd, 0, 4096))}
    assert mine == real == {"end": "EINVAL", "set": 3, "cur": "EINVAL", "fsync": "EINVAL", "mmap": "EIO"}
    assert v.read(fd, 5) == b"0 0.0" and v.pread(fd, 4, 0) == b"0.00"


def test_proc_self_fd_lists_the_open_fds(v):
    a = v.open("/data/f.txt")
    assert a == 4  # 3 is reserved
    listing = v.getdents(v.open("/proc/self/fd"))
    names = [e.name for e in listing]
    assert names[:2] == [b".", b".."] and names[2:] == [b"0", b"1", b"2", b"4", b"5"]  # 5: the listing's own fd
    assert all(e.type == 10 for e in listing[2:])  # DT_LNK
    assert v.stat("/proc/self/fd/3") == -E.ENOENT and v.open("/proc/self/fd/3") == -E.ENOENT
    assert v.stat("/proc/self/fd").size == 5  # the number of open fds, as newer kernels show
    for bad in ["04", "00", "+4", "4 ", "99999", "x"]:
        assert v.lstat(f"/proc/self/fd/{bad}") == -E.ENOENT, bad
    assert v.close_fd(a) == 0
    assert v.lstat(f"/proc/self/fd/{a}") == -E.ENOENT  # closed: gone
    # small buffers: the listing goes on where it stopped
    fd = v.open("/proc/self/fd")
    got = []
    while ents := v.getdents(fd, 32):
        got += [e.name for e in ents]
    assert got == [b".", b"..", b"0", b"1", b"2", b"4", b"5"] and v.getdents(fd, 16) == []


def test_fd_links_say_what_the_fd_is_open_on(v, tmp_path):
    real_path = tmp_path / "f.txt"
    real_path.write_bytes(b"abcdef")
    real = {}
    for acc, label in [(os.O_RDONLY, "r"), (os.O_WRONLY, "w"), (os.O_RDWR, "rw"), (os.O_PATH, "path")]:
        fd = os.open(real_path, acc)
        real[label] = stat.S_IMODE(os.lstat(f"/proc/self/fd/{fd}").st_mode)
        os.close(fd)
    ram = v.open("/tmp/f.txt", O.O_CREAT | O.O_RDWR, 0o644)
    mine = {}
    for acc, label in [(os.O_RDONLY, "r"), (os.O_WRONLY, "w"), (os.O_RDWR, "rw"), (os.O_PATH, "path")]:
        fd = v.open("/tmp/f.txt", acc)
        mine[label] = stat.S_IMODE(v.lstat(f"/proc/self/fd/{fd}").mode)
        assert v.readlink(f"/proc/self/fd/{fd}") == b"/tmp/f.txt"
        v.close_fd(fd)
    assert mine == real == {"r": 0o500, "w": 0o300, "rw": 0o700, "path": 0}
    assert v.readlink("/proc/self/fd/0") == b"pipe:[1]" and v.readlink("/proc/self/fd/2") == b"pipe:[3]"
    null = v.open("/dev/null", O.O_WRONLY)
    assert v.readlink(f"/proc/self/fd/{null}") == b"/dev/null"
    # a removed file: its old path and " (deleted)", as Linux shows it; still reachable
    assert v.unlink("/tmp/f.txt") == 0
    assert v.readlink(f"/proc/self/fd/{ram}") == b"/tmp/f.txt (deleted)"
    assert v.stat(f"/proc/self/fd/{ram}").nlink == 0
    fd = os.open(real_path, os.O_RDONLY)
    os.unlink(real_path)
    assert os.readlink(f"/proc/self/fd/{fd}") == f"{real_path} (deleted)"
    os.close(fd)


def test_opening_an_fd_link_opens_the_file_again(v):
    a = v.open("/data/f.txt")
    assert v.read(a, 2) == b"ab"
    b = v.open(f"/proc/self/fd/{a}")
    assert b >= 0 and v.read(b, 3) == b"abc"  # a description of its own: its own position
    assert v.read(a, 2) == b"cd"
    d = v.open("/data", O.O_RDONLY | O.O_DIRECTORY)
    assert v.stat(f"/proc/self/fd/{d}/f.txt").size == 6  # through a directory fd
    assert v.open(f"/proc/self/fd/{a}/x") == -E.ENOTDIR
    assert v.open(f"/proc/self/fd/{a}", O.O_RDONLY | O.O_NOFOLLOW) == -E.ELOOP
    assert v.open("/dev/stdin", O.O_RDONLY | O.O_NOFOLLOW) == -E.ELOOP
    p = v.open(f"/proc/self/fd/{a}", O.O_PATH | O.O_NOFOLLOW)  # the link itself
    assert p >= 0 and stat.S_ISLNK(v.fstat(p).mode)
    assert v.chdir("/proc/self/fd") == 0 and v.getcwd() == "/proc/100/fd"
    assert v.readlink(str(a)) == b"/data/f.txt" and v.chdir("..") == 0 and v.getcwd() == "/proc/100"


def test_stdio_through_dev_and_proc():
    with HostVfs(stdin=b"hello world") as v:
        assert v.stdio() == 0 and v.mount_dev() == 0 and v.mount_proc() == 0
        assert v.stat("/dev/stdout") == v.fstat(1) and v.stat("/dev/fd/0") == v.fstat(0)
        out = v.open("/dev/stdout", O.O_WRONLY)
        assert v.write(out, b"via /dev/stdout\n") == 16 and v.stdout == b"via /dev/stdout\n"
        assert v.lseek(out, 0, os.SEEK_CUR) == -E.ESPIPE  # a pipe, as fd 1 is
        assert v.close_fd(out) == 0 and v.closed_channels == []  # fd 1 still holds the channel
        assert v.write(1, b"fd 1\n") == 5
        inp = v.open("/dev/stdin")
        assert v.read(inp, 5) == b"hello" and v.read(0, 6) == b" world"
        # the channels go one way
        assert v.open("/dev/stdin", O.O_WRONLY) == -E.EACCES and v.open("/dev/stdout", O.O_RDWR) == -E.EACCES
        assert v.close_fd(1) == 0 and v.closed_channels == [1]
        assert v.open("/dev/stdout", O.O_WRONLY) == -E.ENOENT  # fd 1 is closed
        err_fd = v.open("/dev/stderr", O.O_WRONLY)
        assert v.close_fd(2) == 0 and v.closed_channels == [1]  # the reopened one still holds it
        assert v.close_fd(err_fd) == 0 and v.closed_channels == [1, 2]


def test_reserved_fd_is_never_handed_out(v):
    assert v.fcntl(3, 1) == -E.EBADF and v.close_fd(3) == -E.EBADF and v.fstat(3) == -E.EBADF
    assert v.dup2(0, 3) == -E.EBADF and v.dup3(0, 3) == -E.EBADF
    fds = [v.dup(0), v.fcntl(0, 0, 3), v.open("/dev/null")]  # dup, F_DUPFD from 3, open
    assert 3 not in fds and fds == [4, 5, 6]
    with HostVfs() as w:
        assert w.stdio() == 0 and w.reserve_fd(1) == -E.EBUSY and w.reserve_fd(-1) == -E.EINVAL


def test_several_reserved_fds_are_all_kept_out(v):
    """The layer reserves two numbers (the channel's and the image's): any reserved numbers stay out."""
    assert v.reserve_fd(5) == 0
    fds = [v.dup(0) for _ in range(4)]
    assert 3 not in fds and 5 not in fds and fds == [4, 6, 7, 8]
    assert v.dup2(0, 5) == -E.EBADF and v.dup2(0, 3) == -E.EBADF
