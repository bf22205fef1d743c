"""Static programs give the same bytes and exit status inside the picoprocess as natively."""
import os
import subprocess
import sys

import pytest

from conftest import run_native, run_pico

LIBCS = ["musl", "glibc", "glibc-pie"]  # musl-gcc on Debian 12 cannot link a static PIE


@pytest.mark.parametrize("libc", LIBCS)
@pytest.mark.parametrize("args", [[], ["one"], ["x", "y"]])
def test_hello_matches_native(build, libc, args):
    prog = build("programs/hello.c", libc)
    native = run_native(prog, args, env={"GREETING": "hi"})
    sealed = run_pico(prog, args, env=["GREETING=hi"])
    assert sealed.stdout == native.stdout
    assert sealed.stderr == native.stderr
    assert sealed.code == native.returncode
    assert sealed.report.reason is None


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_filter_matches_native(build, libc):
    prog = build("programs/filter.c", libc)
    data = b"".join(b"line %d of the input, with some text\n" % i for i in range(5000)) + b"no newline at end"
    native = run_native(prog, stdin=data)
    sealed = run_pico(prog, stdin=data)
    assert sealed.stdout == native.stdout == data.upper()
    assert sealed.stderr == native.stderr
    assert sealed.code == native.returncode == 5000 % 256


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_filter_empty_stdin(build, libc):
    prog = build("programs/filter.c", libc)
    sealed = run_pico(prog, stdin=b"")
    assert (sealed.stdout, sealed.stderr, sealed.code) == (b"", b"0 lines, 0 bytes\n", 0)


def test_cli_run_relays_stdio_and_exit_status(build):
    prog = build("programs/filter.c")
    proc = subprocess.run([sys.executable, "-m", "xax_emu", "run", str(prog)], input=b"a\nb\nc\n",
                          capture_output=True, timeout=60)
    assert proc.stdout == b"A\nB\nC\n"
    assert proc.stderr == b"3 lines, 6 bytes\n"
    assert proc.returncode == 3


def test_cli_run_passes_arguments_after_double_dash(build):
    prog = build("programs/hello.c", "glibc")
    proc = subprocess.run([sys.executable, "-m", "xax_emu", "run", str(prog), "--env", "GREETING=yo", "--",
                           "--not-an-option", "x"], capture_output=True, timeout=60)
    native = run_native(prog, ["--not-an-option", "x"], env={"GREETING": "yo"})
    assert (proc.stdout, proc.returncode) == (native.stdout, native.returncode)


def test_cli_refuses_dynamic_program():
    proc = subprocess.run([sys.executable, "-m", "xax_emu", "run", "/bin/true"], capture_output=True, timeout=60)
    assert proc.returncode == 2
    assert b"/bin/true: dynamically linked" in proc.stderr


@pytest.mark.parametrize("path,words", [("/nonexistent/prog", b"no such file"), ("/etc/hostname", b"not an ELF"),
                                        ("/tmp", b"is a directory")])
def test_cli_refuses_bad_program(path, words):
    proc = subprocess.run([sys.executable, "-m", "xax_emu", "run", path], capture_output=True, timeout=60)
    assert proc.returncode == 2
    assert words in proc.stderr and path.encode() in proc.stderr
    assert proc.stderr.count(b"\n") == 1


def test_cli_refuses_a_program_name_too_long_in_one_line():
    """ENAMETOOLONG from open() was an OSError traceback (found by tests/fuzz/fz_cli.py)."""
    proc = subprocess.run([sys.executable, "-m", "xax_emu", "run", "x" * 5000], capture_output=True, timeout=60)
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr
    assert proc.stderr.startswith(b"xax-emu: xxx") and b"cannot open it: File name too long" in proc.stderr
    assert proc.stderr.count(b"\n") == 1


def test_monitor_environment_is_not_passed(build):
    prog = build("programs/hello.c")
    env = dict(os.environ, GREETING="secret-from-monitor")
    proc = subprocess.run([sys.executable, "-m", "xax_emu", "run", str(prog)], capture_output=True, env=env,
                          timeout=60)
    assert b"GREETING=(unset)" in proc.stdout


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_time_calls_match_native(build, libc):
    prog = build("programs/timecalls.c", libc)
    native = run_native(prog)
    sealed = run_pico(prog)
    assert b"bad" not in native.stdout
    assert sealed.stdout == native.stdout
    assert sealed.code == native.returncode == 0


def test_run_with_stdin_closed(build):
    """A closed stdin reads as empty: the Monitor's own fds never stand in for it."""
    prog = build("programs/filter.c")
    proc = subprocess.run(f"exec 0<&-; exec {sys.executable} -m xax_emu run {prog}", shell=True,
                          capture_output=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"0 lines, 0 bytes\n")


def test_prctl_answers_with_the_picoprocess_s_truth(build):
    r = run_pico(build("programs/prctl.c"), trace_all=True)
    assert r.stdout == (b"set_name 0\nget_name 0 a-long-name-for\ncapbset 0 0\ncapbset 99 -1 22\n"
                        b"dumpable 0 nnp 1\nother -1 22\n")
    assert r.report.missing == {}


def test_arguments_of_any_bytes_and_hundreds_of_kilobytes_reach_the_program(build):
    """The BOOT message carries up to about 980 KB of arguments (a datagram is capped at
    the channel's send buffer, which the Monitor enlarges for it), and the program gets the
    very bytes the command line gave, UTF-8 or not."""
    import os
    prog = build("programs/hello.c")
    big = ["a" * 100_000, "b" * 100_000, "c" * 100_000]  # 300 KB: over the default 212992-byte buffer
    odd = os.fsdecode(b"\xff\xfe-not-utf8")
    r = subprocess.run([sys.executable, "-m", "xax_emu", "run", str(prog), "--", *big, odd],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(b"argv[") == 4
    assert b"argv[3] = " + b"c" * 100_000 + b"\n" in r.stdout
    assert b"argv[4] = \xff\xfe-not-utf8\n" in r.stdout
