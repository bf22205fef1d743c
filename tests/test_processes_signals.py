"""What a family's processes see of each other in signals and /proc (docs/processes.md, issue 14):
SIGCHLD's siginfo names the child by its virtual pid, compared with the native run."""
import subprocess
from pathlib import Path

import pytest

from xax_emu.monitor import Limits

from conftest import run_pico
# _leftovers_before is autouse: what other tests' Monitors left before each test is not its
from test_processes import _build, _leftovers_before, _ours_left  # noqa: F401

HERE = Path(__file__).parent


@pytest.mark.parametrize("rewrite", [True, False])
def test_sigchld_names_the_child_as_fork_did(tmp_path, rewrite):
    """The handler's si_pid and si_uid (the kernel's are the host's), rewritten call sites or not,
    and after the child was reaped (its handler runs once SIGCHLD is unblocked)."""
    prog = _build(tmp_path, HERE / "programs" / "sigchld.c", "sigchld")
    native = subprocess.run([str(prog)], capture_output=True, timeout=60)
    assert native.returncode == 0 and native.stdout.count(b"is the child: 1") == 7
    r = run_pico(prog, limits=Limits(wall_seconds=60, processes=4), rewrite=rewrite)
    assert (r.code, r.report.reason) == (0, None)
    assert r.stdout == native.stdout
    assert _ours_left() == []


def test_proc_self_names_each_process_of_the_family(tmp_path):
    """/proc/self in a child and a grandchild is their own pid (the family shares the vfs's
    nodes: the link is made as it is read), /proc lists it, /proc/<pid>/fd is theirs."""
    prog = _build(tmp_path, HERE / "programs" / "procself.c", "procself")
    native = subprocess.run([str(prog)], capture_output=True, timeout=60)
    assert native.returncode == 0 and b": 0" not in native.stdout
    r = run_pico(prog, limits=Limits(wall_seconds=60, processes=4))
    assert (r.code, r.report.reason) == (0, None)
    assert r.stdout == native.stdout


def test_nonblocking_family_pipes_as_natively(tmp_path):
    """O_NONBLOCK (F_SETFL, FIONBIO, pipe2) on pipes that crossed a fork: EAGAIN when empty or
    full, a write of a page whole or not at all, POLLOUT once a page is free."""
    prog = _build(tmp_path, HERE / "programs" / "nbpipe.c", "nbpipe")
    native = subprocess.run([str(prog)], capture_output=True, timeout=60)
    assert native.returncode == 0 and b"child filled 65536, then Resource temporarily unavailable" in native.stdout
    r = run_pico(prog, limits=Limits(wall_seconds=60, processes=4))
    assert (r.code, r.report.reason) == (0, None)
    assert r.stdout == native.stdout
    assert _ours_left() == []


def test_a_signal_ends_poll_select_and_epoll_wait_with_eintr(tmp_path):
    """A SIGCHLD that comes while poll, select or epoll_wait waits with no timeout (over a pipe of
    the process's own, and over one of the family's, which the Monitor answers) ends the wait
    with EINTR and its handler runs, SA_RESTART or not, as on Linux (tests/programs/waitintr.c,
    rewritten call sites).  It hung before: the handler was held back until the call returned,
    and asyncio's child watcher's handler writes the very socket its epoll_wait waits for."""
    prog = _build(tmp_path, HERE / "programs" / "waitintr.c", "waitintr")
    native = subprocess.run([str(prog)], capture_output=True, timeout=60)
    assert native.returncode == 0 and native.stdout.count(b"Interrupted system call, handler ran 1") == 12
    r = run_pico(prog, limits=Limits(wall_seconds=60, processes=4))
    assert (r.code, r.report.reason) == (0, None)
    assert r.stdout == native.stdout
    assert _ours_left() == []


def test_a_wait_on_a_shared_socket_or_eventfd_is_woken_by_another_member(tmp_path):
    """A socketpair and an eventfd made before a fork live in the family's arena; a read, poll,
    select or epoll_wait in one member with no timeout ends when another member writes, as on
    Linux (it hung: the writer's futex wake is private to its own process)."""
    prog = _build(tmp_path, HERE / "programs" / "sharedwake.c", "sharedwake")
    native = subprocess.run([str(prog)], capture_output=True, timeout=60)
    assert native.returncode == 0 and b"parent read 4: ping" in native.stdout
    assert native.stdout.count(b"ready 1") == 3 and b"child read 8: 3" in native.stdout
    r = run_pico(prog, limits=Limits(wall_seconds=20, processes=4), profile="glibc-dynamic")  # its sockets
    assert (r.code, r.report.reason) == (0, None)
    assert r.stdout == native.stdout
    assert _ours_left() == []
