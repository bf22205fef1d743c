"""3. The VFS: vfsbench.c natively (page cache, tmpfs, the host's tree) and sealed (the
tar route, the RAM disk, the image's copy of the same tree); the runtime's memcpy
(memcpybench.c) and the trapped-call count of the walk as what bounds them."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

from bench_rewrite import sigsys_count
from harness import PEER_PREFIX, ROOT, Section, build, cli_env, measure, run, under, xax

RAM_MIB = 32
STDLIB = "/usr/lib/python3.11"


def _runtime_cflags() -> list[str]:
    out = subprocess.run(["make", "-s", "-pn", "-C", str(ROOT / "runtime_c")], capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("PICO_CFLAGS"))
    return line.split("=", 1)[1].split()


def memcpy_rates(work) -> dict[str, float]:
    obj = work / "mem.o"
    subprocess.run(["gcc", *_runtime_cflags(), "-c", str(ROOT / "runtime_c/lib/mem.c"), "-o", str(obj)], check=True,
                   cwd=ROOT / "runtime_c")
    subprocess.run(["objcopy", "--prefix-symbols=rt_", str(obj)], check=True)
    prog = build(work, "memcpybench.c", extra=(str(obj),))
    return measure([str(prog)])


def _row(label: str, n: dict, s: dict, peers: dict, key: str, unit: str, rate: bool) -> str:
    """One table row: native, xax-emu and each peer, with ratios of time over native time."""
    def fig(d):
        return f"{d[key] / 1e6:,.1f} ms" if unit == "ms" else f"{d[key]:,.0f} {unit}"

    def rat(d):
        return f"{n[key] / d[key]:.2f}" if rate else f"{d[key] / n[key]:.2f}"
    cells = " | ".join(f"{fig(p)} | {rat(p)}" for p in peers.values())
    return f"| {label} | {fig(n)} | {fig(s)} | {rat(s)} | {cells} |"


def run_section(work, table1: dict) -> Section:
    sec = Section("3. VFS")
    env = cli_env(work)
    d = work / "vfs"
    shutil.copytree(ROOT / "benchmarks/vfs", d)
    prog = build(d, "vfsbench.c")
    (d / "big.bin").write_bytes(os.urandom(64 << 20))
    image = work / "vfsbench.tar"
    subprocess.run(xax("pack", str(d / "manifest.toml"), "-o", str(image)), env=env, check=True, capture_output=True)
    base = "/dev/shm" if os.path.ismount("/dev/shm") else str(work)
    shm = os.path.join(base, f"xax-bench-{os.getpid()}")
    os.makedirs(shm, exist_ok=True)
    # The peers read the same host files natively (proot translates the paths; gVisor serves them
    # through its own kernel), and write to a tmpfs of theirs (gVisor: its sandbox's own /tmp).
    p_read, p_ram, p_walk = {}, {}, {}
    try:
        n_read = measure([str(prog), "read", str(d / "big.bin")])
        n_ram = measure([str(prog), "ram", shm, str(RAM_MIB)])
        n_walk = measure([str(prog), "walk", STDLIB])
        for peer in PEER_PREFIX:
            p_read[peer] = measure(under(peer, [str(prog), "read", str(d / "big.bin")]))
            p_ram[peer] = measure(under(peer, [str(prog), "ram", shm if peer == "proot" else "/tmp", str(RAM_MIB)]))
            p_walk[peer] = measure(under(peer, [str(prog), "walk", STDLIB]))
    finally:
        shutil.rmtree(shm, ignore_errors=True)
    s_read = measure(xax("run", str(image), "--", "read", "/data/big.bin"), env=env)
    s_ram = measure(xax("run", str(image), "--", "ram", "/ram", str(RAM_MIB)), env=env)
    s_walk = measure(xax("run", str(image), "--", "walk", STDLIB), env=env)
    same = n_read["checksum"] == s_read["checksum"] and n_walk["entries"] == s_walk["entries"]
    # How many calls the walk traps: `xax-emu trace` of one walk run (RUNS + 1 walks).
    _, tr = run(xax("trace", "--json", "--output", str(work / "walk-trace.json"), str(image), "--", "walk", STDLIB),
                env=env)
    if tr.returncode != 0:
        raise RuntimeError(f"xax-emu trace of the walk: exit {tr.returncode}: {tr.stderr.decode()[-2000:]}")
    trapped = json.loads((work / "walk-trace.json").read_text())["trapped"]["total"] / 10
    mc = memcpy_rates(work)
    floor = table1["floor"]
    sec.lines += [
        "`benchmarks/vfsbench.c`, the same static binary natively and sealed from one image (`benchmarks/vfs/`:",
        "the binary, a 64 MiB random file, the Python standard library; a 48 MiB RAM disk at /ram); each figure",
        "the median of 9 repetitions inside one run, after one warm-up (the page cache is warm natively).",
        f"Native and sealed read the same bytes and walk the same entries: {'yes' if same else 'NO'} "
        f"(checksum {n_read['checksum']:.0f}; {n_walk['entries']:.0f} entries).",
        "",
        "| row | native | xax-emu | ratio | proot | ratio | gVisor (ptrace) | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *[_row(label, n_, s_, {peer: p_[peer] for peer in PEER_PREFIX}, key, unit, faster)
          for label, n_, s_, p_, key, unit, faster in (
              ("sequential read of 64 MiB, 64 KiB read()s: page cache vs tar route", n_read, s_read, p_read,
               "seq_read_mbps", "MB/s", True),
              ("random 4 KiB pread()s: page cache vs tar route", n_read, s_read, p_read, "rand_read_ns_per_4k", "ns",
               False),
              (f"write {RAM_MIB} MiB in 64 KiB write()s: tmpfs vs RAM disk", n_ram, s_ram, p_ram, "ram_write_mbps",
               "MB/s", True),
              ("read it back: tmpfs vs RAM disk", n_ram, s_ram, p_ram, "ram_read_mbps", "MB/s", True),
              (f"walk of {STDLIB} (readdir + lstat of every entry)", n_walk, s_walk, p_walk, "walk_ns", "ms", False))],
        "",
        "Ratios are times over the native time (for rates, native rate over theirs): above 1 is slower.",
        "",
        f"What bounds them, measured: the runtime's own memcpy (`runtime_c/lib/mem.c`, `rep movsb`, built with the "
        f"runtime's flags; `benchmarks/memcpybench.c`) copies {mc['runtime_memcpy_mbps']:,.0f} MB/s where the C "
        f"library's copies {mc['libc_memcpy_mbps']:,.0f} MB/s. Every tar-route read() and RAM-disk read and write "
        f"is such a copy, plus the layer's emulated call (through a rewritten site; a trap costs "
        f"{floor['close_trapped']:,.0f} ns, section 1). One walk makes {trapped:,.0f} calls to the layer (open, "
        f"getdents64, lstat, fcntl, close; `xax-emu trace`): {s_walk['walk_ns'] / max(1, trapped):,.0f} ns a call "
        f"sealed, {n_walk['walk_ns'] / max(1, trapped):,.0f} ns natively.",
    ]
    # What still traps with the sites rewritten: SIGSYS deliveries of one walk run (strace).
    traps, _ = sigsys_count(xax("run", str(image), "--", "walk", STDLIB), env, b"", work)
    sec.lines += ["", f"With the image's call sites rewritten (the default), one run of the walk (10 walks) still traps "
                  f"{traps:,} calls (SIGSYS deliveries counted by strace) of the {trapped * 10:,.0f} the layer "
                  "emulates (`xax-emu trace` counts them all as traps)."]
    sec.facts.update({"native": {**n_read, **n_walk}, "sealed": {**s_read, **s_walk},
                      "peers": {peer: {**p_read[peer], **p_walk[peer]} for peer in PEER_PREFIX},
                      "walk_calls": trapped, "traps_rewriting": traps})
    return sec
