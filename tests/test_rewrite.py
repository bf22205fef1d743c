"""Rewritten system call sites (runtime_c/pal/rewrite.c, docs/rewrite.md): a site's
`mov $NR, %eax; syscall` becomes a jump to a stub calling the layer at its first trap.
Each case of tests/programs/rewrite.c runs natively, sealed with rewriting (the default)
and sealed with --no-rewrite; its lines must agree, but for what code reading its own
text sees at a rewritten site."""
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from xax_emu.launch.program import resolve
from xax_emu.launch.request import Request, start_kwargs
from xax_emu.monitor import Limits, Monitor, Stdio
from xax_emu.seal import allowed_numbers, allowlist_for, syscall_number

from conftest import run_native, run_pico

ROOT = Path(__file__).resolve().parent.parent
THREADS = Limits(wall_seconds=60, threads=8)


@pytest.fixture(scope="module")
def prog(build):
    return build("programs/rewrite.c", "musl", ["-pthread"])


def three_ways(prog, mode):
    native = run_native(prog, [mode])
    on = run_pico(prog, [mode], limits=THREADS)
    off = run_pico(prog, [mode], limits=THREADS, rewrite=False)
    assert native.returncode == on.code == off.code == 0, (on.stderr, off.stderr)
    return native.stdout.decode(), on.stdout.decode(), off.stdout.decode()


def without_site_lines(text):
    return [line for line in text.splitlines() if not line.startswith("site:")]


def test_a_branch_straight_to_a_rewritten_syscall_still_makes_its_own_call(prog):
    """Only the mov becomes the jump: the syscall instruction stays, so code that jumps to
    it with another number in eax makes that call (it traps, as before)."""
    native, on, off = three_ways(prog, "boundary")
    assert without_site_lines(on) == without_site_lines(off) == without_site_lines(native)
    assert "straight to the syscall with getuid's number: 1" in on.splitlines()
    # Code that reads its own text sees the jump where the mov was, once the site is rewritten.
    assert "site: after one call: jmp" in on.splitlines()
    assert "site: after one call: mov" in off.splitlines() and "site: after one call: mov" in native.splitlines()


def test_a_site_is_rewritten_with_one_store_of_its_aligned_block_or_not_at_all(prog):
    """Five bytes that fit a 16-byte block are written with one cmpxchg16b; four in a block and
    a fifth 0 past it, with a jump whose displacement keeps that 0; five that straddle two
    blocks otherwise could not be written at once, and keep trapping."""
    native, on, off = three_ways(prog, "blocks")
    assert without_site_lines(on) == without_site_lines(off) == without_site_lines(native) == ["wrong answers: 0"]
    assert on.splitlines()[:3] == ["site: 6 bytes into a block: jmp", "site: 12 bytes into a block: jmp",
                                   "site: 13 bytes into a block: mov"]
    assert off.splitlines()[:3] == native.splitlines()[:3] == [f"site: {n} bytes into a block: mov" for n in (6, 12, 13)]


def test_a_leaf_function_s_red_zone_survives_a_rewritten_call(prog):
    native, on, off = three_ways(prog, "redzone")
    assert on == off == native == "red zone slots changed: 0 then 0\n"


def test_threads_calling_a_site_while_it_is_rewritten(prog):
    native, on, off = three_ways(prog, "threads")
    assert on == off == native == "threads: 5 x 20000 calls, wrong answers: 0\n"


def test_a_handler_interrupting_a_rewritten_call_from_another_thread(prog):
    native, on, off = three_ways(prog, "signals")
    assert on == off == native == "signals handled: 2000, wrong in the handler: 0, wrong outside: 0\n"


def _run_signalled_from_outside(prog, rewrite, mode="outside"):
    """The program loops on a rewritten call while this test sends it SIGUSR1 every
    0.3 ms from outside (kill at its host pid): most land while the layer runs the call
    on the program's stack, holding the layer's lock, which the handler's own call needs.
    Without holding such a signal back until the call returns, the handler deadlocks."""
    out = bytearray()
    monitor = Monitor()
    request = Request(resolve(str(prog), None, None), [mode], [], None, {"wall_seconds": 30}, None)
    pico = monitor.start(**start_kwargs(request), rewrite=rewrite,
                         stdio=Stdio(stdout=out.extend, stderr=out.extend, stdin_bytes=b""))
    done = threading.Event()

    def send():
        while b"ready" not in out and not done.is_set():
            time.sleep(0.001)
        while not done.is_set():
            try:
                os.kill(pico.pid, signal.SIGUSR1)
            except ProcessLookupError:
                return
            time.sleep(0.0003)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        (report,) = monitor.run_until_done([pico])
    finally:
        done.set()
        sender.join()
        monitor.close()
    return report, out.decode()


