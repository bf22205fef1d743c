#!/usr/bin/env python3
"""Benchmarks (not tests, not CI): xax-emu against native runs, proot and gVisor, as the
benchmarks issue asks; writes benchmarks/RESULTS.md.

    python3 benchmarks/run.py        (as root on Debian 12; ~10-15 minutes on a 2-vCPU VM)

On a fresh clone it runs ./bootstrap.sh first (xax-emu itself: apt and pip packages,
the C runtime).  It installs what else it lacks with apt-get (proot, runsc, ...), builds the small C
programs of benchmarks/ with musl-gcc, packs the images it needs and runs:
  1. the article's Table 1 (bench_table1.py)      2. real apps (bench_apps.py)
  3. the VFS (bench_vfs.py)                        4. the Monitor (bench_monitor.py)
  5. packing (bench_pack.py)                      7. `xax-emu serve` (bench_serve.py)
  8. servers and readiness (bench_net.py)        9. rewritten call sites (bench_rewrite.py)
 10. processes: fork, exec, a dash loop (bench_processes.py)
 11. memory: one run and a second instance beside it (bench_memory.py)
Pyodide (npm's `pyodide` under node, installed by pyodide_peer.py into ~/.cache) is a peer
for python3 in sections 2 and 11.  `--only 2,11` runs some sections and prints them (no
RESULTS.md).  The table "The issue's goals" holds issue 15's rows (goals.py).
(6., fuzzing, is benchmarks/fuzz.py's: it takes hours, so run.py keeps its section as it is.)
Figures are medians of repeated runs; every comparison is a ratio of two figures
measured in this run.  Where a goal of the issue is missed, its row says what bounds
it, measured in this run too.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE_DIR))
sys.path.insert(1, str(HERE_DIR.parent))


def _bootstrap_if_needed() -> None:
    """A fresh clone: xax-emu's own dependencies and runtime come from bootstrap.sh."""
    try:
        import cffi  # noqa: F401
        import elftools  # noqa: F401
        from xax_emu import runtime
        runtime.pico_binary()
    except Exception as e:  # noqa: BLE001 - anything missing means: not set up yet
        print(f"benchmarks: setting up xax-emu first ({e.__class__.__name__}: {e}): ./bootstrap.sh", file=sys.stderr)
        subprocess.run([str(HERE_DIR.parent / "bootstrap.sh")], check=True)


_bootstrap_if_needed()

import bench_apps  # noqa: E402
import bench_memory  # noqa: E402
import goals  # noqa: E402
import pyodide_peer  # noqa: E402
import bench_monitor  # noqa: E402
import bench_net  # noqa: E402
import bench_pack  # noqa: E402
import bench_processes  # noqa: E402
import bench_rewrite  # noqa: E402
import bench_serve  # noqa: E402
import bench_table1  # noqa: E402
import bench_vfs  # noqa: E402
from harness import HERE, ROOT, cli_env, ensure_tools, machine, xax  # noqa: E402

NEXT_STEPS = """\
## What bounds the missed goals

Each row of "The issue's goals" above that is missed says, in its last column, what bounds it, from
figures measured in this run: the breakdown of section 2 (the Monitor's interpreter, the run path's
imports, the store's lookup and check, the picoprocess), the calls still trapping (section 9), the
layer's cost per call (sections 3 and 9), the memory of each process (section 11) and the download's
parts (section 4).
"""


def _fuzz_section() -> list[str]:
    """benchmarks/fuzz.py's section of RESULTS.md, kept as it is (it takes an hour or two to remake)."""
    path = HERE / "RESULTS.md"
    text = path.read_text() if path.exists() else ""
    start = text.find("\n## 6. Fuzzing")
    if start < 0:
        return []
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else len(text)].rstrip("\n").split("\n")


SECTIONS = {"1": "Table 1", "2": "real apps", "3": "VFS", "4": "Monitor", "5": "pack", "7": "serve",
            "8": "servers and readiness", "9": "past the trap", "10": "processes", "11": "memory"}


