"""3. The VFS: vfsbench.c natively (page cache, tmpfs, the host's tree) and sealed (the
tar route, the RAM disk, the image's copy of the same tree); the runtime's memcpy
(memcpybench.c) and the trapped-call count of the walk as what bounds them."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

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
        f"is such a copy, plus one trap ({floor['close_trapped']:,.0f} ns, section 1) per call. The walk traps "
        f"{trapped:,.0f} calls (open, getdents64, lstat, fcntl, close; `xax-emu trace`): at the trap's floor that "
        f"is {trapped * floor['close_trapped'] / 1e6:,.1f} ms of its {s_walk['walk_ns'] / 1e6:,.1f} ms, against "
        f"{trapped * floor['close_native'] / 1e6:,.1f} ms for as many native calls.",
    ]
    seq_ok = s_read["seq_read_mbps"] >= n_read["seq_read_mbps"]
    rnd_ok = s_read["rand_read_ns_per_4k"] <= n_read["rand_read_ns_per_4k"]
    per_read_ns = 65536 / s_read["seq_read_mbps"] * 1e3
    copy_ns = 65536 / mc["runtime_memcpy_mbps"] * 1e3
    sec.goal("tar-route sequential reads at least as fast as the page cache",
             f"{s_read['seq_read_mbps']:,.0f} vs {n_read['seq_read_mbps']:,.0f} MB/s", seq_ok,
             f"the trap per read(): each 64 KiB read() from the tar route costs {per_read_ns:,.0f} ns, of which the "
             f"copy (the runtime's memcpy, {mc['runtime_memcpy_mbps']:,.0f} MB/s) is {copy_ns:,.0f} ns and one trap "
             f"{floor['close_trapped']:,.0f} ns (section 1); the page cache's read() pays one system call "
             f"({floor['close_native']:,.0f} ns) for the same copy. Only not trapping (rewritten syscall sites), or "
             "larger reads, closes the gap; mmap of a tar-route file is already a direct mapping of the image")
    sec.goal("tar-route random 4 KiB reads at least as fast as the page cache",
             f"{s_read['rand_read_ns_per_4k']:,.0f} vs {n_read['rand_read_ns_per_4k']:,.0f} ns", rnd_ok,
             f"one trap per pread ({floor['close_trapped']:,.0f} ns, section 1) plus a 4 KiB copy "
             f"({4096 / mc['runtime_memcpy_mbps'] * 1e3:,.0f} ns); native pread is one system call and the same copy")
    return sec
