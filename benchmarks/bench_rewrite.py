"""9. Past the trap (issue 15, the first way; docs/rewrite.md): the null emulated call
through a rewritten site against a native close(-1) and against the same call trapped, and
the share of the trapped calls of python3 -c pass, espeak-ng and sqlite3 that no longer
trap (their images carry a site table: docs/rewrite.md; benchmarks/trapped_sites.py names
the sites that still trap).  Standalone: python3 benchmarks/bench_rewrite.py (packs the images it needs)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE_DIR))
sys.path.insert(1, str(HERE_DIR.parent))

from bench_apps import apps  # noqa: E402
from harness import ROOT, Section, build, cli_env, measure, median, xax  # noqa: E402

ROUNDS = 5
SHARE_APPS = ("python3", "espeak-ng", "sqlite3")


def sigsys_count(argv: list[str], env: dict, stdin: bytes, work: Path) -> tuple[int, subprocess.CompletedProcess]:
    """SIGSYS deliveries to the picoprocess (each one a trapped call), counted by strace from outside."""
    log = work / "strace.log"
    proc = subprocess.run(["strace", "-f", "-qq", "-e", "trace=none", "-e", "signal=SIGSYS", "-o", str(log), *argv],
                          input=stdin, capture_output=True, env=env, timeout=600, cwd=work)
    return sum(1 for line in log.read_text().splitlines() if "--- SIGSYS" in line), proc


def run_section(work: Path, images: dict[str, Path]) -> tuple[Section, dict]:
    sec = Section("9. Past the trap: rewritten system call sites")
    prog = build(work, "rewritecall.c")
    env = cli_env(work)
    native, on, off = [], [], []
    for _ in range(ROUNDS):
        native.append(measure([str(prog)])["null_site"])
        on.append(measure(xax("run", str(prog)), env=env)["null_site"])
        off.append(measure(xax("run", "--no-rewrite", str(prog)), env=env)["null_site"])
    n, s, t = median(native), median(on), median(off)
    sec.lines += [
        f"`benchmarks/rewritecall.c`: close(-1) from a `mov $3, %eax; syscall` site, {ROUNDS} runs each, medians "
        "of 31 repetitions of 20,000 calls timed inside the program.",
        "",
        "| call | ns | ratio to native close(-1) |",
        "|---|---:|---:|",
        f"| close(-1), native | {n:,.1f} | 1.00 |",
        f"| emulated by the layer through the rewritten site | {s:,.1f} | {s / n:.2f} |",
        f"| the same, trapped (`run --no-rewrite`) | {t:,.1f} | {t / n:.2f} |",
        "",
    ]
    sec.goal("null emulated call <= 1.0x native close(-1)", f"{s / n:.2f}x", s / n <= 1.0,
             "" if s / n <= 1.0 else "the layer's dispatcher and its lock on every call")
    shares, trapped = {}, {}
    sec.lines += ["Trapped calls (SIGSYS deliveries, counted by strace) of one run with and without rewriting:", "",
                  "| app | trapped, --no-rewrite | trapped, rewriting | no longer trap |", "|---|---:|---:|---:|"]
    for app in apps(work):
        if app.manifest not in SHARE_APPS:
            continue
        counts = []
        for extra in (["--no-rewrite"], []):
            if app.db:
                Path(app.db).unlink(missing_ok=True)
            count, proc = sigsys_count(xax("run", *extra, str(images[app.manifest]), "--", *app.args), env,
                                       app.stdin, work)
            if proc.returncode != 0:
                raise RuntimeError(f"{app.manifest}: exit {proc.returncode}: {proc.stderr.decode()[-500:]}")
            counts.append(count)
        share = 1 - counts[1] / counts[0] if counts[0] else 0.0
        shares[app.manifest] = share
        trapped[app.manifest] = (counts[0], counts[1])
        sec.lines.append(f"| {app.name} | {counts[0]:,} | {counts[1]:,} | {share:.1%} |")
    worst = min(shares.values())
    sec.goal("share of trapped calls that no longer trap >= 95 %", f"{worst:.1%} (the lowest)", worst >= 0.95,
             "" if worst >= 0.95 else "calls the stubs make as real syscalls, which the filter traps: the ones "
             "whose handlers need the trap's frame (rt_sigprocmask, clone3) and the shared futex forms; sites "
             "pack could not prove (benchmarks/trapped_sites.py names them)")
    return sec, {"null_site": (n, s, t), "shares": shares, "counts": trapped}


def main() -> int:
    if shutil.which("strace") is None:
        print("bench_rewrite: strace is needed", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="xax-bench-rewrite-") as tmp:
        work = Path(tmp)
        (work / "cache").mkdir()
        images = {}
        for name in SHARE_APPS:
            images[name] = work / f"{name}.tar"
            subprocess.run(xax("pack", str(ROOT / "images" / name / "manifest.toml"), "-o", str(images[name])),
                           check=True, capture_output=True, env=cli_env(work))
        sec, _ = run_section(work, images)
        print("\n".join([f"## {sec.title}", "", *sec.lines]))
        for goal, measured, met, bound in sec.goals:
            print(f"goal: {goal}: {measured} {'met' if met else 'missed: ' + bound}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
