"""`xax-emu init` from the command line: runs from -- ARGS, --run/--stdin and --inputs, the
files it writes, the report (text and --json) and its exit status (1 when a run differs)."""
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent


def xax(*args, cwd):
    """In another directory (the runs' working directory): this tree's xax_emu, by PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "xax_emu", *args], capture_output=True, cwd=cwd, env=env,
                          timeout=300)


@pytest.fixture
def work(tmp_path):
    for p in ("jq", "xmllint"):
        import shutil
        if shutil.which(p) is None:
            pytest.fail(f"{p} is not installed (bootstrap.sh installs it)")
    (tmp_path / "a.json").write_text('{"k": [1, 2, 3]}')
    (tmp_path / "b.json").write_text('{"k": "b"}')
    (tmp_path / "runs.toml").write_text('[[run]]\nargs = ["-c", ".k"]\nstdin = "b.json"\n')
    return tmp_path


def test_init_runs_merged_and_reported(work):
    r = xax("init", "-o", "out", "--run", "-c .k", "--stdin", "b.json", "--inputs", "runs.toml",
            "--", "jq", ".k[1]", "a.json", cwd=work)
    assert r.returncode == 0, r.stderr
    report = r.stdout.decode().splitlines()
    assert report[-3:] == ["run 1: identical: jq '.k[1]' a.json", "run 2: identical: jq -c .k < b.json",
                           f"run 3: identical: jq -c .k < {work / 'b.json'}"]
    manifest = tomllib.loads((work / "out" / "manifest.toml").read_text())
    assert manifest["app"]["argv0"] == "jq" and manifest["app"]["cwd"] == "/work"
    assert manifest["files"]["/work/a.json"] == str(work / "a.json")
    assert "/work/b.json" not in manifest["files"]  # read as stdin only, never opened by jq
    assert "HOME" not in manifest["app"]["env"]
    assert (work / "out" / "jq.tar").is_file() and not (work / "out" / "profile.py").exists()
    again = xax("init", "-o", "out", "--", "jq", ".", "a.json", cwd=work)
    assert again.returncode == 2 and b"--force replaces them" in again.stderr


def test_a_run_that_differs_is_shown_with_its_diff(work):
    """xmllint reading a host path init leaves out (/etc/hostname): native and sealed differ."""
    r = xax("init", "--json", "-o", "x", "--", "xmllint", "--noout", "/etc/hostname", cwd=work)
    assert r.returncode == 1
    out = json.loads(r.stdout)
    (run,) = out["runs"]
    assert run["result"] == "differs"
    diff = run["diff"].splitlines()
    assert diff[:2] == ["--- stderr (native)", "+++ stderr (sealed)"]  # same exit status, same (empty) stdout
    assert diff[-1] == '+warning: failed to load external entity "/etc/hostname"'
    assert diff[3] == "-/etc/hostname:1: parser error : Start tag expected, '<' not found"
    assert "/etc/hostname" in (work / "x" / "manifest.toml").read_text().split("# left out: the host's name")[1]


def test_init_without_a_program_is_one_line(work):
    r = xax("init", "-o", "out", cwd=work)
    assert r.returncode == 2
    assert r.stderr.decode() == "xax-emu: init: name the program after --: xax-emu init [options] -- PROGRAM [ARGS...]\n"


def test_a_script_is_named_with_its_interpreter(work):
    """zcat is a shell script in Debian: its interpreter is what to port."""
    r = xax("init", "-o", "z", "--", "zcat", "x.gz", cwd=work)
    assert r.returncode == 2
    assert r.stderr.decode() == ("xax-emu: zcat: a script for /bin/sh: port the interpreter, with the script among "
                                 "the runs' arguments\n")


def test_where_the_program_wrote_becomes_a_ram_disk(work):
    """busybox sh writing in its working directory: the profile routes /work to a RAM disk,
    and the sealed run writes and reads there as the native one did."""
    script = "echo hi > f.txt && [ -s f.txt ] && echo written"  # builtins only: no processes
    r = xax("init", "-o", "bb", "--", "busybox", "sh", "-c", script, cwd=work)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    assert r.stdout.decode().splitlines()[-1] == f"run 1: identical: busybox sh -c '{script}'"
    profile = (work / "bb" / "profile.py").read_text()
    assert "# the runs wrote in their working directory" in profile
    assert "'/work': RamDisk(size=64 << 20)," in profile
    assert tomllib.loads((work / "bb" / "manifest.toml").read_text())["app"]["profile"] == "profile.py:BUSYBOX"
