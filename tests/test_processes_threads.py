"""exec from a multithreaded process (docs/processes.md, issue 14): as Linux's exec, every other
thread ends before the new program runs — one writing to a pipe, one spinning, one sleeping, one
waiting on a condition variable — compared with the native run (tests/programs/threadexec.c)."""
import subprocess
from pathlib import Path

import pytest

from xax_emu.monitor import Limits

from conftest import run_pico
# _leftovers_before is autouse: what other tests' Monitors left before each test is not its
from test_processes import _build, _image, _leftovers_before, _ours_left  # noqa: F401

HERE = Path(__file__).parent


@pytest.mark.parametrize("how", ["main", "fromthread"])
def test_exec_ends_the_other_threads_as_natively(tmp_path, how):
    prog = _build(tmp_path, HERE / "programs" / "threadexec.c", "threadexec")
    args = ["fromthread"] if how == "fromthread" else []
    native = subprocess.run([str(prog), *args], capture_output=True, timeout=60)
    assert native.returncode == 7, native
    assert native.stdout == (b"exec'd: the threads wrote before the exec: yes\n"
                             b"exec'd: written after the exec: 0 bytes\n"
                             b"exec'd: read after the last writer: 0\n")
    image = _image(tmp_path, {"/bin/threadexec": prog}, "/bin/threadexec")
    r = run_pico(image, args, limits=Limits(wall_seconds=60, processes=4))
    assert (r.code, r.report.reason) == (7, None), r.stderr
    assert (r.stdout, r.stderr) == (native.stdout, native.stderr)
    assert r.xaxcalls["EXEC"] >= 1
    assert _ours_left() == []


def test_proc_self_exe_names_the_program_an_exec_runs(tmp_path):
    """/proc/self/exe after an exec: readlink names the new program (a second file), and opening
    it opens that file, as on Linux (tests/programs/execexe.c)."""
    import shutil
    first = _build(tmp_path, HERE / "programs" / "execexe.c", "first")
    second = tmp_path / "second"
    shutil.copy(first, second)
    with open(second, "ab") as f:
        f.write(b"\0" * 4096)  # a different size: opening exe must open the second file
    native = subprocess.run([str(first)], capture_output=True, timeout=60)
    assert native.returncode == 0, native
    assert native.stdout == (f"first: exe {first}, opened: the same file\n"
                             f"second: exe {second}, opened: the same file\n").encode()
    r = run_pico(_image(tmp_path, {"/bin/first": first, "/bin/second": second}, "/bin/first"),
                 limits=Limits(wall_seconds=60, processes=4))
    assert (r.code, r.report.reason) == (0, None), r.stderr
    assert r.stdout == native.stdout.replace(str(tmp_path).encode(), b"/bin")


def test_exec_ends_the_other_threads_in_a_forked_member(tmp_path):
    """The same in a process of the family (a forked child that execs the threaded program,
    which execs again): the Monitor signals that member's threads, not the entry's."""
    prog = _build(tmp_path, HERE / "programs" / "threadexec.c", "threadexec")
    src = tmp_path / "runner.c"
    src.write_text('#include <stdio.h>\n#include <sys/wait.h>\n#include <unistd.h>\n'
                   'int main(int argc, char **argv){pid_t p=fork(); if(!p){char *a[]={argv[1],0};'
                   'execv(argv[1],a); perror("execv"); _exit(9);} int s; waitpid(p,&s,0);'
                   'printf("member status %d\\n", WEXITSTATUS(s)); return 0;}\n')
    runner = _build(tmp_path, src, "runner")
    native = subprocess.run([str(runner), str(prog)], capture_output=True, timeout=60)
    assert native.stdout.endswith(b"member status 7\n"), native
    image = _image(tmp_path, {"/bin/runner": runner, "/bin/threadexec": prog}, "/bin/runner")
    r = run_pico(image, ["/bin/threadexec"], limits=Limits(wall_seconds=60, processes=4))
    assert (r.code, r.report.reason) == (0, None), r.stderr
    assert (r.stdout, r.stderr) == (native.stdout, native.stderr)
    assert _ours_left() == []
