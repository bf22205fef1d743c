"""`xax-emu run --stats-json FILE`: the Monitor's timings of one picoprocess (spawn to
exit, on its own clock) and the xaxcalls it served, for the benchmarks."""
import json
import subprocess
import sys
import time


def run_with_stats(prog, tmp_path, n: int):
    stats = tmp_path / f"stats-{n}.json"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "xax_emu", "run", "--stats-json", str(stats), str(prog), "--", str(n)],
                          capture_output=True, timeout=60)
    return proc, json.loads(stats.read_text()), time.monotonic() - t0


def test_stats_count_the_null_xaxcalls_and_order_the_timings(build, tmp_path):
    prog = build("programs/nullcalls.c")
    few_proc, few, _ = run_with_stats(prog, tmp_path, 5)
    many_proc, many, wall = run_with_stats(prog, tmp_path, 205)
    assert few_proc.returncode == many_proc.returncode == 3, many_proc.stderr
    assert few["exit_code"] == many["exit_code"] == 3 and many["signal"] is None and many["reason"] is None
    assert many["xaxcalls"]["POLL"] - few["xaxcalls"].get("POLL", 0) == 200
    assert many["messages"] == sum(many["xaxcalls"].values())
    # On the Monitor's clock: fork+exec, then the first xaxcall, then the exit; all inside the command's wall time.
    assert 0 < many["spawn_seconds"] <= many["spawn_to_first_xaxcall_seconds"] <= many["spawn_to_exit_seconds"] < wall
    assert isinstance(many["cpu_seconds"], float)  # reported (its value is the machine's business)


def test_stats_file_that_cannot_be_written_fails_before_the_run(build, tmp_path):
    prog = build("programs/nullcalls.c")
    proc = subprocess.run([sys.executable, "-m", "xax_emu", "run", "--stats-json", str(tmp_path / "no" / "x.json"),
                           str(prog), "--", "1"], capture_output=True, timeout=60)
    assert proc.returncode == 2
    assert b"--stats-json" in proc.stderr and b"No such file or directory" in proc.stderr


def test_no_stats_file_unless_asked(build, tmp_path):
    prog = build("programs/nullcalls.c")
    proc = subprocess.run([sys.executable, "-m", "xax_emu", "run", str(prog), "--", "1"], capture_output=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 3 and list(tmp_path.iterdir()) == []
