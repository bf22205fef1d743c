"""11. Memory (issue 15): what one `python3` run holds, natively, under `xax-emu run`, proot,
gVisor and Pyodide, and what a second instance of the same program adds while the first
still runs.

Each run is the python3 row's program made to wait: `python3 -c "print('ready'); read stdin"`
(Pyodide: node loads it, runs the same code's first half, then waits on stdin), so that its
processes can be read while alive.  Figures come from the kernel:

- /proc/PID/smaps_rollup of every process of the run (the command's process and all its
  descendants): Pss (each shared page divided among its sharers), Private_Clean+Private_Dirty
  (pages no other process maps), Rss;
- memory no RSS shows: every memfd, /dev/shm or deleted tmpfs file the run's processes hold
  open or mapped (its allocated size, once per inode).  A per-run copy of the image was such a
  memfd; the image store (xax_emu/launch/store.py) maps a file of the user's cache instead,
  which the page cache holds once for every run.

Standalone: python3 benchmarks/bench_memory.py [IMAGE] (packs images/python3 without IMAGE).
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

from harness import PYTHON, ROOT, Section, cli_env, under, xax  # noqa: E402
from xax_emu.protocol import IMAGE_FD  # noqa: E402  (where the picoprocess holds its image)

WAIT_CODE = "import sys; print('ready', flush=True); sys.stdin.read()"
READY_TIMEOUT = 120  # seconds: gVisor's and Pyodide's starts are long on a loaded machine
MIB = 1 << 20
SETTLE = 1.0  # seconds after "ready" before reading: node's heap still moves just after its start


def tree(pid: int) -> list[int]:
    """pid and all its live descendants (through every thread's children list)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except FileNotFoundError:
            continue
        for t in tasks:
            try:
                todo += [int(c) for c in Path(f"/proc/{p}/task/{t}/children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                pass
    return out


def rollup(pid: int) -> dict[str, int]:
    """/proc/PID/smaps_rollup in bytes (empty for a process that is gone or a kernel thread)."""
    out = {}
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return out
    for line in text.splitlines()[1:]:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key] = int(parts[0]) * 1024
    return out


def _in_memory(path: str) -> bool:
    """A file whose pages only memory holds: a memfd, a /dev/shm file, a deleted tmpfs file."""
    return path.startswith("/memfd:") or path.startswith("/dev/shm/") or path.startswith("/SYSV")


def hidden_files(pids: list[int]) -> dict[tuple[int, int], tuple[str, int]]:
    """(dev, inode) -> (name, allocated bytes) of every in-memory file the processes hold open or map."""
    found = {}
    for pid in pids:
        paths = []
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    paths.append((os.readlink(f"/proc/{pid}/fd/{fd}"), f"/proc/{pid}/fd/{fd}"))
                except OSError:
                    pass
            for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
                parts = line.split(None, 5)
                if len(parts) == 6:
                    paths.append((parts[5], f"/proc/{pid}/map_files/{parts[0]}"))
        except (FileNotFoundError, ProcessLookupError):
            continue
        for name, handle in paths:
            if not _in_memory(name):
                continue
            try:
                st = os.stat(handle)
            except OSError:
                continue
            found[(st.st_dev, st.st_ino)] = (name, st.st_blocks * 512)
    return found


class Running:
    """One run, started and held at its 'ready' line until stop()."""

    def __init__(self, argv: list[str], env: dict, cwd: Path):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, cwd=cwd)
        self._wait_ready()

    def _wait_ready(self) -> None:
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + READY_TIMEOUT
        got = b""
        while b"ready" not in got:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                self.stop()
                raise RuntimeError(f"{' '.join(self.argv)}: not ready in {READY_TIMEOUT} s")
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace")[-500:]
                self.stop()
                raise RuntimeError(f"{' '.join(self.argv)}: ended before 'ready': {err}")
            got += chunk
        sel.close()

    def pids(self) -> list[int]:
        return tree(self.proc.pid)

    def stop(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def image_mapping(pids: list[int]) -> dict[str, int] | None:
    """Rss, Shared and Private bytes of the mappings of the picoprocess's image (what its fd
    IMAGE_FD is open on), from /proc/PID/smaps; None where no process holds that fd."""
    for pid in pids:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{IMAGE_FD}")
            text = Path(f"/proc/{pid}/smaps").read_text()
        except OSError:
            continue
        out = {"path": target, "rss": 0, "shared": 0, "private": 0}
        inside = False
        for line in text.splitlines():
            head = line.split(None, 5)
            if head and "-" in head[0] and not head[0].endswith(":"):
                inside = len(head) == 6 and head[5] == target
                continue
            if inside:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if len(parts) == 2 and parts[1] == "kB":
                    kb = int(parts[0]) * 1024
                    if key == "Rss":
                        out["rss"] += kb
                    elif key.startswith("Shared_"):
                        out["shared"] += kb
                    elif key.startswith("Private_"):
                        out["private"] += kb
        return out
    return None


def measure(pids: list[int]) -> dict:
    """Sums over the processes, and the in-memory files they hold."""
    rs = [rollup(p) for p in pids]
    hidden = hidden_files(pids)
    comms = []
    for p, r in zip(pids, rs):
        try:
            comms.append((Path(f"/proc/{p}/comm").read_text().strip(), r.get("Pss", 0)))
        except OSError:
            pass
    return {"pss": sum(r.get("Pss", 0) for r in rs), "rss": sum(r.get("Rss", 0) for r in rs),
            "private": sum(r.get("Private_Clean", 0) + r.get("Private_Dirty", 0) for r in rs),
            "hidden": hidden, "hidden_bytes": sum(size for _, size in hidden.values()), "processes": len(pids),
            "by_process": comms, "image": image_mapping(pids)}


def peers_argv(image: str, pyodide: list[str] | None) -> dict[str, list[str]]:
    native = [PYTHON, "-c", WAIT_CODE]
    out = {"native": native, "xax-emu": xax("run", image, "--", "-c", WAIT_CODE),
           "proot": under("proot", native), "gVisor": under("gVisor", native)}
    if pyodide:
        out["Pyodide"] = [*pyodide, WAIT_CODE.split("; sys.stdin")[0], "--wait-stdin"]
    return out


def one_and_two(argv: list[str], env: dict, cwd: Path) -> dict:
    """The run alone, then a second instance beside it: what the pair holds over the first alone."""
    a = Running(argv, env, cwd)
    try:
        time.sleep(SETTLE)  # let the first settle (its Monitor's loop, node's GC) before reading it
        alone = measure(a.pids())
        b = Running(argv, env, cwd)
        try:
            time.sleep(SETTLE)
            a_pids, b_pids = a.pids(), b.pids()
            pair = measure(a_pids + b_pids)
            second = measure(b_pids)
        finally:
            b.stop()
    finally:
        a.stop()
    extra = (pair["pss"] + pair["hidden_bytes"]) - (alone["pss"] + alone["hidden_bytes"])
    return {"alone": alone, "pair": pair, "second": second, "extra": extra}


def image_copies(m: dict, image_size: int) -> list[tuple[str, int]]:
    """The in-memory files at least as large as the image: copies of it (nothing else the run holds is)."""
    return [(name, size) for name, size in m["hidden"].values() if size >= image_size * 0.9]


def run_section(work: Path, image: str, pyodide: list[str] | None) -> Section:
    sec = Section("11. Memory: one run, and a second instance beside it")
    env = cli_env(work)
    image_size = os.path.getsize(image)
    results = {peer: one_and_two(argv, env if peer == "xax-emu" else {**os.environ, "LC_ALL": "C"}, work)
               for peer, argv in peers_argv(image, pyodide).items()}
    # The image's fd in the picoprocess: what the run maps the image from.
    sec.lines += [
        f"`python3 -c` of code that prints a line and then waits on stdin (`{WAIT_CODE}`), held at that line "
        "while its processes are read; then a second instance of the same command started beside it. Pss and "
        "Private (clean + dirty) summed over the command's process and all its descendants, from "
        "/proc/PID/smaps_rollup; \"in no RSS\": the memfd, /dev/shm and deleted tmpfs files they hold open or map "
        "(allocated bytes, once per file). Pyodide: node with npm's `pyodide` (section 2), which prints the line "
        "from Python and then waits on stdin in JavaScript.",
        "",
        "| run | processes | Pss | Private | Rss | in no RSS | second instance: extra memory | its Pss | its Private |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for peer, r in results.items():
        a, s = r["alone"], r["second"]
        sec.lines.append(f"| {peer} | {a['processes']} | {a['pss'] / MIB:,.1f} MiB | {a['private'] / MIB:,.1f} MiB | "
                         f"{a['rss'] / MIB:,.1f} MiB | {a['hidden_bytes'] / MIB:,.1f} MiB | "
                         f"{r['extra'] / MIB:,.1f} MiB | {s['pss'] / MIB:,.1f} MiB | {s['private'] / MIB:,.1f} MiB |")
    x = results["xax-emu"]
    copies = image_copies(x["alone"], image_size)
    sec.lines += [
        "",
        "\"extra memory\" is (Pss of both instances + their in-memory files) minus (Pss + in-memory files of the "
        "first alone): what the machine holds more for the second. It is the second's Private plus its share of "
        "pages it maps that the first did not (shared with other processes of the machine), give or take what the "
        "first freed or grew between the two readings (node's garbage collector moves its heap: Pyodide's extra "
        "memory can come out below its second instance's Private).",
        "",
        f"xax-emu's in-memory files with the first run alone: "
        + (", ".join(f"`{name}` {size / MIB:,.1f} MiB" for name, size in x["alone"]["hidden"].values()) or "none")
        + f"; of them copies of the {image_size / MIB:,.1f} MiB image (at least 90 % of its size): "
        + (", ".join(f"`{n}`" for n, _ in copies) or "none") + ".",
    ]
    first, second = x["alone"]["image"], x["second"]["image"]
    if first and second:
        sec.lines += [
            "",
            f"The picoprocess maps its image from `{second['path']}`. Of its pages resident in the second instance's "
            f"mappings ({second['rss'] / MIB:,.1f} MiB), {second['shared'] / MIB:,.1f} MiB are shared (with the "
            f"first) and {second['private'] / MIB:,.1f} MiB private; the first alone had {first['rss'] / MIB:,.1f} "
            "MiB of it resident. By process, first alone: "
            + ", ".join(f"{c} {v / MIB:,.1f} MiB Pss" for c, v in x["alone"]["by_process"]) + ".",
        ]
    sec.facts.update({"results": results, "image_size": image_size, "copies": copies})
    return sec


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="xax-bench-memory-") as tmp:
        work = Path(tmp)
        (work / "cache").mkdir()
        image = sys.argv[1] if len(sys.argv) > 1 else str(work / "python3.tar")
        if len(sys.argv) <= 1:
            subprocess.run(xax("pack", str(ROOT / "images/python3/manifest.toml"), "-o", image), env=cli_env(work),
                           check=True, capture_output=True)
        import pyodide_peer
        sec = run_section(work, image, pyodide_peer.command(work))
        print("\n".join([f"## {sec.title}", "", *sec.lines]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
