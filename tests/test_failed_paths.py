"""The paths a run failed to open or look at (TRACE_PATH): listed by `trace`, `trace --json`
and `run --report json` with their counts, errnos and routes, compared with strace of the
native run; and the Monitor's side against a hostile program (100,000 distinct long paths,
bytes that are not UTF-8, control characters, forged messages)."""
import json
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from hostile_support import hostile, parse
from xax_emu import protocol as p
from xax_emu.monitor.failedpaths import MAX_PATH_BYTES, MAX_PATHS, FailedPaths
from xax_emu.syscalls import catalogue
from xax_emu.trace_paths import SHOWN, escape, render, summary

REPO = Path(__file__).resolve().parent.parent

# OP:PATH for tests/programs/missing_files.c: each fails natively (run in /) and sealed alike
CALLS = ["open:/xax-missing/a.conf", "open:/xax-missing/a.conf", "stat:/xax-missing/a.conf",
         "access:/xax-missing/a.conf", "openat:xax-missing-rel/b", "lstat:/xax-missing/dir/c",
         "readlink:/xax-missing/link", "chdir:/xax-missing", "stat:/dev/null/x", "open:/proc/xax-nope",
         "openat:/tmp/xax-missing-tmp", "creat:/xax-missing/new"]
STRACE = re.compile(r'^(\w+)\((?:AT_FDCWD, )?"([^"]*)".* = -1 (E[A-Z]+) ')


def xax(*args, cwd="/"):
    return subprocess.run([sys.executable, "-m", "xax_emu", *args], capture_output=True, timeout=120, cwd=cwd,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def native_failures(prog) -> Counter:
    """(absolute path, errno name) -> failures, from strace of the native run in /."""
    if shutil.which("strace") is None:
        pytest.fail("strace is not installed (bootstrap.sh installs it)")
    r = subprocess.run(["strace", "-qq", "-e", "trace=" + ",".join(p.TRACE_PATH_CALLS), "-e", "signal=none",
                        "-o", "/dev/stderr", str(prog), *CALLS], capture_output=True, timeout=60, cwd="/", env={})
    assert r.returncode == 0, r.stderr.decode()
    out = Counter()
    for line in r.stderr.decode().splitlines():
        m = STRACE.match(line)
        if m:
            path = m.group(2) if m.group(2).startswith("/") else "/" + m.group(2)
            out[(path, m.group(3))] += 1
    return out


def test_trace_lists_the_failed_paths_strace_shows_natively(build):
    prog = build("programs/missing_files.c")
    native = native_failures(prog)
    assert native[("/xax-missing/a.conf", "ENOENT")] == 4 and native[("/dev/null/x", "ENOTDIR")] == 1
    r = xax("trace", "--json", str(prog), "--", *CALLS)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == subprocess.run([str(prog), *CALLS], capture_output=True, cwd="/", env={}).stdout
    fp = json.loads(r.stderr)["failed_paths"]
    assert Counter({(e["path"], e["errno"]): e["count"] for e in fp["entries"]}) == native
    assert fp["failures"] == sum(native.values()) and fp["not_kept"]["failures"] == 0
    by_path = {e["path"]: e for e in fp["entries"]}
    top = fp["entries"][0]
    assert (top["path"], top["count"]) == ("/xax-missing/a.conf", 4)  # most failures first
    assert top["calls"] == {"open": 2, "stat": 1, "access": 1}
    # the route each fell under, and what to do about it (static-libc has no route at /)
    assert top["route"] is None and "no route covers it" in top["hint"]
    assert by_path["/tmp/xax-missing-tmp"]["route"] == {"prefix": "/tmp", "backend": "ram"}
    assert by_path["/dev/null/x"]["route"] == {"prefix": "/dev", "backend": "dev"}
    assert by_path["/proc/xax-nope"]["route"] == {"prefix": "/proc", "backend": "proc"}
    assert by_path["/xax-missing-rel/b"]["calls"] == {"openat": 1}  # made absolute against the cwd


def test_trace_text_and_run_report_json(build, tmp_path):
    prog = build("programs/missing_files.c")
    r = xax("trace", str(prog), "--", *CALLS)
    lines = r.stderr.decode().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("paths that failed to open or stat: "))
    assert lines[at].startswith("paths that failed to open or stat: 12 failure(s) on 9 path(s)")
    assert re.match(r"^ +4 ENOENT +/xax-missing/a\.conf: no route covers it", lines[at + 1])
    assert len(lines) == at + 10
    r = xax("run", "--report", "json", str(prog), "--", *CALLS)
    report = json.loads(r.stderr)
    assert report["failed_paths"]["entries"][0]["path"] == "/xax-missing/a.conf"
    assert report["failed_paths"]["failures"] == 12
    r = xax("run", str(prog), "--", *CALLS)  # not asked: the layer sends none (a forged one is a violation)
    assert r.returncode == 0 and r.stderr == b""


