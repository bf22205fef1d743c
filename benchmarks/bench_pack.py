"""5. Packing: `xax-emu pack images/python3/manifest.toml`, beside GNU tar writing the
same files (what packing costs over plain archiving: hashing every member, the ELF
closure, page-aligning ELF data, validation of the result)."""
from __future__ import annotations

import os
import subprocess

from harness import ROOT, Section, cli_env, median, ms, run, xax

REPS = 3
EXCLUDED = ("test", "idlelib", "tkinter", "ensurepip", "lib2to3", "lib-dynload/_tkinter*")  # as the manifest


def run_section(work) -> tuple[Section, str]:
    sec = Section("5. Pack")
    env = cli_env(work)
    out = work / "python3.tar"
    packs, tars = [], []
    for _ in range(REPS):
        t, proc = run(xax("pack", str(ROOT / "images/python3/manifest.toml"), "-o", str(out)), env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"pack failed: {proc.stderr.decode()[-2000:]}")
        packs.append(t)
        t, proc = run(["tar", "-cf", str(work / "plain.tar"), "-C", "/",
                       *[f"--exclude=usr/lib/python3.11/{d}" for d in EXCLUDED],
                       "usr/bin/python3.11", "usr/lib/python3.11"])
        tars.append(t)
    size, plain = os.path.getsize(out), os.path.getsize(work / "plain.tar")
    members = len(subprocess.run(["tar", "-tf", str(out)], capture_output=True, text=True).stdout.splitlines())
    plain_members = len(subprocess.run(["tar", "-tf", str(work / "plain.tar")], capture_output=True,
                                       text=True).stdout.splitlines())
    p, g = median(packs), median(tars)
    sec.lines += [
        f"Medians of {REPS} runs, page cache warm. No peer packs anything (proot and gVisor run the files where "
        "they lie), so GNU tar of the same files is the baseline.",
        "",
        "| | time | image | MB/s | ratio |",
        "|---|---:|---:|---:|---:|",
        f"| GNU tar of python3.11 and its standard library (same exclusions) | {ms(g)} | {plain / 2**20:,.0f} MiB, "
        f"{plain_members:,} members | "
        f"{plain / g / 1e6:,.0f} | 1.00 |",
        f"| `xax-emu pack images/python3/manifest.toml` | {ms(p)} | {size / 2**20:,.0f} MiB, {members:,} members | "
        f"{size / p / 1e6:,.0f} | "
        f"{p / g:.1f} |",
        "",
        "`pack` also hashes every member (sha256, in the metadata and the image id), brings the shared-library "
        "closure of every ELF member (python3.11 and each extension module of lib-dynload: libcrypto, libssl, "
        "libsqlite3, ...), pads ELF members to page boundaries and runs in Python; the issue sets no goal here.",
    ]
    return sec, str(out)
