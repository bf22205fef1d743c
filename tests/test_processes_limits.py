"""The family limited and shown as a whole (docs/processes.md, issue 14): memory and CPU summed
over its processes from the kernel's accounts (monitor/familywatch.py), and `xax-emu trace`'s
process tree, in text and JSON."""
import json
import subprocess
import sys
from pathlib import Path

from xax_emu.monitor import Limits

from conftest import run_pico
# _leftovers_before is autouse: what other tests' Monitors left before each test is not its
from test_processes import _build, _image, _leftovers_before, _ours_left  # noqa: F401

HERE = Path(__file__).parent


def test_a_fork_bomb_of_memory_is_stopped_by_the_family_limit(tmp_path):
    """Each child touches 40 MiB, within its own RLIMIT_AS of 128 MiB; together they pass the
    family's 128 MiB, and the family ends with one line naming that limit."""
    prog = _build(tmp_path, HERE / "hostile" / "family_limits.c", "fl")
    r = run_pico(prog, ["membomb"], limits=Limits(wall_seconds=60, processes=16, memory=128 << 20))
    assert r.report.reason is not None and r.report.reason.startswith("family memory limit of 128M reached: its ")
    assert "\n" not in r.report.reason
    assert _ours_left() == []


def test_spinning_children_are_stopped_by_the_family_cpu_limit(tmp_path):
    prog = _build(tmp_path, HERE / "hostile" / "family_limits.c", "fl")
    r = run_pico(prog, ["cpubomb"], limits=Limits(wall_seconds=60, processes=8, cpu_seconds=2))
    assert r.report.reason is not None and r.report.reason.startswith("family CPU time limit of 2 s reached")
    assert _ours_left() == []


TREE_PROGRAM = r'''
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    if (argc > 1)
        return 7;                        /* the exec'd program */
    pid_t a = fork();
    if (a == 0) {
        char *args[] = {"/bin/tree", "again", 0};
        execv("/bin/tree", args);
        _exit(99);
    }
    pid_t b = fork();
    if (b == 0) {
        pid_t c = fork();
        if (c == 0)
            _exit(3);
        waitpid(c, 0, 0);
        _exit(5);
    }
    waitpid(a, 0, 0);
    waitpid(b, 0, 0);
    pid_t d = fork();
    if (d == 0)
        for (;;)
            pause();
    kill(d, 9);
    waitpid(d, 0, 0);
    puts("done");
    return 0;
}
'''


def _tree_image(tmp_path: Path) -> Path:
    src = tmp_path / "tree.c"
    src.write_text(TREE_PROGRAM)
    return _image(tmp_path, {"/bin/tree": _build(tmp_path, src, "tree")}, "/bin/tree")


def test_trace_shows_the_family_tree(tmp_path):
    image = _tree_image(tmp_path)
    r = subprocess.run([sys.executable, "-m", "xax_emu", "trace", "--processes", "8", str(image)],
                       capture_output=True, timeout=120)
    assert r.returncode == 0 and r.stdout == b"done\n", r.stderr
    text = r.stderr.decode()
    tree = text[text.index("processes: 5"):].splitlines()
    shown = [line.rsplit(",", 1)[0] for line in tree[1:6]]
    assert shown == ["  100 /bin/tree: exited 0",
                     "    101 /bin/tree -> /bin/tree: exited 7",
                     "    102 /bin/tree: exited 5",
                     "      103 /bin/tree: exited 3",
                     "    104 /bin/tree: killed by signal 9"]
    assert all(line.endswith(" calls") for line in tree[1:6])


def test_trace_json_has_the_family(tmp_path):
    image = _tree_image(tmp_path)
    out = tmp_path / "t.json"
    r = subprocess.run([sys.executable, "-m", "xax_emu", "trace", "--json", "--output", str(out), "--processes", "8",
                        str(image)], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    procs = json.loads(out.read_text())["processes"]
    assert [(p["vpid"], p["parent"], p["programs"], p["exit"]) for p in procs] == [
        (100, None, ["/bin/tree"], {"code": 0}), (101, 100, ["/bin/tree", "/bin/tree"], {"code": 7}),
        (102, 100, ["/bin/tree"], {"code": 5}), (103, 102, ["/bin/tree"], {"code": 3}),
        (104, 100, ["/bin/tree"], {"signal": 9})]
    assert procs[1]["syscalls"]["execve"] == 1 and procs[0]["syscalls"]["wait4"] == 3
    assert sum(p["calls"] for p in procs) > 0
    assert _ours_left() == []


def test_without_a_fork_the_trace_has_no_tree(tmp_path):
    src = tmp_path / "one.c"
    src.write_text('#include <stdio.h>\nint main(void){puts("one"); return 0;}\n')
    out = tmp_path / "t.json"
    r = subprocess.run([sys.executable, "-m", "xax_emu", "trace", "--json", "--output", str(out),
                        str(_build(tmp_path, src, "one"))], capture_output=True, timeout=120)
    assert r.returncode == 0 and json.loads(out.read_text())["processes"] is None