@pytest.mark.parametrize("rewrite", [True, False])
def test_signals_from_outside_interrupting_rewritten_calls(prog, rewrite):
    report, out = _run_signalled_from_outside(prog, rewrite)
    assert report.reason is None, report.reason
    assert out == "ready\nsignals handled: at least 300, wrong in the handler: 0, wrong outside: 0\n"


@pytest.mark.parametrize("rewrite", [True, False])
def test_a_handler_without_sa_restart_interrupting_the_runtime_s_wait_on_its_channel(prog, rewrite):
    """Through a rewritten site the runtime runs with the program's signal mask: a signal whose
    handler has no SA_RESTART ends the PAL's wait for the Monitor's reply with EINTR.  That
    ended a family's entry with "channel read failed" (dash's SIGCHLD handler, a child's exit
    landing in the parent's rewritten write); the PAL waits again, as the trap path (where every
    signal is blocked) never needed to.  Natively no write here blocks, so none fails."""
    report, out = _run_signalled_from_outside(prog, rewrite, "channel")
    assert report.reason is None, report.reason
    assert re.fullmatch(r"ready\n\.+\nchannel: failed writes: 0\n", out), out[-200:]


def test_calling_the_layer_s_direct_entry_gains_a_program_nothing(prog):
    """A program that finds the direct entry through a stub and calls it with any number
    gets what the same call gets when it traps (DESIGN.md invariant 9)."""
    r = run_pico(prog, ["hostile"])
    assert r.code == 0
    lines = r.stdout.decode().splitlines()
    assert lines == ["direct kill(1, SIGKILL): -3, trapped: -3", "direct ptrace: -38, trapped: -38"]


def test_trace_counts_every_call_whichever_way_it_arrives(prog):
    """The dispatcher sends the trace event, and both paths go through it."""
    on = run_pico(prog, ["boundary"], trace_all=True)
    off = run_pico(prog, ["boundary"], trace_all=True, rewrite=False)
    assert on.report.trace == off.report.trace
    getpid = syscall_number("getpid")
    assert sum(n for (nr, _), n in on.report.trace.items() if nr == getpid) >= 4


def test_the_cli_turns_rewriting_off(prog):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    on = subprocess.run([sys.executable, "-m", "xax_emu", "run", str(prog), "--", "boundary"], capture_output=True,
                        env=env, timeout=60)
    off = subprocess.run([sys.executable, "-m", "xax_emu", "run", "--no-rewrite", str(prog), "--", "boundary"],
                         capture_output=True, env=env, timeout=60)
    assert b"site: after one call: jmp" in on.stdout
    assert b"site: after one call: mov" in off.stdout


def test_calls_the_filter_may_allow_are_never_rewritten():
    """Every call with an allow rule keeps its site, but those allowed only in forms that name
    what only the runtime uses: read and write on the channel's fd (never one of the program's
    fds), rt_sigaction from the sigaction buffer (a random page only the PAL writes)."""
    runtime_only = {syscall_number(name) for name in ("read", "write", "rt_sigaction")}
    for threads in (True, False):
        for export_ram in (True, False):
            listed = set(allowed_numbers(threads, export_ram))
            every = {syscall_number(e.syscall) for e in allowlist_for(threads=threads, export_ram=export_ram)}
            assert listed == every - runtime_only


def _functions(text: str) -> dict[str, str]:
    """The C file's top-level functions: name -> body."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^\w[\w \*]*?\b(\w+)\([^;{]*?\)\n\{\n(.*?)^\}", text,
                                                        re.S | re.M)}


def test_the_calls_never_rewritten_cover_every_handler_that_needs_the_signal_frame():
    """A rewritten call has no SIGSYS frame (layer_call.uc is 0): every handler that reads it,
    itself or through the file's own helpers, must serve only calls in rewrite.c's DIRECT_NEVER."""
    source = (ROOT / "runtime_c" / "pal" / "rewrite.c").read_text()
    block = re.search(r"DIRECT_NEVER\[\] = \{(.*?)\};", source, re.S).group(1)
    never = set(re.findall(r"__NR_(\w+)", block))
    readers = set()
    for path in (ROOT / "runtime_c" / "layer").glob("*.c"):
        functions = _functions(path.read_text())
        uses = {name for name, body in functions.items() if re.search(r"\buc\b", body)}
        while True:  # through the helpers that call a reader
            more = {name for name, body in functions.items()
                    if name not in uses and any(re.search(rf"\b{u}\(", body) for u in uses)}
            if not more:
                break
            uses |= more
        readers |= {name.removeprefix("layer_") for name in uses if name.startswith("layer_")}
    assert {"rt_sigprocmask", "kill", "tkill", "tgkill"} <= readers, "the parse misses handlers: this test is stale"
    assert readers <= never, f"handlers read the SIGSYS frame but are rewritten: {sorted(readers - never)}"
