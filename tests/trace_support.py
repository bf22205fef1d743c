"""Checks of trace mode's kernel counting, shared by the trace, app and hostile tests.

- `native_allowed_calls(program, args)`: strace of the native run, filtered through
  the seal's own rules: the calls that would reach the kernel in a picoprocess.
- `check_kernel_accounting(report)`: the calls that reached the kernel were counted;
  the runtime's are exactly what the channel traffic and the traps predict; returns
  the program's own counts by syscall name.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter

import pytest

from xax_emu.monitor.picoprocess import ExitReport
from xax_emu.seal import allowlist_for
from xax_emu.syscalls import catalogue

UAPI = ["-idirafter", "/usr/include", "-idirafter", "/usr/include/x86_64-linux-gnu"]  # <linux/*.h> for musl
ALLOWED = {e.syscall: e for e in allowlist_for()}
STRACE_LINE = re.compile(r"^\d+ +(\w+)\((.*)\) += .*$")


def native_allowed_calls(program, args: list[str], stdin: bytes = b"") -> Counter:
    """Each call of an allowlisted name in the native run, kept if the seal's rule for it
    (Entry.allows: the filter's own model) lets its raw arguments through."""
    if shutil.which("strace") is None:
        pytest.fail("strace is not installed (bootstrap.sh installs it)")
    r = subprocess.run(["strace", "-f", "-qq", "-e", "raw=all", "-e", "signal=none", "-e",
                        "trace=" + ",".join(ALLOWED), "-o", "/dev/stderr", str(program), *args],
                       input=stdin, capture_output=True, timeout=60, env={})
    assert r.returncode == 0, r.stderr.decode()
    counts = Counter()
    for line in r.stderr.decode().splitlines():
        m = STRACE_LINE.match(line)
        assert m, f"unexpected strace line {line!r}"
        name, raw = m.group(1), m.group(2)
        args_ = tuple(int(a, 0) for a in raw.split(", ")) if raw else ()
        if ALLOWED[name].allows(args_ + (0,) * (6 - len(args_))):
            counts[name] += 1
    return counts


def split_kernel(report: ExitReport) -> tuple[Counter, Counter]:
    """(the program's, the runtime's) calls that reached the kernel, by syscall name."""
    assert report.kernel is not None, "the calls that reached the kernel were not counted"
    out = {"program": Counter(), "runtime": Counter()}
    for (nr, origin), n in report.kernel.items():
        out[origin][catalogue.by_number(nr).name] += n
    return out["program"], out["runtime"]


def check_kernel_accounting(report: ExitReport) -> Counter:
    """The runtime reached the kernel exactly as the channel and the traps say it must:
    one channel write per request and per TRACE or TRACE_PATH event, one read per reply, one
    rt_sigreturn per trapped call (the SIGSYS handler's return; none of these programs
    has a signal delivered) — a call through a rewritten site has none, and one more
    TRACE event saying so; rewriting a site probes its read-only page for writing, a
    fault the PAL catches (one rt_sigreturn and a TRACE event more) — and never an exit.  The program's own calls are all on
    the allowlist, and it ends with one exit_group or its threads' exits."""
    program, runtime = split_kernel(report)
    requests = sum(n for kind, n in report.xaxcalls.items() if kind not in ("TRACE", "TRACE_PATH"))
    calls, direct, sites = report.trace.total(), report.direct.total(), report.rewritten.total()
    traps = calls - direct
    events = calls + direct + sites
    paths = report.xaxcalls["TRACE_PATH"]  # one-way too: a write each, no reply
    assert report.xaxcalls["TRACE"] == events
    if report.failed_paths is not None:
        assert paths == sum(report.failed_paths.counts.values()) + sum(report.failed_paths.not_kept.values())
    assert (runtime["write"], runtime["read"], runtime["rt_sigreturn"]) == (requests + events + paths, requests,
                                                                           traps + sites), runtime
    assert runtime["exit"] == runtime["exit_group"] == 0
    assert set(program) | set(runtime) <= set(ALLOWED)
    # One exit_group, or the last thread's exit; every other thread (a clone that reached the
    # kernel) may end with its own exit.
    assert program["exit_group"] <= 1 and program["exit"] <= program["clone"] + 1
    assert program["exit_group"] + program["exit"] >= (0 if report.signal else 1)
    return program