def test_trace_of_an_image_points_at_the_manifest(build, tmp_path):
    """Under an image's files a missing path is one for [files]; --suggest offers it, commented,
    when this host has it, and never a path this host lacks."""
    prog = build("programs/missing_files.c")
    (tmp_path / "manifest.toml").write_text(
        f'[app]\nname = "mf"\nentry = "/mf"\nprofile = "static-libc"\n\n[files]\n"/mf" = "{prog}"\n')
    image = tmp_path / "mf.tar"
    assert xax("pack", str(tmp_path / "manifest.toml"), "-o", str(image)).returncode == 0
    host_file = "/etc/os-release"
    assert Path(host_file).exists()
    r = xax("trace", "--suggest", "-", str(image), "--", f"open:{host_file}", "open:/xax-missing/a")
    text = r.stderr.decode()
    assert re.search(r"1 ENOENT +/etc/os-release: tar route /: not in the image's files: add it to the "
                     r"manifest's \[files\]", text), text
    assert f'# "{host_file}" = "{host_file}"' in text
    assert "xax-missing" not in text.split("Paths the run failed to open")[1]


def test_escape_keeps_each_path_one_printable_line():
    assert escape(b"/usr/lib/ok.so") == "/usr/lib/ok.so"
    assert escape("/é/ü".encode()) == "/é/ü"
    assert escape(b"/a\nb\x1b[31m\\\xff\x7f") == "/a\\nb\\x1b[31m\\\\\\xff\\x7f"
    assert escape("/\u202egpj\u2028x\u0085".encode()) == "/\\u202egpj\\u2028x\\x85"
    for raw in (bytes(range(256)), "\u200f\ufeff\U000e0001".encode(), b"\xc3(\xed\xa0\x80"):
        out = escape(raw)
        assert out.isprintable()


def test_hostile_flood_of_distinct_long_paths_is_bounded_and_accounted(build, tmp_path):
    """100,000 distinct paths of about 2.3 KB with control characters and bytes that are not
    UTF-8: the Monitor keeps at most its bound, counts every other failure by errno, and the
    report stays one escaped line per path, with how much it left out."""
    r = hostile(build, tmp_path, "path_flood.c", ["flood"], trace_paths=True)
    assert (r.code, r.report.reason) == (0, None), r.report
    assert parse(r.stdout) == {"failed": 100000}
    fp = r.report.failed_paths
    assert len(fp.counts) <= MAX_PATHS and fp.path_bytes <= MAX_PATH_BYTES
    assert sum(fp.counts.values()) + sum(fp.not_kept.values()) == 100000
    assert sum(fp.not_kept.values()) >= 100000 - MAX_PATHS
    s = summary(fp, [], image=False)
    lines = render(s)
    assert len(lines) == 1 + SHOWN + 2
    assert all(line.isprintable() for line in lines)
    assert re.match(rf"^  \.\.\. and {len(fp.counts) - SHOWN} more path\(s\)", lines[-2])
    assert re.match(rf"^  \.\.\. and {sum(fp.not_kept.values())} failure\(s\) on paths the Monitor did not keep",
                    lines[-1])
    for e in s["entries"]:
        assert e["path"].isprintable() and "\n" not in e["path"] and e["path"].startswith("/xax-flood/")


