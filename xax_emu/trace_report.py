"""`xax-emu trace`: the article's porting accounting for one run.

Every system call of the program is counted in one class:
- kernel: on the seccomp allowlist, so it reached the host kernel without a
  trap.  The Monitor counts these through the kernel-counting filter
  (SECCOMP_RET_USER_NOTIF, see xax_emu/seal/notify.py), telling the program's
  own calls from the runtime's by instruction pointer;
- emulated (and of those, how many answered an error: the article's "fail
  obliviously"), rejected, forwarded to the Monitor, missing: reported by the
  layer, which the Monitor starts with tracing on.
The runtime's own kernel calls (the PAL's channel reads and writes, the memory
and clocks the layer uses to emulate, the rt_sigreturn that ends each trap) are
the cost of the emulation, listed apart and not counted as the program's.
"""
from __future__ import annotations

from collections import Counter

from . import protocol as p
from .monitor.picoprocess import ExitReport
from .seal import allowed_names
from .syscalls import catalogue

KIND = {number: name.lower() for name, number, _ in p.TRACE_KINDS}
TRAPPED = ("emulated", "rejected", "forwarded", "missing")
ORDER = ("kernel", *TRAPPED)


def _name(nr: int) -> str:
    try:
        return catalogue.by_number(nr).name
    except catalogue.UnknownSyscall:
        return f"#{nr}" if nr >= 0 else "(out of range)"


def missing_by_name(missing: dict[int, int]) -> dict[str, int]:
    """The missing calls of a report ({nr: count}) by name: {"statfs": 2}."""
    named: dict[str, int] = {}
    for nr, count in sorted(missing.items()):
        name = _name(nr)
        named[name] = named.get(name, 0) + count
    return dict(sorted(named.items()))


def _class(kind: str) -> str:
    return "emulated" if kind == "emulated_failed" else kind


def accounting(report: ExitReport, xaxcalls: Counter | None = None) -> dict:
    if xaxcalls is None:
        xaxcalls = report.xaxcalls
    per_call: dict[str, Counter] = {}
    for (nr, kind), count in report.trace.items():
        per_call.setdefault(_name(nr), Counter())[KIND.get(kind, str(kind))] += count
    runtime: Counter = Counter()
    for (nr, origin), count in (report.kernel or {}).items():
        if origin == "program":
            per_call.setdefault(_name(nr), Counter())["kernel"] += count
        else:
            runtime[_name(nr)] += count
    classes = {k: {"total": 0, "unique": 0} for k in ORDER}
    failed = 0
    for kinds in per_call.values():
        for kind, count in kinds.items():
            classes[_class(kind)]["total"] += count
            if kind == "emulated_failed":
                failed += count
        for cls in {_class(k) for k in kinds}:
            classes[cls]["unique"] += 1
    classes["emulated"]["failed_obliviously"] = failed
    trapped_names = [name for name, kinds in per_call.items() if any(k != "kernel" for k in kinds)]
    return {
        "total": {"total": sum(c["total"] for c in classes.values()), "unique": len(per_call)},
        "trapped": {"total": sum(classes[k]["total"] for k in TRAPPED), "unique": len(trapped_names)},
        **classes,
        "kernel": {
            **classes["kernel"],
            "counted": report.kernel is not None,
            "allowlist": allowed_names(),
            "runtime": {"total": sum(runtime.values()), "syscalls": dict(sorted(runtime.items()))},
            "xaxcalls": {k: v for k, v in sorted(xaxcalls.items()) if k not in ("TRACE", "TRACE_PATH")},  # not the trace's own
        },
        "syscalls": {name: dict(sorted(kinds.items())) for name, kinds in sorted(per_call.items())},
        "missing_syscalls": missing_by_name(report.missing),
        # Of the trapped classes' calls, those that came through a rewritten site, without a trap
        # (runtime_c/pal/rewrite.c; none under --no-rewrite), and the sites rewritten.
        "past_the_trap": {"calls": report.direct.total(), "sites": report.rewritten.total(),
                          "syscalls": missing_by_name(report.direct)},
        # Once the program forked: every process of its family, by virtual pid (docs/processes.md).
        "processes": None if report.family is None else [
            {**proc, "syscalls": missing_by_name(proc["syscalls"])} for proc in report.family],
    }


