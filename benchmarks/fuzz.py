#!/usr/bin/env python3
"""Fuzzing at scale (not CI): every fuzz target of tests/fuzz/ for 10^6 inputs or more,
then its figures into benchmarks/RESULTS.md ("## 6. Fuzzing"; run.py keeps the section).

    python3 benchmarks/fuzz.py [--runs N] [--seed S] [TARGET ...]     (~1-2 hours for all)

Python targets run under atheris (tests/fuzz/run_atheris.py), the C ones are libFuzzer
programs under ASan and UBSan (tests/fuzz/cbuild.py).  Each starts from its seeds and the
committed regression inputs (tests/fuzz/regressions/TARGET/), in a corpus of its own that
is thrown away after.  For each target it reports what libFuzzer reports at the end: inputs
run, coverage (cov: edges of the instrumented code; ft: features, edges with hit counts
and the like), the corpus it grew, the speed, and the crashes (a crash stops the target,
its input is kept under benchmarks/fuzz-crashes/ to be turned into a regression).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FUZZ = ROOT / "tests" / "fuzz"
sys.path[:0] = [str(FUZZ), str(ROOT / "tests"), str(ROOT)]

import targets  # noqa: E402  (the table: imports no code under test)

SECTION = "## 6. Fuzzing"
MAX_LEN = {"image": 16384, "c_tar": 16384}  # a seed image is a few KiB: room to grow past it
_STATS = re.compile(r"^#(\d+)\s+(?:DONE|NEW|REDUCE|pulse|INITED)\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)", re.M)


@dataclass
class Figures:
    target: str
    inputs: int
    cov: int
    ft: int
    corpus: int
    seconds: float
    crashes: list[str]
    note: str = ""
    slow: list[str] = field(default_factory=list)  # slow-unit-* artifacts: kept, but not failures


def command(target: str) -> list[str]:
    if target in targets.PYTHON_TARGETS:
        return [sys.executable, str(FUZZ / "run_atheris.py"), target]
    import cbuild
    return [str(cbuild.build(target))]


def seed_corpus(target: str, where: Path) -> None:
    """The target's seeds and committed regressions, as libFuzzer's corpus files."""
    if target in targets.PYTHON_TARGETS:
        import importlib
        inputs = importlib.import_module(targets.PYTHON_TARGETS[target]).seeds()
    else:
        import cbuild
        inputs = cbuild.seeds(target)
    regressions = FUZZ / "regressions" / target
    inputs += [p.read_bytes() for p in sorted(regressions.glob("*"))] if regressions.is_dir() else []
    for data in inputs:
        (where / hashlib.sha1(data).hexdigest()).write_bytes(data)


def run_target(target: str, runs: int, seed: int, log: Path) -> Figures:
    with tempfile.TemporaryDirectory(prefix=f"xax-fuzz-{target}-") as tmp:
        corpus, crashes = Path(tmp) / "corpus", Path(tmp) / "crashes"
        corpus.mkdir()
        crashes.mkdir()
        seed_corpus(target, corpus)
        args = [*command(target), f"-runs={runs}", f"-seed={seed}", f"-artifact_prefix={crashes}/",
                "-print_final_stats=1", "-timeout=60", "-rss_limit_mb=4096",
                *([f"-max_len={MAX_LEN[target]}"] if target in MAX_LEN else []), str(corpus)]
        t0 = time.monotonic()
        with open(log, "w") as out:
            # LANGUAGE=C: argparse asks gettext for every message, which stats locale files each time
            r = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                               env={**os.environ, "LANGUAGE": "C"})
        seconds = time.monotonic() - t0
        text = log.read_text(errors="replace")
        found = sorted(crashes.iterdir())
        kept, slow = [], []
        if found:
            keep = HERE / "fuzz-crashes" / target
            keep.mkdir(parents=True, exist_ok=True)
            for f in found:
                shutil.copy(f, keep / f.name)
                # libFuzzer writes a slow-unit-* when one input took over -report_slow_units
                # seconds (10): worth a look (on a loaded machine it is often the load), not a
                # crash; crash-, timeout-, oom- and leak- are failures
                (slow if f.name.startswith("slow-unit-") else kept).append(str((keep / f.name).relative_to(ROOT)))
        stats = _STATS.findall(text)
        executed = re.search(r"stat::number_of_executed_units: (\d+)", text)
        inputs = int(executed.group(1)) if executed else (int(stats[-1][0]) if stats else 0)
        cov, ft, corp = (int(stats[-1][1]), int(stats[-1][2]), int(stats[-1][3])) if stats else (0, 0, 0)
        note = "" if r.returncode == 0 or kept else f"exit status {r.returncode} (log: {log})"
        return Figures(target, inputs, cov, ft, corp, seconds, kept, note, slow)


def section(figures: list[Figures], runs: int, seed: int, tree: str) -> list[str]:
    lines = [SECTION, "",
             f"`python3 benchmarks/fuzz.py` ({platform.python_implementation()} {platform.python_version()}, "
             f"atheris for the Python targets, clang's libFuzzer with ASan and UBSan for the C ones): "
             f"{runs:,} inputs per target asked, seed {seed}, one target at a time on one core. Each target "
             "starts from its seeds and committed regressions (tests/fuzz/); coverage is what libFuzzer reports "
             "at the end: `cov` edges of the instrumented code reached, `ft` features (edges with their hit "
             "counts and the like), `corpus` the inputs it kept as new coverage. "
             "`python3 -m pytest tests/test_fuzz.py` runs every target briefly (seeded) in CI." + tree, "",
             "| target | what crosses the trust line | inputs | cov | ft | corpus | inputs/s | crashes |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for f in figures:
        what = targets.DESCRIPTIONS[f.target]
        crashes = f"**{len(f.crashes)}**: " + ", ".join(f.crashes) if f.crashes else ("0" if not f.note else f.note)
        if f.slow:
            crashes += f" ({len(f.slow)} slow unit{'s' * (len(f.slow) != 1)}, not a failure: {', '.join(f.slow)})"
        lines.append(f"| {f.target} | {what} | {f.inputs:,} | {f.cov:,} | {f.ft:,} | {f.corpus:,} | "
                     f"{f.inputs / f.seconds:,.0f} | {crashes} |")
    return lines


def write_results(lines: list[str]) -> None:
    """Replace the section in RESULTS.md (or put it before the closing section)."""
    path = HERE / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = "\n".join(lines) + "\n"
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + block + (text[end + 1:] if end >= 0 else "")
    else:
        closing = text.find("\n## What bounds")
        text = (text[:closing + 1] + block + "\n" + text[closing + 1:]) if closing >= 0 else text + "\n" + block
    path.write_text(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="*", default=targets.ALL, help=f"default: all ({', '.join(targets.ALL)})")
    ap.add_argument("--runs", type=int, default=10 ** 6, help="inputs per target (default 10^6)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-write", action="store_true", help="print the section, leave RESULTS.md as it is")
    ap.add_argument("--tree-note", default="", help="a sentence on the tree measured, for the section")
    ns = ap.parse_args()
    figures = []
    logs = Path(tempfile.mkdtemp(prefix="xax-fuzz-logs-"))
    for target in ns.targets:
        print(f"fuzz: {target}: {ns.runs:,} inputs (log: {logs / target}.log)", file=sys.stderr)
        f = run_target(target, ns.runs, ns.seed, logs / f"{target}.log")
        print(f"fuzz: {target}: {f.inputs:,} inputs in {f.seconds:.0f} s, cov {f.cov}, ft {f.ft}, "
              f"{len(f.crashes)} crashes {f.note}", file=sys.stderr)
        figures.append(f)
    lines = section(figures, ns.runs, ns.seed, (" " + ns.tree_note) if ns.tree_note else "")
    print("\n".join(lines))
    if not ns.no_write:
        write_results(lines)
    return 1 if any(f.crashes or f.note for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