def main(argv: list[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(description="xax-emu's benchmarks; writes benchmarks/RESULTS.md")
    ap.add_argument("--only", metavar="N,N", help="run only these sections (e.g. 2,11) and print them: "
                    "RESULTS.md is not written and the goals table is left out (it needs every section)")
    o = ap.parse_args(argv)
    only = set(o.only.split(",")) if o.only else set(SECTIONS)
    unknown = only - set(SECTIONS)
    if unknown:
        ap.error(f"--only: no section {', '.join(sorted(unknown))} (there are {', '.join(SECTIONS)})")
    need_t1 = only & {"1", "3", "4"}
    t0 = time.monotonic()
    load_start = os.getloadavg()[0]
    notes = ensure_tools()
    pyodide = pyodide_peer.command() if only & {"2", "11"} else None
    if pyodide is None and only & {"2", "11"}:
        notes.append("Pyodide could not be installed (see the run's output): its column is empty")
    table1 = apps = vfs = monitor = pack = serve = net = rewrite = processes = memory = None
    rw_facts: dict = {}
    with tempfile.TemporaryDirectory(prefix="xax-bench-") as tmp:
        work = Path(tmp)
        (work / "cache").mkdir()
        t1 = None
        if need_t1:
            print("benchmarks: 1. Table 1", file=sys.stderr)
            table1, t1 = bench_table1.run(work)
        print("benchmarks: 5. pack", file=sys.stderr)
        pack, python_image = bench_pack.run_section(work)
        images = {"python3": python_image}
        for name in ("lua", "sqlite3", "espeak-ng"):
            out = work / f"{name}.tar"
            subprocess.run(xax("pack", str(ROOT / "images" / name / "manifest.toml"), "-o", str(out)),
                           env=cli_env(work), check=True, capture_output=True)
            images[name] = str(out)
        if "2" in only:
            print("benchmarks: 2. real apps", file=sys.stderr)
            apps = bench_apps.run_section(work, images, pyodide)
        if "3" in only:
            print("benchmarks: 3. VFS", file=sys.stderr)
            vfs = bench_vfs.run_section(work, t1)
        if "4" in only:
            print("benchmarks: 4. Monitor", file=sys.stderr)
            monitor = bench_monitor.run_section(work, t1)
        if "7" in only:
            print("benchmarks: 7. serve", file=sys.stderr)
            serve = bench_serve.run_section(work)
        if "8" in only:
            print("benchmarks: 8. servers and readiness", file=sys.stderr)
            net = bench_net.run_section(work)
        if "9" in only:
            print("benchmarks: 9. past the trap", file=sys.stderr)
            rewrite, rw_facts = bench_rewrite.run_section(work, {k: Path(v) for k, v in images.items()})
        if "10" in only:
            print("benchmarks: 10. processes", file=sys.stderr)
            processes = bench_processes.run_section(work)
        if "11" in only:
            print("benchmarks: 11. memory", file=sys.stderr)
            memory = bench_memory.run_section(work, python_image, pyodide)
    if "1" not in only:
        table1 = None
    if "5" not in only:
        pack = None
    sections = [s for s in (table1, apps, vfs, monitor, pack, serve, net, rewrite, processes, memory) if s is not None]
    if o.only:
        for sec in sections:
            print("\n".join(["", f"## {sec.title}", "", *sec.lines]))
        print("\n".join(["", "## The issue's goals (of the sections run)", "",
                         *goals.table(t1, apps, vfs, monitor, rw_facts, memory)]))
        return 0
    elapsed = time.monotonic() - t0
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}.",
        "",
        f"Generated by `python3 benchmarks/run.py` in {elapsed / 60:.1f} minutes; every ratio compares two figures "
        "measured in that run. Not part of CI. Numbers on this shared 2-vCPU VM move from run to run, now and then "
        "by much more than a few percent (section 1 gives the spread of the native compute runs). Other work shared "
        f"the machine during this run: its load average (1 min) was {load_start:.1f} when the run started and "
        f"{os.getloadavg()[0]:.1f} when it ended (an idle machine's is near 0; section 7 notes it around its own part).",
        *([""] + [f"Note: {n}." for n in notes] if notes else []),
        "",
        "## The issue's goals",
        "",
        "Issue 15's rows, each with its peers (\"—\": the row has no counterpart there; the section named in each "
        "row says why); ratios are to the native run.",
        "",
        *goals.table(t1, apps, vfs, monitor, rw_facts, memory),
        "",
        "Earlier issues' goals, still measured:",
        "",
        "| goal | measured | met | what bounds it (measured in this run) |",
        "|---|---|---|---|",
    ]
    for sec in sections:
        for goal, measured, met, bound in sec.goals:
            lines.append(f"| {goal} | {measured} | {'yes' if met else '**no**'} | {bound if not met else ''} |")
    for sec in sections:
        if sec is serve:
            lines += _fuzz_section()  # 6., between pack (5.) and serve (7.)
        lines += ["", f"## {sec.title}", "", *sec.lines]
    lines += ["", NEXT_STEPS]
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
