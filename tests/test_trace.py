"""`xax-emu trace`: the porting accounting of one run."""
import json
import subprocess
import sys

from collections import Counter

from xax_emu import protocol as p
from xax_emu.monitor.picoprocess import ExitReport
from xax_emu.trace_report import accounting, suggest


def trace(*args, stdin=b""):
    return subprocess.run([sys.executable, "-m", "xax_emu", "trace", *args], input=stdin, capture_output=True,
                          timeout=120)


def test_trace_json_of_a_static_program(build, tmp_path):
    prog = build("programs/filter.c", "glibc")
    out = tmp_path / "trace.json"
    r = trace("--json", "--output", str(out), str(prog), stdin=b"a\nb\n")
    assert r.returncode == 2  # the program's own exit status: two lines
    assert r.stdout == b"A\nB\n"
    acc = json.loads(out.read_text())
    assert acc["exit_code"] == 2
    assert acc["missing"] == {"total": 0, "unique": 0}
    assert acc["syscalls"]["read"]["emulated"] >= 1 and acc["syscalls"]["write"]["emulated"] >= 1
    assert acc["rejected"]["total"] >= 1  # glibc's start-up probes (rseq, ...) that static-libc rejects
    # emulated calls that answered an error (glibc's readlink of /proc/self/exe: no such knob here)
    failed = sum(kinds.get("emulated_failed", 0) for kinds in acc["syscalls"].values())
    assert acc["emulated"]["failed_obliviously"] == failed >= 1
    assert acc["kernel"]["xaxcalls"]["READ"] >= 1 and "TRACE" not in acc["kernel"]["xaxcalls"]
    assert acc["trapped"]["total"] == sum(acc[k]["total"] for k in ("emulated", "rejected", "forwarded", "missing"))


def test_trace_text_and_suggestions(build):
    prog = build("programs/reject_probe.c", "glibc")
    r = trace("--suggest", str(prog))
    assert r.returncode == 0
    text = r.stderr.decode()
    assert "system calls trapped to the layer" in text
    assert '"socket": reject(errno.ENOSYS, note="TODO: seen 1 time(s)' in text


def test_accounting_counts_each_kind():
    kinds = {name: number for name, number, _ in p.TRACE_KINDS}
    trace_counts = Counter({(0, kinds["EMULATED"]): 3, (0, kinds["EMULATED_FAILED"]): 1, (41, kinds["MISSING"]): 2,
                            (24, kinds["REJECTED"]): 1, (318, kinds["FORWARDED"]): 4})
    report = ExitReport(0, None, None, 0.0, 0.0, trace_counts)
    acc = accounting(report, Counter({"READ": 5, "TRACE": 11}))
    assert acc["trapped"] == {"total": 11, "unique": 4}
    assert acc["emulated"] == {"total": 4, "unique": 1, "failed_obliviously": 1}
    assert acc["missing"] == {"total": 2, "unique": 1}
    assert acc["kernel"]["xaxcalls"] == {"READ": 5}
    assert "socket" in suggest(acc)
