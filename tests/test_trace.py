"""`xax-emu trace`: the porting accounting of one run, the calls that reached the
kernel counted by the kernel-counting filter and compared with strace of the native run."""
import json
import re
import subprocess
import sys

from collections import Counter

import pytest

from xax_emu import protocol as p
from xax_emu.monitor.picoprocess import ExitReport
from xax_emu.trace_report import accounting, render, suggest

from conftest import run_pico
from trace_support import UAPI, check_kernel_accounting, native_allowed_calls


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
    assert acc["kernel"]["counted"] and acc["syscalls"]["exit_group"] == {"kernel": 1}
    assert acc["total"]["total"] == acc["trapped"]["total"] + acc["kernel"]["total"]


def test_trace_text_and_suggestions(build):
    prog = build("programs/reject_probe.c", "glibc")
    r = trace("--suggest", str(prog))
    assert r.returncode == 0
    text = r.stderr.decode()
    assert re.search(r"^\d+ system calls by the program, \d+ unique$", text, re.M)
    assert re.search(r"^  kernel +\d+  \(\d+ unique: the allowlist", text, re.M)
    assert re.search(r"^  exit_group +kernel 1$", text, re.M)
    assert '"socket": reject(errno.ENOSYS, note="TODO: seen 1 time(s)' in text


def test_accounting_counts_each_kind():
    kinds = {name: number for name, number, _ in p.TRACE_KINDS}
    trace_counts = Counter({(0, kinds["EMULATED"]): 3, (0, kinds["EMULATED_FAILED"]): 1, (41, kinds["MISSING"]): 2,
                            (24, kinds["REJECTED"]): 1, (318, kinds["FORWARDED"]): 4})
    kernel = Counter({(9, "program"): 2, (0, "runtime"): 5, (1, "runtime"): 16, (231, "program"): 1})
    report = ExitReport(0, None, None, 0.0, 0.0, trace_counts, kernel=kernel)
    acc = accounting(report, Counter({"READ": 5, "TRACE": 11}))
    assert acc["trapped"] == {"total": 11, "unique": 4}
    assert acc["total"] == {"total": 14, "unique": 6}
    assert acc["emulated"] == {"total": 4, "unique": 1, "failed_obliviously": 1}
    assert acc["missing"] == {"total": 2, "unique": 1}
    assert {k: acc["kernel"][k] for k in ("total", "unique", "counted")} == {"total": 3, "unique": 2, "counted": True}
    assert acc["kernel"]["runtime"] == {"total": 21, "syscalls": {"read": 5, "write": 16}}
    assert acc["syscalls"]["read"] == {"emulated": 3, "emulated_failed": 1}  # the runtime's reads are not the program's
    assert acc["syscalls"]["mmap"] == {"kernel": 2}
    assert acc["kernel"]["xaxcalls"] == {"READ": 5}
    assert "socket" in suggest(acc)
    text = render(acc)
    assert text.splitlines()[:2] == ["14 system calls by the program, 6 unique",
                                     "  kernel           3  (2 unique: the allowlist, let through by the seal)"]
    assert "the runtime's own calls to the kernel (channel, emulation, return from each trap): 21: read 5, write 16" \
        in text


def test_accounting_says_when_kernel_calls_were_not_counted(build):
    r = run_pico(build("programs/hello.c"), trace_all=True, count_kernel=False)
    assert r.code == 0 and r.report.kernel is None
    acc = accounting(r.report, Counter())
    assert acc["kernel"]["counted"] is False and acc["kernel"]["total"] == 0
    assert "(those that reached the kernel were not counted)" in render(acc).splitlines()[0]


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_kernel_counts_match_strace_of_the_native_run(build, tmp_path, libc):
    """A program that makes known numbers of allowlisted calls, and a few with arguments
    the seal refuses: trace counts as reaching the kernel exactly the calls of the native
    run (strace) that the allowlist lets through, the program's and its libc's, none of
    the runtime's; the refused ones were trapped."""
    prog = build("programs/kernel_calls.c", libc, UAPI)
    out = tmp_path / "trace.json"
    r = trace("--json", "--output", str(out), str(prog))
    assert r.returncode == 0, r.stderr.decode()
    acc = json.loads(out.read_text())
    kernel = {name: kinds["kernel"] for name, kinds in acc["syscalls"].items() if "kernel" in kinds}
    expected = native_allowed_calls(prog, [])
    assert kernel == dict(expected)
    # what the program itself made is in there (its libc adds arch_prctl, mprotect, ...)
    made = {"mmap": 4, "mprotect": 3, "madvise": 2, "munmap": 4, "futex": 5, "clock_gettime": 6, "arch_prctl": 1,
            "exit_group": 1}
    assert all(kernel[name] >= n for name, n in made.items())
    assert (kernel["futex"], kernel["clock_gettime"], kernel["madvise"], kernel["munmap"]) == (5, 6, 2, 4)
    # the refused forms trapped: a shared mmap, a PI unlock, another process's CPU clock, KSM advice
    for name in ("mmap", "futex", "clock_gettime", "madvise"):
        assert set(acc["syscalls"][name]) - {"kernel"}, f"the refused {name} did not trap"
    assert acc["kernel"]["total"] == sum(kernel.values())


def test_runtime_kernel_calls_are_the_channel_and_the_traps(build, tmp_path):
    """The runtime's own calls that reach the kernel are what the trace's other numbers
    predict (trace_support.check_kernel_accounting), here through the CLI's JSON too."""
    prog = build("programs/kernel_calls.c", "musl", UAPI)
    r = run_pico(prog, trace_all=True)
    assert r.code == 0
    program = check_kernel_accounting(r.report)
    assert program["futex"] == 5 and r.report.trace.total() >= 4
    out = tmp_path / "trace.json"
    assert trace("--json", "--output", str(out), str(prog)).returncode == 0
    acc = json.loads(out.read_text())
    runtime = Counter(acc["kernel"]["runtime"]["syscalls"])
    requests, traps = sum(acc["kernel"]["xaxcalls"].values()), acc["trapped"]["total"]
    assert (runtime["write"], runtime["read"], runtime["rt_sigreturn"]) == (requests + traps, requests, traps)
    assert acc["kernel"]["runtime"]["total"] == runtime.total()