def test_hostile_paths_print_escaped_through_the_cli(build, tmp_path):
    prog = build("hostile/path_flood.c")
    r = xax("trace", str(prog), "--", "/nonexistent-canary", "0", "weird")
    assert r.returncode == 0, r.stderr
    text = r.stderr.decode("utf-8")
    assert "\x1b" not in text and "\u202e" not in text and "\u2028" not in text and "\x9b" not in text
    listed = [line for line in text.splitlines() if re.match(r"^ +1 ENOENT +/etc/", line)]
    assert sorted(line.split()[2].rstrip(":") for line in listed) == sorted([
        "/etc/line\\nbreak", "/etc/\\x1b[2J\\x1b[31mred", "/etc/\\u202efdp.exe", "/etc/sep\\u2028x",
        "/etc/bad\\xff\\xfe", "/etc/back\\\\slash", "/etc/tab\\there", "/etc/del\\x7f", "/etc/c1\\x9b31m"])


FORGED = {
    "forge_nul": "protocol violation: TRACE_PATH: a NUL in the path",
    "forge_empty": "protocol violation: TRACE_PATH: a path of 0 bytes",
    "forge_long": f"protocol violation: TRACE_PATH: a path of {p.TRACE_PATH_MAX + 1} bytes",
    "forge_errno0": "protocol violation: TRACE_PATH: errno 0 out of range",
    "forge_errno_big": f"protocol violation: TRACE_PATH: errno {p.MAX_ERRNO + 1} out of range",
    "forge_call": f"protocol violation: TRACE_PATH: system call {catalogue.by_name('getpid').nr} is not a path call",
}


@pytest.mark.parametrize("mode", list(FORGED))
def test_forged_trace_path_messages_kill_the_picoprocess(build, tmp_path, mode):
    r = hostile(build, tmp_path, "path_flood.c", [mode], trace_paths=True)
    assert r.report.reason == FORGED[mode], r.report
    assert r.report.signal == signal.SIGKILL and not r.report.failed_paths


def test_trace_path_when_not_asked_is_a_protocol_violation(build, tmp_path):
    r = hostile(build, tmp_path, "path_flood.c", ["forge_valid"])
    assert r.report.reason == "protocol violation: TRACE_PATH sent though the Monitor did not ask for paths"


def test_the_bounds_hold_for_any_input():
    fp = FailedPaths()
    open_nr = catalogue.by_name("open").nr
    for i in range(MAX_PATHS + 10):
        fp.add(open_nr, 2, b"/%d" % i)
    fp.add(open_nr, 2, b"/0")  # a kept one is still counted after the bound
    assert len(fp.counts) == MAX_PATHS and fp.counts[(b"/0", 2)] == 2 and fp.not_kept == {2: 10}
    big = FailedPaths()
    for i in range(MAX_PATH_BYTES // p.TRACE_PATH_MAX + 5):
        big.add(open_nr, 13, b"/" + b"x" * (p.TRACE_PATH_MAX - 8) + b"%06d" % i)
    assert big.path_bytes <= MAX_PATH_BYTES and sum(big.not_kept.values()) >= 5


def test_the_layer_reports_exactly_the_protocols_path_calls():
    """Each handler of TRACE_PATH_CALLS ends with FAILED(...), and no other handler does."""
    src = (REPO / "runtime_c/layer/sys_fs.c").read_text()
    reporting = set()
    for m in re.finditer(r"^long layer_(\w+)\(struct layer_call \*c\)\n\{(.*?)^\}", src, re.M | re.S):
        if "FAILED(" in m.group(2):
            reporting.add(m.group(1))
    assert reporting == set(p.TRACE_PATH_CALLS)
