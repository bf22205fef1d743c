"""Unmodified, dynamically linked Debian programs packed into images: the PAL loads
PT_INTERP (ld.so) from the image, and ld.so loads the libraries through the layer's
file system.  Output compared with the native run, byte for byte."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xax_emu.image import pack_image
from xax_emu.monitor import Limits
from xax_emu.syscalls import catalogue

from conftest import run_pico
from trace_support import check_kernel_accounting

PYTHON = Path("/usr/bin/python3.11")


def pack(tmp_path: Path, name: str, entry: str, files: dict[str, str], exclude: list[str] = ()) -> Path:
    lines = [f"exclude = {list(exclude)!r}".replace("'", '"'), "", "[app]", f'name = "{name}"', f'entry = "{entry}"',
             "args = []", 'env = { LC_ALL = "C" }', 'cwd = "/"', 'profile = "glibc-dynamic"', "", "[files]"]
    lines += [f'"{dst}" = "{src}"' for dst, src in files.items()]
    manifest = tmp_path / f"{name}.toml"
    manifest.write_text("\n".join(lines) + "\n")
    out = tmp_path / f"{name}.tar"
    pack_image(str(manifest), str(out))
    return out


def native(argv: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(argv, input=stdin, capture_output=True, env={"LC_ALL": "C"}, timeout=60)


@pytest.mark.parametrize("argv", [["echo", "hello", "dynamic", "world"], ["echo", "-e", "a\\tb"]])
def test_coreutils_echo(tmp_path, argv):
    image = pack(tmp_path, "echo", "/bin/echo", {"/bin/echo": "/bin/echo"})
    r = run_pico(image, argv[1:], trace_all=True)
    n = native(["/bin/echo", *argv[1:]])
    assert (r.stdout, r.stderr, r.code) == (n.stdout, n.stderr, n.returncode)
    assert r.report.missing == {}
    program = check_kernel_accounting(r.report)
    assert program["arch_prctl"] == 1 and program["mprotect"] >= 1  # ld.so: the thread pointer, RELRO


def test_python_runs_a_script(tmp_path):
    if not PYTHON.exists():
        pytest.fail(f"{PYTHON} is missing (bootstrap.sh installs Debian's python3.11)")
    image = pack(tmp_path, "python3", str(PYTHON), {str(PYTHON): str(PYTHON), "/usr/lib/python3.11": "/usr/lib/python3.11"},
                 exclude=["test/*", "idlelib/*", "tkinter/*", "ensurepip/*", "lib2to3/*"])
    script = ("import json, re, hashlib, zlib, struct, datetime\n"
              "d = {'re': re.sub(r'(\\d+)', r'<\\1>', 'a1b22'), 'sha': hashlib.sha256(b'xax').hexdigest(),\n"
              "     'z': len(zlib.compress(b'x' * 1000)), 's': struct.pack('<iq', 1, -2).hex(),\n"
              "     'd': datetime.date(2008, 12, 8).isoformat()}\n"
              "print(json.dumps(d, sort_keys=True))\n")
    r = run_pico(image, ["-c", script], trace_all=True)
    n = native([str(PYTHON), "-c", script])
    assert (r.stdout, r.stderr, r.code) == (n.stdout, n.stderr, n.returncode)
    assert r.report.missing == {}  # glibc-dynamic answers everything python3 asks here
    assert b'"sha": "' in r.stdout
    assert "OPEN_URL" not in r.xaxcalls and "READ" not in r.xaxcalls  # the image came as an fd, mapped
    program = check_kernel_accounting(r.report)
    assert program["mmap"] >= 1 and program["munmap"] >= 1  # its allocator's arenas, straight from the kernel


def test_python_reads_dev_and_proc_as_natively(tmp_path):
    """What python3 reads of /dev and /proc comes from the layer's synthetic routes (the shipped
    bases'), never from the host: the same answers as natively, but for the machine's own numbers."""
    if not PYTHON.exists():
        pytest.fail(f"{PYTHON} is missing (bootstrap.sh installs Debian's python3.11)")
    image = pack(tmp_path, "python3", str(PYTHON), {str(PYTHON): str(PYTHON), "/usr/lib/python3.11": "/usr/lib/python3.11"},
                 exclude=["test/*", "idlelib/*", "tkinter/*", "ensurepip/*", "lib2to3/*"])
    script = ("import os, stat, sys\n"
              "with open(os.devnull, 'w') as f: print('devnull', f.write('discarded'), f.tell())\n"
              "with open('/dev/urandom', 'rb') as f: a, b = f.read(32), f.read(32); print('urandom', len(a), a != b)\n"
              "st = os.stat('/dev/null'); print('null', stat.S_ISCHR(st.st_mode), oct(st.st_mode & 0o777), "
              "os.major(st.st_rdev), os.minor(st.st_rdev))\n"
              "print('exe', os.readlink('/proc/self/exe') == sys.executable, os.readlink('/proc/self') == str(os.getpid()))\n"
              "print('fds', sorted(os.listdir('/proc/self/fd'))[:3], os.readlink('/dev/stdin'))\n"
              "print('load', len(os.getloadavg()))\n"
              "print('tty', os.path.exists('/dev/tty'))\n")
    r = run_pico(image, ["-S", "-c", script], trace_all=True)
    n = native([str(PYTHON), "-S", "-c", script])
    assert (r.stdout, r.stderr, r.code) == (n.stdout, n.stderr, n.returncode)
    assert b"exe True True" in r.stdout and r.report.missing == {}
    r = run_pico(image, ["-S", "-c", "import os; print(os.cpu_count(), open('/proc/loadavg').read(), end='')"])
    assert r.stdout == b"1 0.00 0.00 0.00 1/1 100\n"  # the picoprocess's machine: one idle CPU


def test_bare_dynamic_program_is_refused_with_advice():
    r = subprocess.run([sys.executable, "-m", "xax_emu", "run", "/bin/echo"], capture_output=True, timeout=60)
    assert r.returncode == 2 and b"pack an image" in r.stderr


def test_python_stdlib_test_modules_pass_in_the_picoprocess(tmp_path):
    """Debian's own test modules (libpython3.11-testsuite) run with `python3 -m test`
    inside the picoprocess.  Three tests are left out here because each starts another
    process (json.tool through a subprocess, a re timeout in a child, struct at
    interpreter shutdown in a child), which one picoprocess cannot: the next test runs them
    with processes enabled.  (This one keeps one process for check_kernel_accounting.)"""
    image = _python_tests_image(tmp_path)
    r = run_pico(image, ["-m", "test", "test_json", "test_re", "test_struct", "test_string",
                         "--ignore", "*.test_tool.*", "--ignore", "*test_regression_gh94675",
                         "--ignore", "*test_struct_cleans_up_at_runtime_shutdown"],
                 trace_all=True)
    out = r.stdout.decode() + r.stderr.decode()
    assert "All 4 tests OK." in out and "Tests result: SUCCESS" in out, out[-3000:]
    # What the runner itself still asks for and gets -ENOSYS: processes (wait4), event loops
    # (poll, epoll_create1), and mremap (realloc copies instead).  Its watchdog is a thread.
    missing = {catalogue.by_number(nr).name for nr in r.report.missing}
    assert missing <= {"wait4", "poll", "epoll_create1", "mremap"}, missing
    assert r.code == 0
    program = check_kernel_accounting(r.report)
    assert program["mmap"] >= 1 and program["munmap"] >= 1


FAMILY_TESTS = ["test_infile_outfile", "test_writing_in_place", "test_stdin_stdout", "test_regression_gh94675",
                "test_struct_cleans_up_at_runtime_shutdown"]


def test_python_stdlib_tests_that_start_processes_pass_with_processes(tmp_path):
    """The three left out above, run with processes enabled: test_json's test_tool (json.tool in
    a subprocess, reading and writing files of the family's RAM disk), test_re's
    test_regression_gh94675 (a child) and test_struct's runtime-shutdown test (a child)."""
    image = _python_tests_image(tmp_path)
    r = run_pico(image, ["-m", "test", "test_json", "test_re", "test_struct", "-v", "-m", "*.test_tool.*",
                         "-m", "*test_regression_gh94675", "-m", "*test_struct_cleans_up_at_runtime_shutdown"],
                 limits=Limits(wall_seconds=300, processes=16))
    out = r.stdout.decode() + r.stderr.decode()
    assert "All 3 tests OK." in out and "Tests result: SUCCESS" in out, out[-3000:]
    for name in FAMILY_TESTS:
        assert re.search(rf"^{name} \(test\.[\w.]+\) \.\.\. ok$", out, re.M), name
    assert "... FAIL" not in out and "... ERROR" not in out
    assert r.code == 0


