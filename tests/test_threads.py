"""Threads: pthread_create reaches the kernel through the allowlist's one clone
form, the layer serves the threads' trapped calls one at a time, and the thread
limit holds.  Outputs are compared with the same program run natively."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xax_emu.monitor import Limits, Monitor, Stdio
from xax_emu.launch.request import Request, start_kwargs
from xax_emu.launch.program import resolve

from conftest import run_native, run_pico


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_pthreads_give_the_native_output(build, libc):
    prog = build("programs/threads.c", libc, ["-pthread"])
    r = run_pico(prog, ["6"])
    n = run_native(prog, ["6"])
    assert (r.stdout, r.stderr, r.code) == (n.stdout, n.stderr, n.returncode)
    assert b"created 6\n" in r.stdout and b"counter 300000 sum 210 tls errors 0\n" in r.stdout


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_the_thread_limit_is_the_picoprocess_s_whole_count(build, libc):
    """--threads 3: the main thread and two more; the third pthread_create gets EAGAIN."""
    prog = build("programs/threads.c", libc, ["-pthread"])
    r = run_pico(prog, ["5"], limits=Limits(wall_seconds=30, threads=3))
    assert r.stdout == (b"create 2: Resource temporarily unavailable\ncreated 2\nready\n"
                        b"counter 100000 sum 30 tls errors 0\n")
    assert r.code == 3


def _status(pid: int) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def test_seen_from_outside_threads_are_counted_in_a_user_namespace_of_its_own(build):
    """While the program's threads run: the picoprocess has them as kernel tasks, lives in
    a user namespace that is not ours, has RLIMIT_NPROC at the limit, and (when the
    Monitor is root) runs as uid 65534 — the kernel never applies RLIMIT_NPROC to uid 0."""
    prog = build("programs/threads.c", "glibc", ["-pthread"])
    seen: dict = {}
    out = bytearray()
    with Monitor(log=lambda line: None) as monitor:
        def stdout(data: bytes) -> None:
            out.extend(data)
            if b"ready\n" in out and not seen:
                pid = pico.pid
                seen["status"] = _status(pid)
                seen["userns"] = os.readlink(f"/proc/{pid}/ns/user")
                seen["limits"] = [line for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
                                  if line.startswith("Max processes")]
        request = Request(resolve(str(prog), None), ["4"], [], None, {"threads": 7, "wall_seconds": 30})
        pico = monitor.start(**start_kwargs(request), stdio=Stdio(stdout=stdout, stderr=lambda d: None))
        (report,) = monitor.run_until_done([pico])
    assert report.exit_code == 0, out
    assert seen["status"]["Threads"] == "5"
    assert seen["userns"] != os.readlink("/proc/self/ns/user")
    assert seen["limits"][0].split()[2:4] == ["7", "7"]
    if os.geteuid() == 0:
        assert seen["status"]["Uid"].split() == ["65534"] * 4
        assert seen["status"]["Gid"].split() == ["65534"] * 4
    assert seen["status"]["CapEff"] == "0000000000000000" and seen["status"]["Seccomp"] == "2"


@pytest.mark.parametrize("value", ["0", "5000", "many"])
def test_a_bad_thread_limit_is_refused_by_name(build, value):
    proc = subprocess.run([sys.executable, "-m", "xax_emu", "run", "--threads", value, str(build("programs/hello.c"))],
                          capture_output=True, timeout=60)
    assert proc.returncode == 2 and b"--threads" in proc.stderr and value.encode() in proc.stderr


def test_the_thread_limit_from_the_command_line(build):
    prog = build("programs/threads.c", "musl", ["-pthread"])
    proc = subprocess.run([sys.executable, "-m", "xax_emu", "run", "--threads", "2", str(prog), "--", "3"],
                          capture_output=True, timeout=60)
    assert proc.stdout.startswith(b"create 1: Resource temporarily unavailable\ncreated 1\n") and proc.returncode == 3


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_pipes_give_the_native_answers(build, libc):
    """pipe and pipe2 are the layer's own (a 64 KiB ring): every answer as the kernel's,
    and a producer thread feeding a blocking reader through one."""
    prog = build("programs/pipes.c", libc, ["-pthread"])
    r = run_pico(prog, trace_all=True)
    n = run_native(prog)
    assert (r.stdout, r.stderr, r.code) == (n.stdout, n.stderr, n.returncode)
    assert b"threaded 200000 bytes" in r.stdout and r.report.missing == {}


@pytest.mark.parametrize("libc", ["glibc", "musl"])
def test_a_thread_s_output_is_not_stuck_behind_another_thread_s_wait_for_input(build, libc):
    """The main thread waits on stdin; another thread prints the prompt that makes the
    user (here, the stdout callback) type the answer.  A wait that held the channel
    would keep the prompt from ever leaving: the wall limit would end the run."""
    prog = build("programs/thread_prompt.c", libc, ["-pthread"])
    read_end, write_end = os.pipe()
    out = bytearray()
    with Monitor(log=lambda line: None) as monitor:
        def stdout(data: bytes) -> None:
            out.extend(data)
            if b"prompt\n" in out and write_end >= 0:
                os.write(write_end, b"the answer\n")
        request = Request(resolve(str(prog), None), [], [], None, {"wall_seconds": 20})
        pico = monitor.start(**start_kwargs(request),
                             stdio=Stdio(stdout=stdout, stderr=lambda d: None, stdin_fd=read_end, stdin_bytes=None))
        (report,) = monitor.run_until_done([pico])
    os.close(write_end)
    os.close(read_end)
    assert report.reason is None and report.exit_code == 0
    assert bytes(out) == b"prompt\ngot 11: the answer\n"


UAPI = ["-idirafter", "/usr/include", "-idirafter", "/usr/include/x86_64-linux-gnu"]


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_shared_futexes_answer_as_natively(build, libc):
    """Non-private futex operations trap (only private ones reach the kernel: a shared futex
    on a file-backed page would be shared with other picoprocesses) and the PAL makes them as
    private ones: the same errors and timeouts as natively, a wait woken by another thread,
    and pthread_join, which waits for the kernel's non-private wake at a thread's exit."""
    from xax_emu.protocol import TRACE_KINDS
    from xax_emu.seal import syscall_number
    kinds = {name: number for name, number, _ in TRACE_KINDS}
    prog = build("programs/futex_shared.c", libc, ["-pthread", *UAPI])
    r = run_pico(prog, trace_all=True)
    n = run_native(prog)
    assert (r.stdout, r.code) == (n.stdout, n.returncode)
    assert b"joined = 20\n" in r.stdout
    futex = {kind: count for (nr, kind), count in r.report.trace.items() if nr == syscall_number("futex")}
    answered = {kinds["EMULATED"], kinds["EMULATED_FAILED"]}  # by the PAL: never rejected, never missing
    assert set(futex) <= answered and sum(futex.values()) >= 12, futex
