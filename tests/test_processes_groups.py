"""Process groups and sessions of a family (docs/processes.md, issue 14): the family's own ids,
compared with the same program run natively (tests/programs/pgroups.c), and the hostile ones
(tests/hostile/pgrp_family.c, forged PGRP/KILL/EXEC messages)."""
import subprocess
from pathlib import Path

from xax_emu.monitor import Limits

from conftest import run_pico
from test_processes import _build, _image, _ours_left

HERE = Path(__file__).parent


def test_groups_and_sessions_as_natively(tmp_path):
    prog = _build(tmp_path, HERE / "programs" / "pgroups.c", "pgroups")
    native = subprocess.run([str(prog)], capture_output=True, timeout=60)
    assert native.returncode == 0 and b"after exec = Permission denied" in native.stdout
    r = run_pico(_image(tmp_path, {"/bin/pgroups": prog}, "/bin/pgroups"), limits=Limits(wall_seconds=60, processes=8))
    assert (r.code, r.report.reason) == (0, None), r.stderr
    assert r.stdout.decode() == native.stdout.decode()
    assert _ours_left() == []
