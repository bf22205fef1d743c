"""What every benchmark section shares: the tools it needs (installed with apt when
missing), building the small C programs, running commands and timing them, the
xax-emu command line of this checkout, and the machine's description."""
from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from xax_emu import runtime  # noqa: E402
from xax_emu.errors import RuntimeNotBuilt  # noqa: E402

PYTHON = "/usr/bin/python3.11"  # Debian's, the program benchmarked (not the interpreter running this)
# command -> the Debian package that brings it
TOOLS = {"proot": "proot", "runsc": "runsc", "musl-gcc": "musl-tools", "gcc": "gcc", "lua5.4": "lua5.4",
         "sqlite3": "sqlite3", "espeak-ng": "espeak-ng", PYTHON: "python3.11", "tar": "tar", "taskset": "util-linux",
         "/usr/sbin/nginx": "nginx-light", "websocketd": "websocketd", "wrk": "wrk",
         "strace": "strace", "node": "nodejs", "npm": "npm"}
OPTIONAL_TOOLS = {"perf": "linux-perf"}  # profiles only: a row says so when it is missing


def ensure_tools() -> list[str]:
    """Install what is missing (as root, with apt-get); returns notes on optional tools left out."""
    missing = sorted({pkg for cmd, pkg in TOOLS.items() if shutil.which(cmd) is None})
    optional = sorted({pkg for cmd, pkg in OPTIONAL_TOOLS.items() if shutil.which(cmd) is None})
    if missing or optional:
        if os.geteuid() != 0:
            if missing:
                sys.exit(f"benchmarks: missing {', '.join(missing)}: run as root, or apt-get install them")
        else:
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            if missing:
                subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env,
                               stdout=subprocess.DEVNULL)
            if optional:  # not fatal: a kernel without a matching perf package still runs everything else
                subprocess.run(["apt-get", "install", "-y", "-qq", *optional], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        runtime.pico_binary()
    except RuntimeNotBuilt:
        subprocess.run(["make", "-s", "-C", str(runtime.SOURCE_DIR), f"OUT={runtime.runtime_dir()}"], check=True)
    return [f"{cmd} is not available ({pkg})" for cmd, pkg in OPTIONAL_TOOLS.items() if shutil.which(cmd) is None]


def build(work: Path, source: str, cc: str = "musl-gcc", extra: tuple[str, ...] = (), after: tuple[str, ...] = (),
          name: str | None = None) -> Path:
    """A static program from benchmarks/SOURCE (or a path relative to the checkout); `after`
    follows the source (more sources, static libraries such as libxax.a); `name`: the output's,
    when one source is built twice."""
    src = HERE / source if (HERE / source).exists() else ROOT / source
    out = work / (name or src.stem)
    subprocess.run([cc, "-static", "-O2", "-Wall", "-Werror", "-I", str(HERE), "-I", str(runtime.include_dir()),
                    *extra, "-o", str(out), str(src), *after], check=True)
    return out


def xax(*args: str) -> list[str]:
    """`xax-emu ARGS` of this checkout (not whatever xax-emu is installed)."""
    return [sys.executable, "-m", "xax_emu", *args]


def cli_env(work: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(work / "cache")}


def run(argv: list[str], *, env: dict | None = None, stdin: bytes = b"", cwd: Path | None = None,
        timeout: float = 600) -> tuple[float, subprocess.CompletedProcess]:
    """Run to completion; the wall time from before the fork to after the wait."""
    t = time.perf_counter()
    proc = subprocess.run(argv, input=stdin, capture_output=True, env=env, cwd=cwd, timeout=timeout)
    return time.perf_counter() - t, proc


def pairs(stdout: bytes) -> dict:
    """The benchmark programs print "name value" lines."""
    out = {}
    for line in stdout.decode().splitlines():
        name, _, value = line.partition(" ")
        try:
            out[name] = float(value)
        except ValueError:  # a hash printed to compare runs
            out[name] = value
    return out


def measure(argv: list[str], **kw) -> dict[str, float]:
    _, proc = run(argv, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))}: exit {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return pairs(proc.stdout)


# The peers run the same binary as natively: proot (path translation by ptrace) and gVisor
# (runsc, its ptrace platform, no network).
PEER_PREFIX = {"proot": ["proot"], "gVisor": ["runsc", "--network=none", "--platform=ptrace", "do"]}


def under(peer: str, argv: list[str]) -> list[str]:
    return [*PEER_PREFIX[peer], *argv]


def median(values) -> float:
    return statistics.median(values)


def read_stats(path: Path) -> dict:
    return json.loads(path.read_text())


@dataclass
class Section:
    """One part of RESULTS.md: its markdown lines, and the issue's goals it checked."""

    title: str
    lines: list[str] = field(default_factory=list)
    goals: list[tuple[str, str, bool, str]] = field(default_factory=list)  # (goal, measured, met, what bounds it)
    facts: dict = field(default_factory=dict)  # the figures benchmarks/goals.py builds issue 15's table from

    def goal(self, name: str, measured: str, met: bool, bound: str = "") -> None:
        self.goals.append((name, measured, met, bound))


def ratio(x: float, base: float) -> str:
    return f"{x / base:.2f}x" if base else "n/a"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


def machine() -> str:
    info = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((l.split(":", 1)[1].strip() for l in info if l.startswith("model name")), platform.processor())
    mem = next((int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines()
                if l.startswith("MemTotal")), 0)
    virt = subprocess.run(["systemd-detect-virt"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("systemd-detect-virt") else ""
    osname = next((l.split("=", 1)[1].strip('"') for l in Path("/etc/os-release").read_text().splitlines()
                   if l.startswith("PRETTY_NAME=")), "")

    def version(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            return (r.stdout or r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    def deb(pkg):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
        return r.stdout.strip() or "?"

    return (f"{cpu}, {os.cpu_count()} cores, {mem / (1 << 20):.0f} GiB RAM{f' ({virt})' if virt else ''}; "
            f"{osname}, Linux {platform.release()}; the Monitor on Python {platform.python_version()}; "
            f"programs (Debian's): {version([PYTHON, '--version'])}, lua {deb('lua5.4')}, sqlite3 {deb('sqlite3')}, "
            f"espeak-ng {deb('espeak-ng')}; peers: proot {deb('proot')}, runsc (gVisor) {deb('runsc')}, "
            f"websocketd {deb('websocketd')}; the origin nginx {deb('nginx-light')}; the load generator wrk {deb('wrk')}")
