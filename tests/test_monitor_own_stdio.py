"""The Monitor's own environment is hostile too: its stdout may be a full device, a
non-blocking pipe, or a pipe nobody reads; what it logs for a picoprocess must not
grow with what the picoprocess sends.  None of these may end in a traceback, stall
the event loop (a wall-clock limit fires while stdout is stalled), or lose output
silently (issue 13, classes 2 and 4)."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
from pathlib import Path

from hostile_support import hostile, parse
from xax_emu.monitor import Limits

BUSYBOX = "/bin/busybox"
HANG = 120  # seconds: only a hang detector, never a speed assertion


def xax(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xax_emu", *args], timeout=HANG, **kwargs)


def assert_one_line_no_traceback(stderr: bytes) -> None:
    assert b"Traceback" not in stderr, stderr.decode(errors="replace")


def test_stdout_on_a_full_device_is_one_line_and_the_program_sees_its_writes_fail():
    """The Monitor writes stdout from a buffer, so the failure is known after the
    write that first met it was answered: the program sees its later writes fail
    (seq stops, with seq's own status), and `run` says why in one line."""
    argv = ["seq", "1", "100000"]
    with open("/dev/full", "wb") as full:
        native = subprocess.run([BUSYBOX, *argv], stdout=full, stderr=subprocess.PIPE)
        r = xax("run", BUSYBOX, "--", *argv, stdout=full, stderr=subprocess.PIPE)
    assert_one_line_no_traceback(r.stderr)
    # (busybox's setuid and setgid, which no profile handles, are named on a line of their own)
    ours = [line for line in r.stderr.decode().splitlines() if line.startswith("xax-emu:") and "stdout" in line]
    assert len(ours) == 1 and ours[0].endswith("stdout: No space left on device; "
                                               "the program's further output there is lost"), ours
    assert r.returncode == native.returncode != 0


def test_a_non_blocking_stdout_pipe_gets_every_byte():
    expected = subprocess.run([BUSYBOX, "seq", "1", "200000"], capture_output=True).stdout
    r_fd, w_fd = os.pipe()
    fcntl.fcntl(w_fd, fcntl.F_SETFL, fcntl.fcntl(w_fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    got = bytearray()

    def slow_reader() -> None:
        import time
        while True:
            time.sleep(0.002)  # slower than the program writes: the pipe fills, writes see EAGAIN
            chunk = os.read(r_fd, 4096)
            if not chunk:
                return
            got.extend(chunk)

    reader = threading.Thread(target=slow_reader)
    reader.start()
    try:
        r = xax("run", BUSYBOX, "--", "seq", "1", "200000", stdout=w_fd, stderr=subprocess.PIPE)
    finally:
        os.close(w_fd)
        reader.join(HANG)
        os.close(r_fd)
    assert_one_line_no_traceback(r.stderr)
    assert r.returncode == 0, r.stderr
    assert bytes(got) == expected


def test_a_stalled_stdout_reader_does_not_hold_up_the_wall_clock_limit():
    """Nobody reads the pipe until `run` has ended: the limit must still fire, and
    `run` must still end (before the fix it blocked in write() for as long as the
    reader slept)."""
    r_fd, w_fd = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "xax_emu", "run", "--wall-seconds", "3", BUSYBOX, "--", "yes"],
                                stdout=w_fd, stderr=subprocess.PIPE)
        os.close(w_fd)
        _, err = proc.communicate(timeout=HANG)
    finally:
        os.close(r_fd)
    assert_one_line_no_traceback(err)
    assert proc.returncode == 128 + 9
    assert b"wall-clock limit of 3 s reached" in err


def test_a_closed_stdout_is_a_broken_pipe_not_a_traceback():
    r_fd, w_fd = os.pipe()
    os.close(r_fd)
    try:
        r = xax("run", BUSYBOX, "--", "yes", stdout=w_fd, stderr=subprocess.PIPE)
    finally:
        os.close(w_fd)
    assert_one_line_no_traceback(r.stderr)
    assert r.returncode != 0


def test_a_flood_of_refused_requests_leaves_a_bounded_log(build, tmp_path: Path):
    """2,000 OPEN_URLs with a 60 KB method each: the Monitor refuses every one (the
    program sees -1 each time) and writes only clipped, rate-limited lines."""
    log: list[str] = []
    r = hostile(build, tmp_path, "log_flood.c", ["2000"], limits=Limits(wall_seconds=60), log=log.append)
    assert parse(r.stdout) == {"refused": 2000}
    assert 0 < len(log) < 100
    assert sum(len(line) for line in log) < 32 << 10
    assert all(len(line) < 400 for line in log)
    assert any("lines not logged" in line for line in log)
