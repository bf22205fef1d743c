"""Process groups and sessions of a family (docs/processes.md, issue 14): the family's own ids,
compared with the same program run natively (tests/programs/pgroups.c), and the hostile ones
(tests/hostile/pgrp_family.c, forged PGRP/KILL/EXEC messages)."""
import subprocess
from pathlib import Path

from xax_emu.monitor import Limits

from conftest import run_pico
# _leftovers_before is autouse: what other tests' Monitors left before each test is not its
from test_processes import _build, _image, _leftovers_before, _ours_left  # noqa: F401

HERE = Path(__file__).parent


def test_groups_and_sessions_as_natively(tmp_path):
    prog = _build(tmp_path, HERE / "programs" / "pgroups.c", "pgroups")
    native = subprocess.run([str(prog)], capture_output=True, timeout=60)
    assert native.returncode == 0 and b"after exec = Permission denied" in native.stdout
    r = run_pico(_image(tmp_path, {"/bin/pgroups": prog}, "/bin/pgroups"), limits=Limits(wall_seconds=60, processes=8))
    assert (r.code, r.report.reason) == (0, None), r.stderr
    assert r.stdout.decode() == native.stdout.decode()
    assert _ours_left() == []


def _hostile(tmp_path: Path) -> Path:
    return _build(tmp_path, HERE / "hostile" / "pgrp_family.c", "pgrp_family")


def test_forged_group_and_exec_messages_kill_the_forger_alone(tmp_path):
    r = run_pico(_hostile(tmp_path), ["forged"], limits=Limits(wall_seconds=60, processes=4))
    assert (r.code, r.report.reason) == (0, None)
    # "exec again payload" announces an exec first: the Monitor's answer ends its only thread
    # (it runs its own code, xax_emu/monitor/threads.py) before it can send the forged one.
    assert r.stdout == (b"pgrp op 99: killed by 9\nsetpgid payload 3: killed by 9\n"
                        b"exec no path: killed by 9\nexec nul: killed by 9\n"
                        b"exec again first: killed by 9\nexec again payload: exited 0\nexec arg 7: killed by 9\n")
    log = "\n".join(r.log)
    assert "PGRP: arg must be one of" in log and "PGRP_SETPGID: the payload is one int32" in log
    assert log.count("EXEC: the path must be") == 2
    assert "EXEC again: only after an EXEC, and without a payload" in log
    assert "EXEC: arg must be 0 or EXEC_AGAIN, not 7" in log
    assert _ours_left() == []


def test_raw_group_requests_get_linux_errnos(tmp_path):
    r = run_pico(_hostile(tmp_path), ["raw"], limits=Limits(wall_seconds=60, processes=4))
    assert (r.code, r.report.reason) == (0, None)
    assert r.stdout == (b"setpgid of the parent = -3\nsetsid with a pid = -22\ngetpgid of the parent = 100\n"
                        b"kill group 7 = -3\nkill group INT_MIN = -3\nchild: exited 0\n")


def test_groups_never_reach_outside_the_family(tmp_path):
    """The host's process group of this test, named from inside: no signal, no wait, no joining;
    kill(-1) reaches the family (the entry program, which ignores signal 0)."""
    import os
    r = run_pico(_hostile(tmp_path), ["outside", str(os.getpgid(0))], limits=Limits(wall_seconds=60, processes=4))
    assert (r.code, r.report.reason) == (0, None)
    assert r.stdout == (b"kill(-host group, 0) = No such process\nkill(-1, 0) = sent (the family)\n"
                        b"waitpid(-host group) = No child process\nsetpgid(0, host group) = Operation not permitted\n"
                        b"child: exited 0\n")


def test_a_raw_pgrp_without_processes_is_a_violation(tmp_path):
    r = run_pico(_hostile(tmp_path), ["alone"], limits=Limits(wall_seconds=60))
    assert r.stdout == b"" and r.report.reason == "protocol violation: PGRP: processes are not enabled"


def test_a_child_in_a_session_of_its_own_still_ends_with_the_family(tmp_path):
    r = run_pico(_hostile(tmp_path), ["leave"], limits=Limits(wall_seconds=60, processes=4))
    assert (r.code, r.report.reason) == (0, None)
    assert r.stdout == b"child's session is its own: 1\n"
    assert _ours_left() == []


def test_one_process_leads_its_group_and_session(tmp_path):
    """Without processes: a family of one, as Linux answers a session leader."""
    src = tmp_path / "one.c"
    src.write_text('#include <errno.h>\n#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\n'
                   'int main(void){printf("%d %d %d %d\\n", getpid()==getpgrp(), getpgid(0)==getpid(), '
                   'getsid(0)==getpid(), getpgid(getpid()+1));\n'
                   'printf("%s / %s / %s\\n", setpgid(0,0)<0?strerror(errno):"ok", setsid()<0?strerror(errno):"ok", '
                   'setpgid(0,-1)<0?strerror(errno):"ok"); return 0;}\n')
    r = run_pico(_build(tmp_path, src, "one"), limits=Limits(wall_seconds=60))
    assert r.stdout == b"1 1 1 -1\nOperation not permitted / Operation not permitted / Invalid argument\n"


def test_an_exec_claim_is_the_claimants_own_line_of_the_trace(tmp_path):
    """EXEC is the process's word (the trace shows it; setpgid's EACCES follows it): a path that
    is no UTF-8 is shown escaped, on the claimant's line only."""
    import json
    import sys
    out = tmp_path / "t.json"
    r = subprocess.run([sys.executable, "-m", "xax_emu", "trace", "--json", "--output", str(out), "--processes", "4",
                        str(_hostile(tmp_path)), "--", "execbytes"], capture_output=True, timeout=120)
    # The Monitor's answer ends the claimant's thread, which runs its own code (xax_emu/monitor/threads.py).
    assert r.returncode == 0 and r.stdout == b"child: exited 0\n", r.stderr
    procs = json.loads(out.read_text())["processes"]
    assert [p["programs"][1:] for p in procs] == [[], ["\\xff/not-run"]]