def _python_tests_image(tmp_path: Path) -> Path:
    if not (PYTHON.parent.parent / "lib/python3.11/test/libregrtest").is_dir():
        pytest.fail("Debian's libpython3.11-testsuite is missing (bootstrap.sh installs it)")
    (tmp_path / "profile.py").write_text(
        "from xax_emu.profiles import load\n"
        "from xax_emu.syscalls.profile import Profile, RamDisk\n"
        "APP = Profile('python3-tests', extends=[load('glibc-dynamic')], routes={'/tmp': RamDisk(size=64 << 20)})\n")
    (tmp_path / "manifest.toml").write_text(
        'exclude = ["idlelib/*", "tkinter/*", "ensurepip/*", "lib2to3/*"]\n'
        '[app]\nname = "python3-tests"\nentry = "/usr/bin/python3.11"\n'
        'env = { LC_ALL = "C", HOME = "/tmp", TMPDIR = "/tmp" }\ncwd = "/tmp"\nprofile = "profile.py:APP"\n'
        '[files]\n"/usr/bin/python3.11" = "/usr/bin/python3.11"\n"/usr/lib/python3.11" = "/usr/lib/python3.11"\n')
    image = tmp_path / "python3-tests.tar"
    pack_image(str(tmp_path / "manifest.toml"), str(image))
    return image


