"""A program's own signal handlers work in the picoprocess, and SIGSYS stays the layer's."""
import pytest

from xax_emu import protocol as p
from xax_emu.seal import syscall_number

from conftest import run_native, run_pico


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_handler_with_a_full_mask_runs_and_makes_system_calls(build, libc):
    prog = build("programs/signals.c", libc)
    native = run_native(prog)
    sealed = run_pico(prog, trace_all=True)
    lines = sealed.stdout.decode().splitlines()
    # Natively SIGSYS can be ignored (0); in the picoprocess it is refused: the only difference.
    assert native.stdout.decode().splitlines()[:2] == lines[:2] == [
        "sigaction SIGSEGV: 0", "read back: 0, mask has SIGSYS: 1, handler same: 1"]
    assert lines[2] == "sigaction SIGSYS: -1"
    assert lines[3:] == native.stdout.decode().splitlines()[3:] == ["caught signal 11 in the handler"]
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
