"""A program's own signal handlers work in the picoprocess; its SIGSYS, SIGSEGV and SIGBUS are delivered
by the PAL (the real ones stay the PAL's), as the kernel would deliver them."""
import signal

import pytest

from xax_emu import protocol as p
from xax_emu.seal import syscall_number

from conftest import run_native, run_pico


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_handler_with_a_full_mask_runs_and_makes_system_calls(build, libc):
    prog = build("programs/signals.c", libc)
    native = run_native(prog)
    sealed = run_pico(prog, trace_all=True)
    # SIGSYS can be ignored, as natively: the program's SIGSYS is the layer's to deliver (the real one
    # stays the seal's).
    assert sealed.stdout.decode().splitlines() == native.stdout.decode().splitlines() == [
        "sigaction SIGSEGV: 0", "read back: 0, mask has SIGSYS: 1, handler same: 1", "sigaction SIGSYS: 0",
        "caught signal 11 in the handler"]
    assert sealed.code == native.returncode == 3
    assert sealed.report.trace[(syscall_number("rt_sigaction"), p.TRACE_MISSING)] == 0  # emulated, never missing


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_start_up_probes_answer_as_linux_does(build, libc):
    """getrlimit/setrlimit (the program's own table), sysinfo and getloadavg, sigaltstack
    (recorded, read back, checked as Linux checks it): the same verdicts as natively."""
    prog = build("programs/probes.c", libc)
    native = run_native(prog)
    sealed = run_pico(prog, trace_all=True)
    assert b"bad" not in native.stdout
    assert sealed.stdout == native.stdout
    assert sealed.report.missing == {}


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_a_program_signals_itself_as_natively(build, libc):
    """raise() and kill(getpid()) run its handler; kill of another pid is ESRCH; abort()
    ends it with SIGABRT (exit 134), as natively.  The layer signals the picoprocess through
    kill at its host pid, the only pid the filter lets it name (tests/test_hostile.py)."""
    prog = build("programs/selfsignal.c", libc)
    r = run_pico(prog, trace_all=True)
    n = run_native(prog)
    assert (r.stdout, r.code) == (n.stdout, 128 - n.returncode)
    assert r.report.signal == 6 and b"raise 0 got 10\nkill self 0 got 10\n" in r.stdout
    assert r.report.missing == {}


@pytest.mark.parametrize("libc", ["musl", "glibc"])
@pytest.mark.parametrize("last", [signal.SIGSYS, signal.SIGSEGV, signal.SIGBUS])
def test_sigsys_sigsegv_and_sigbus_sent_to_itself_as_natively(build, libc, last):
    """Their real handlers are the PAL's and the picoprocess never sends them for real (a
    pending SIGSYS would swallow a trap's): the layer hands them to the PAL, which delivers
    them to the program's action as the kernel would.  Handlers run for raise() and
    kill(getpid()) with their siginfo, the interrupted code resumes with its floating-point
    state, SIG_IGN ignores, and after a one-shot handler the default action ends it."""
    prog = build("programs/selfsigsys.c", libc)
    r = run_pico(prog, [str(int(last))])
    n = run_native(prog, [str(int(last))])
    assert (r.stdout, r.code, r.report.signal) == (n.stdout, 128 - n.returncode, last)
    assert b"raise 31: 0 runs 1 sig 31 code -6 from self 1 fp 1\nkill 31: 0 runs 1 code 0\n" in r.stdout


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_the_program_s_own_faults_reach_its_handlers(build, libc):
    """The PAL keeps the real SIGSEGV and SIGBUS handlers (a bad pointer in a system call is
    -EFAULT, and the program's handler never hears of it) and hands the program's own faults
    to its handlers on the kernel's frame: the address and code, a handler that makes system
    calls with bad pointers itself and leaves with siglongjmp, a SIGBUS handler that edits
    the interrupted context and returns; then the default action ends it with SIGSEGV."""
    prog = build("programs/faults.c", libc)
    r = run_pico(prog)
    n = run_native(prog)
    assert (r.stdout, r.code, r.report.signal) == (n.stdout, 128 - n.returncode, signal.SIGSEGV)
    assert b"store 2: signal 11 at page+2 code 2, write in handler errno 14\n" in r.stdout
    assert b"unaligned: signal 7 code 1, write in handler errno 14, loaded 0\n" in r.stdout