PY_THREADS = """\
import concurrent.futures, os, queue, sys, threading
q = queue.Queue()
def worker(i):
    q.put(sum(range(i * 100000)))
threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(sorted(q.get() for _ in range(4)))
with concurrent.futures.ThreadPoolExecutor(3) as pool:
    print(list(pool.map(lambda x: x * x, range(8))))
event, seen = threading.Event(), []
timer = threading.Timer(0.05, lambda: (seen.append("fired"), event.set()))
timer.start(); event.wait(5); timer.join()
path = os.path.join(sys.argv[1], "xax-threads.txt")
with open(path, "w") as f:
    f.write("written by the main thread, after %d threads\\n" % (len(threads) + 3))
with open(path) as f:
    print(f.read(), end="")
os.unlink(path)
print(seen, threading.active_count())
"""


def test_python_threads_and_a_file_on_the_ram_disk(tmp_path):
    """threading, queue, a thread pool and a timer, then a file written and read back on
    the RAM disk (/tmp in the picoprocess, a host directory natively)."""
    (tmp_path / "profile.py").write_text(
        "from xax_emu.profiles import load\n"
        "from xax_emu.syscalls.profile import Profile, RamDisk\n"
        "APP = Profile('python3-threads', extends=[load('glibc-dynamic')], routes={'/tmp': RamDisk(size=16 << 20)})\n")
    (tmp_path / "manifest.toml").write_text(
        'exclude = ["test/*", "idlelib/*", "tkinter/*", "ensurepip/*", "lib2to3/*"]\n'
        '[app]\nname = "python3-threads"\nentry = "/usr/bin/python3.11"\n'
        'env = { LC_ALL = "C" }\nprofile = "profile.py:APP"\n'
        '[files]\n"/usr/bin/python3.11" = "/usr/bin/python3.11"\n"/usr/lib/python3.11" = "/usr/lib/python3.11"\n')
    image = tmp_path / "python3-threads.tar"
    pack_image(str(tmp_path / "manifest.toml"), str(image))
    r = run_pico(image, ["-c", PY_THREADS, "/tmp"], trace_all=True)
    host_dir = tmp_path / "native-tmp"
    host_dir.mkdir()
    n = native([str(PYTHON), "-c", PY_THREADS, str(host_dir)])
    assert (r.stdout, r.stderr, r.code) == (n.stdout, n.stderr, n.returncode)
    assert b"['fired'] 1\n" in r.stdout
    assert r.report.missing == {}
