"""`xax-emu trace`: the article's porting accounting for one run.

Every call the layer sees is reported by it (the Monitor starts the picoprocess
with tracing on): emulated (and of those, how many answered an error: the
article's "fail obliviously"), rejected, forwarded to the Monitor, missing.
Calls the seccomp allowlist lets through reach the kernel without a trap, so the
layer never sees them; the report names that class and counts the part the
Monitor does see, the xaxcalls (the channel's reads and writes).
"""
from __future__ import annotations

from collections import Counter

from . import protocol as p
from .monitor.picoprocess import ExitReport
from .seal import allowed_names
from .syscalls import catalogue

KIND = {number: name.lower() for name, number, _ in p.TRACE_KINDS}
ORDER = ("emulated", "rejected", "forwarded", "missing")


def _name(nr: int) -> str:
    try:
        return catalogue.by_number(nr).name
    except catalogue.UnknownSyscall:
        return f"#{nr}" if nr >= 0 else "(out of range)"


def accounting(report: ExitReport, xaxcalls: Counter) -> dict:
    per_call: dict[str, Counter] = {}
    for (nr, kind), count in report.trace.items():
        per_call.setdefault(_name(nr), Counter())[KIND.get(kind, str(kind))] += count
    classes = {k: {"total": 0, "unique": 0} for k in ORDER}
    failed = 0
    for name, kinds in per_call.items():
        for kind, count in kinds.items():
            cls = "emulated" if kind == "emulated_failed" else kind
            classes[cls]["total"] += count
            if kind == "emulated_failed":
                failed += count
        for cls in {("emulated" if k == "emulated_failed" else k) for k in kinds}:
            classes[cls]["unique"] += 1
    classes["emulated"]["failed_obliviously"] = failed
    return {
        "trapped": {"total": sum(c["total"] for c in classes.values()), "unique": len(per_call)},
        **classes,
        "kernel": {"allowlist": allowed_names(),
                   "xaxcalls": {k: v for k, v in sorted(xaxcalls.items()) if k != "TRACE"},  # not the trace's own
                   "note": "allowed calls do not trap, so only the xaxcalls among them are counted"},
        "syscalls": {name: dict(sorted(kinds.items())) for name, kinds in sorted(per_call.items())},
    }


def render(acc: dict) -> str:
    t = acc["trapped"]
    lines = [f"{t['total']} system calls trapped to the layer, {t['unique']} unique"]
    for cls in ORDER:
        c = acc[cls]
        extra = f", {c['failed_obliviously']} of them failed obliviously" if cls == "emulated" else ""
        lines.append(f"  {cls:<10} {c['total']:>7}  ({c['unique']} unique{extra})")
    x = acc["kernel"]["xaxcalls"]
    lines.append(f"  kernel     {'-':>7}  (the allowlist, not trapped: {', '.join(acc['kernel']['allowlist'])}; "
                 f"{sum(x.values())} xaxcalls on the channel: "
                 + ", ".join(f"{k.lower()} {v}" for k, v in x.items()) + ")")
    lines.append("per system call:")
    for name, kinds in acc["syscalls"].items():
        lines.append(f"  {name:<24} " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
    return "\n".join(lines)


def suggest(acc: dict) -> str:
    """Profile lines for the missing calls, to paste into an app's profile and then decide on."""
    missing = [name for name, kinds in acc["syscalls"].items() if kinds.get("missing")]
    if not missing:
        return "# no missing system calls on this run"
    out = ["# the missing system calls of this run: decide for each (reject is the failure-oblivious choice)"]
    for name in missing:
        count = acc["syscalls"][name]["missing"]
        out.append(f'    "{name}": reject(errno.ENOSYS, note="TODO: seen {count} time(s); emulate, forward or reject"),')
    return "\n".join(out)