def render(acc: dict) -> str:
    t, k = acc["total"], acc["kernel"]
    if k["counted"]:
        lines = [f"{t['total']} system calls by the program, {t['unique']} unique"]
    else:
        lines = [f"{acc['trapped']['total']} system calls trapped to the layer, {acc['trapped']['unique']} unique "
                 "(those that reached the kernel were not counted)"]
    for cls in ORDER:
        c = acc[cls]
        if cls == "kernel":
            if not k["counted"]:
                continue
            extra = ": the allowlist, let through by the seal"
        else:
            extra = f", {c['failed_obliviously']} of them failed obliviously" if cls == "emulated" else ""
        lines.append(f"  {cls:<10} {c['total']:>7}  ({c['unique']} unique{extra})")
    past = acc["past_the_trap"]
    lines.append(f"  of the trapped classes, {past['calls']} came through rewritten call sites without a trap "
                 f"({past['sites']} sites rewritten at their first trap; the image's site table is not counted)")
    if k["counted"]:
        r = k["runtime"]
        lines.append(f"the runtime's own calls to the kernel (channel, emulation, return from each trap): {r['total']}"
                     + (": " + ", ".join(f"{name} {n}" for name, n in r["syscalls"].items()) if r["syscalls"] else ""))
    x = k["xaxcalls"]
    lines.append(f"xaxcalls on the channel: {sum(x.values())}"
                 + (": " + ", ".join(f"{name.lower()} {n}" for name, n in x.items()) if x else ""))
    lines.append("per system call:")
    for name, kinds in acc["syscalls"].items():
        lines.append(f"  {name:<24} " + ", ".join(f"{kind} {n}" for kind, n in kinds.items()))
    if acc.get("processes"):
        lines += render_tree(acc["processes"])
    return "\n".join(lines)


def _exit_text(exit_: dict | None) -> str:
    if exit_ is None:
        return "exit unknown (not reaped by its parent)"
    return f"exited {exit_['code']}" if "code" in exit_ else f"killed by signal {exit_['signal']}"


def render_tree(procs: list[dict]) -> list[str]:
    """The family's process tree: each process under its parent, with the programs it ran,
    its exit and its trapped calls."""
    children: dict = {}
    for proc in procs:
        children.setdefault(proc["parent"], []).append(proc)
    lines = [f"processes: {len(procs)} (virtual pids; trapped calls each)"]

    def show(proc: dict, depth: int) -> None:
        lines.append(f"  {'  ' * depth}{proc['vpid']} {' -> '.join(proc['programs'])}: {_exit_text(proc['exit'])}, "
                     f"{proc['calls']} calls")
        for child in children.get(proc["vpid"], []):
            show(child, depth + 1)
    for root in children.get(None, []):
        show(root, 0)
    return lines


def suggest(acc: dict, base_spec: str) -> str:
    """A complete profile file extending `base_spec` (the image's profile, or a bare program's),
    with an answer for each missing call of this run chosen from xax_emu/syscalls/answers.py;
    the calls that table gives no fixed answer are listed after it, as comments."""
    from .syscalls import answers
    from .syscalls.profile_source import BaseRef, profile_source

    syscalls, missing = {}, {}
    for name, kinds in acc["syscalls"].items():
        count = kinds.get("missing")
        if not count:
            continue
        seen = f"seen {count} time(s) in this run"
        d = answers.disposition(name, None, seen)
        if d is not None:
            syscalls[name] = d
        else:
            row = answers.answer_for(name)
            missing[name] = f"{seen}: " + (row.reason if row else "not in xax_emu/syscalls/answers.py's table: "
                                                                 "decide it by hand")
    base = BaseRef(base_spec)
    own = base_spec.rpartition(":")[2] if ":" in base_spec else base_spec
    return profile_source(
        command="trace --suggest", name=f"{own}-suggested", var="SUGGESTED", base=base,
        doc=f"{base_spec} with an answer for each call it left missing in a traced run "
            "(xax_emu/syscalls/answers.py's table; each note says what the entry claims).",
        note=f"{base_spec} and the answers `xax-emu trace --suggest` chose", routes={}, syscalls=syscalls,
        missing=missing)
