"""10. Processes (issue 14, docs/processes.md): fork + _exit + wait and fork + exec of a static
program + wait (benchmarks/procbench.c, timed inside the program), and a 1,000-iteration dash
loop running /bin/true (the whole command's wall time), natively, sealed (`xax-emu run
--processes 4` of an image), under proot and under gVisor (runsc, ptrace platform).
Standalone: python3 benchmarks/bench_processes.py (prints the section)."""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE_DIR))
sys.path.insert(1, str(HERE_DIR.parent))

from harness import Section, build, cli_env, measure, median, run, under, xax  # noqa: E402

ROUNDS = 3
FORKS = 200
LOOP = 'i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i+1)); done'
PEERS = ("native", "xax-emu", "proot", "gVisor")


def _image(work: Path, prog: Path, entry: str) -> Path:
    """The program, dash and coreutils' true; `entry` runs first."""
    from xax_emu.image import pack
    files = {"/bin/procbench": str(prog), "/bin/sh": str(Path(shutil.which("dash")).resolve()),
             "/bin/true": str(Path(shutil.which("true")).resolve())}
    lines = "".join(f'"{g}" = "{h}"\n' for g, h in files.items())
    name = Path(entry).name
    (work / f"{name}.toml").write_text(f'[app]\nname = "{name}"\nentry = "{entry}"\nprofile = "glibc-dynamic"\n'
                                       f'env = {{ PATH = "/bin" }}\n[files]\n{lines}')
    pack(work / f"{name}.toml", work / f"{name}.tar")
    return work / f"{name}.tar"


def _argv(peer: str, images: dict, prog: Path, what: str) -> list[str]:
    if peer == "xax-emu":
        if what == "loop":
            return xax("run", "--processes", "4", str(images["sh"]), "--", "-c", LOOP)
        return xax("run", "--processes", "4", str(images["procbench"]), "--", "bench", str(FORKS), "/bin/procbench")
    native = [shutil.which("dash"), "-c", LOOP] if what == "loop" else [str(prog), "bench", str(FORKS), str(prog)]
    return native if peer == "native" else under(peer, native)


def run_section(work: Path) -> Section:
    sec = Section("10. Processes: fork, exec and a shell loop")
    prog = build(work, "procbench.c")
    images = {"procbench": _image(work, prog, "/bin/procbench"), "sh": _image(work, prog, "/bin/sh")}
    env = cli_env(work)
    fork, exec_, loop = {}, {}, {}
    for peer in PEERS:
        f, e, l_ = [], [], []
        for _ in range(ROUNDS):
            got = measure(_argv(peer, images, prog, "fork"), env=env)
            f.append(got["fork_exit_wait_us"])
            e.append(got["fork_exec_wait_us"])
            wall, proc = run(_argv(peer, images, prog, "loop"), env=env)
            if proc.returncode != 0:
                raise RuntimeError(f"{peer}: the dash loop failed: {proc.stderr.decode()[-500:]}")
            l_.append(wall)
        fork[peer], exec_[peer], loop[peer] = median(f), median(e), median(l_)
    sec.lines += [
        f"`benchmarks/procbench.c`: {FORKS} iterations timed inside the program; the dash loop "
        f"(`{LOOP}`) timed from outside, its start included; medians of {ROUNDS} runs, peer after peer. "
        "xax-emu: `run --processes 4` of an image holding the program, dash and coreutils' true.",
        "",
        "| | " + " | ".join(PEERS) + " |",
        "|---|" + "---:|" * len(PEERS),
        "| fork + _exit + wait, us | " + " | ".join(f"{fork[p]:,.0f}" for p in PEERS) + " |",
        "| fork + exec (static) + wait, us | " + " | ".join(f"{exec_[p]:,.0f}" for p in PEERS) + " |",
        "| dash loop of 1,000 `/bin/true`, s | " + " | ".join(f"{loop[p]:.2f}" for p in PEERS) + " |",
        "| dash loop, ratio to native | " + " | ".join(f"{loop[p] / loop['native']:.1f}" for p in PEERS) + " |",
        "",
    ]
    return sec


if __name__ == "__main__":
    import os
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="xax-bench-") as tmp:
        (Path(tmp) / "cache").mkdir()
        section = run_section(Path(tmp))
    print(f"## {section.title}\n")
    print("\n".join(section.lines))
    print(f"Load average (1, 5, 15 min) when it started: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"when it ended: {' '.join(f'{x:.2f}' for x in os.getloadavg())}.")
