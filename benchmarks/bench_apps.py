"""2. Real apps: Debian's programs natively, under `xax-emu run` (packed from images/),
under proot and under gVisor (`runsc --network=none --platform=ptrace do`), round-robin
in one run; the picoprocess's own part from `run --stats-json`; and, for
`python3 -c pass`, where the time goes."""
from __future__ import annotations

import cProfile
import json
import os
import pstats
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyodide_peer
from harness import PYTHON, ROOT, Section, build, cli_env, median, ms, read_stats, run, xax

REPS = 9
SENTENCE = "The Martians had landed on Horsell Common, and nobody in the village knew it yet."
LUA = b"""local t = {}
for i = 1, 200000 do t[i] = (i * 7919) % 1000003 end
table.sort(t)
local s = 0
for i = 1, #t, 1000 do s = s + t[i] end
local words = {}
for w in string.gmatch(string.rep("the war of the worlds ", 2000), "%a+") do words[w] = (words[w] or 0) + 1 end
print(s, words.the, string.format("%.6f", math.sqrt(2)))
"""
SQL = b"""create table t(id integer primary key, k integer, v text);
with recursive c(i) as (select 1 union all select i + 1 from c where i < 20000)
  insert into t(k, v) select i % 97, printf('row %d', i) from c;
create index tk on t(k);
select k, count(*), sum(length(v)) from t where k < 5 group by k;
"""
PEERS = ("native", "xax-emu", "proot", "gVisor")


@dataclass
class App:
    name: str
    manifest: str                  # images/NAME/manifest.toml
    native: list[str]              # argv natively (and under proot, gVisor)
    args: list[str]                # the image's arguments
    stdin: bytes = b""
    env: dict = field(default_factory=lambda: {"LC_ALL": "C"})
    db: str | None = None          # sqlite3: a file removed before each run
    pyodide: str | None = None     # the same Python code under Pyodide (python3's row)


def apps(work) -> list[App]:
    db = str(work / "bench.db")
    return [
        App("`python3 -c pass`", "python3", [PYTHON, "-c", "pass"], ["-c", "pass"], pyodide="pass"),
        App("lua5.4: a script (sort 200k numbers, count words)", "lua", ["/usr/bin/lua5.4", "-"], ["-"], LUA),
        App("sqlite3: 20k rows inserted, indexed, queried (a file db; sealed on the RAM disk)", "sqlite3",
            ["/usr/bin/sqlite3", db], ["/data/bench.db"], SQL, {"LC_ALL": "C", "HOME": str(work)}, db),
        App("espeak-ng: one sentence to a WAV on stdout", "espeak-ng", ["/usr/bin/espeak-ng", "--stdout", SENTENCE],
            ["--stdout", SENTENCE]),
    ]


def peer_argv(peer: str, app: App, image, stats) -> list[str]:
    if peer == "native":
        return app.native
    if peer == "proot":
        return ["proot", *app.native]
    if peer == "gVisor":
        return ["runsc", "--network=none", "--platform=ptrace", "do", *app.native]
    return xax("run", "--stats-json", str(stats), str(image), "--", *app.args)


def perf_profile(work, env, image) -> list[str]:
    if shutil.which("perf") is None:
        return ["perf is not available on this machine: no profile of the whole command."]
    data = work / "perf.data"
    r = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4000", "-o", str(data), "--",
                        *xax("run", str(image), "--", "-c", "pass")], env=env, capture_output=True)
    if r.returncode != 0:
        return [f"perf record failed: {r.stderr.decode()[-300:]}"]

    def report(*args):
        out = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--percent-limit", "1.5", *args],
                             capture_output=True, text=True).stdout
        return [l.strip() for l in out.splitlines() if l.strip() and not l.startswith("#")]

    lines = ["`perf record -e cpu-clock` of one whole `xax-emu run python3.tar -- -c pass` (software clock: this VM "
             "has no hardware counters), by process and object (over 1.5%):", "", "```"]
    lines += report("--sort", "comm,dso")[:12]
    lines += ["```", "", "and the picoprocess's hottest symbols:", "", "```"]
    lines += report("--comm", "xax-pico", "--sort", "sym")[:8]
    return lines + ["```"]


RUN_PATH_IMPORTS = ("xax_emu.cli", "xax_emu.launch.program", "xax_emu.launch.request", "xax_emu.launch.store",
                    "xax_emu.launch.validated", "xax_emu.monitor", "xax_emu.monitor.fetch")


def run_section(work, images: dict[str, str], pyodide: list[str] | None = None) -> Section:
    """Every app natively, sealed, under proot and gVisor (and python3 under Pyodide), round-robin."""
    sec = Section("2. Real apps")
    env = cli_env(work)
    rows = apps(work)
    peers = {a.name: PEERS + (("Pyodide",) if a.pyodide is not None and pyodide else ()) for a in rows}
    wall = {(a.name, p): [] for a in rows for p in peers[a.name]}
    pico = {a.name: [] for a in rows}
    xaxcalls = {a.name: [] for a in rows}
    outcome = {}
    for rep in range(REPS):
        for a in rows:
            for peer in peers[a.name]:
                if a.db and os.path.exists(a.db):
                    os.unlink(a.db)
                stats = work / "stats.json"
                argv = [*pyodide, a.pyodide] if peer == "Pyodide" else peer_argv(peer, a, images[a.manifest], stats)
                t, proc = run(argv, stdin=a.stdin, env=env if peer == "xax-emu" else a.env, cwd=work)
                if rep == 0:
                    outcome[(a.name, peer)] = proc
                native = outcome[(a.name, "native")]
                # Pyodide is another Python (its own version): its output is not the native one's
                ok = proc.returncode == native.returncode and (peer == "Pyodide" or proc.stdout == native.stdout)
                if ok:
                    wall[(a.name, peer)].append(t)
                if peer == "xax-emu" and ok:
                    st = read_stats(stats)
                    pico[a.name].append(st["spawn_to_exit_seconds"])
                    xaxcalls[a.name].append(sum(st["xaxcalls"].values()))
    sec.lines += [
        f"Whole commands, wall time from before the fork to after the wait, medians of {REPS} round-robin runs "
        "(native, xax-emu, proot, gVisor, app after app; for `python3 -c pass` Pyodide too). `xax-emu run` is the "
        "whole command: the Python Monitor starts, finds the image in its store (xax_emu/launch/store.py) and "
        "checks it, spawns the picoprocess and relays its stdio. \"picoprocess\" is its own part, spawn to exit on "
        "the Monitor's clock (`run --stats-json`), beside the native process's spawn to exit (the native "
        "command). Every run's stdout and exit status are compared with the native run's; a run that differs is "
        "not timed.",
        "",
        "| app | native | xax-emu run | picoprocess | proot | gVisor (ptrace) | Pyodide (node) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def failed(peer, a) -> str:
        proc = outcome[(a.name, peer)]
        why = proc.stderr.decode(errors="replace").replace("`", "'").replace("|", "/").strip().splitlines()
        return f"fails: exit {proc.returncode}" + (f", `{why[-1][:160]}`" if why else "")

    facts = {"wall": {}, "pico": {}, "xaxcalls": {}, "reps": REPS}
    for a in rows:
        native_times = wall[(a.name, "native")]
        if not native_times:  # nothing to compare with: the row says why
            sec.lines.append(f"| {a.name} | {failed('native', a)} |" + " — |" * 6)
            continue
        n = median(native_times)
        facts["wall"][(a.manifest, "native")] = n
        cells = [ms(n)]
        for peer in PEERS[1:] + ("Pyodide",):
            times = wall.get((a.name, peer))
            if times is None:
                cells.append("—" if a.pyodide is None else "not installed")
            elif not times:
                cells.append(failed(peer, a))
            else:
                facts["wall"][(a.manifest, peer)] = median(times)
                cells.append(f"{ms(median(times))} ({median(times) / n:.1f}x)")
            if peer == "xax-emu":
                p = pico[a.name]
                if p:
                    facts["pico"][a.manifest] = median(p)
                    facts["xaxcalls"][a.manifest] = median(xaxcalls[a.name])
                cells.append(f"{ms(median(p))} ({median(p) / n:.1f}x)" if p else "—")
        sec.lines.append(f"| {a.name} | " + " | ".join(cells) + " |")
    if pyodide:
        sec.lines += ["", pyodide_note(work)]
    lines, facts["breakdown"] = python_breakdown(work, env, images["python3"], wall, pico, rows[0])
    sec.lines += lines
    facts["empty_pico"], facts["empty_native"] = empty_start(work, env)
    sec.lines += ["", f"A static program (musl) whose main returns at once: "
                  f"natively {ms(facts['empty_native'])} spawn to exit, sealed {ms(facts['empty_pico'])} (the "
                  "picoprocess's own start: boot, the layer, the seal)."]
    sec.facts.update(facts)
    return sec


def pyodide_note(work) -> str:
    """What the Pyodide figure includes, and node's own start measured beside it."""
    node = median(run(["node", "-e", "0"])[0] for _ in range(5))
    return (f"Pyodide (npm's `pyodide` {pyodide_peer.VERSION}, CPython {pyodide_python()} in WebAssembly, its "
            "standard library only) runs `pass` under node (benchmarks/pyodide_peer.py): its figure is the whole "
            f"command, node's own start ({ms(node)} for `node -e 0`), compiling and instantiating pyodide.asm.wasm, "
            "loading python_stdlib.zip into its in-memory file system and CPython's initialisation. It is the web's "
            "answer to the same program, not the same binary: its Python is its own version, so its output is not "
            "compared with the native run's (its exit status is).")


def pyodide_python() -> str:
    try:
        lock = json.loads((pyodide_peer.cache_dir() / "node_modules/pyodide/pyodide-lock.json").read_text())
        return lock["info"]["python"]
    except (OSError, ValueError, KeyError):
        return "(its version unknown)"


def empty_start(work, env) -> tuple[float, float]:
    """The picoprocess's own start: a static program that returns from main at once, sealed
    (spawn to exit, `run --stats-json`) and natively (the whole command)."""
    src = work / "empty.c"
    src.write_text("int main(void) { return 0; }\n")
    prog = build(work, str(src))
    stats = work / "stats-empty.json"
    sealed, native = [], []
    for _ in range(REPS):
        native.append(run([str(prog)])[0])
        _, proc = run(xax("run", "--stats-json", str(stats), str(prog)), env=env)
        if proc.returncode == 0:
            sealed.append(read_stats(stats)["spawn_to_exit_seconds"])
    return median(sealed), median(native)


def _importtime(stderr: str) -> list[tuple[int, str, float, float]]:
    """`-X importtime`'s lines as (depth, module, own s, cumulative s); depth 0 is a top-level import."""
    out = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line[len("import time:"):].split("|")
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        out.append((depth, name.strip(), int(self_us) / 1e6, int(cum_us) / 1e6))
    return out


def import_times(env) -> list[tuple[int, str, float, float]]:
    """`python3 -X importtime` of the run path's imports (the import system's own figures, one run)."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", "import " + ", ".join(RUN_PATH_IMPORTS)],
                       env=env, capture_output=True, text=True)
    return _importtime(r.stderr)


def site_parts(env) -> list[tuple[str, float]]:
    """What `site` imports at the interpreter's start (the .pth files of site-packages: an editable
    install's finder, and whatever else the machine's site-packages holds), by `-X importtime`:
    (module, cumulative s) of site's direct imports, the largest first."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], env=env, capture_output=True, text=True)
    rows = _importtime(r.stderr)
    out, children = [], []
    for depth, name, _, cum in rows:  # a module's line follows its imports' lines
        if depth == 1:
            children.append((name, cum))
        elif depth == 0:
            if name == "site":
                out = children
            children = []
    return sorted(out, key=lambda r: -r[1])[:4]


def importing_pth() -> list[str]:
    """The .pth files of this interpreter's site-packages with an `import` line (site runs it at every start)."""
    import site
    out = []
    for d in site.getsitepackages():
        for pth in sorted(Path(d).glob("*.pth")):
            try:
                if any(line.startswith(("import ", "import\t")) for line in pth.read_text().splitlines()):
                    out.append(pth.name)
            except OSError:
                pass
    return out


def python_breakdown(work, env, image, wall, pico, app: App) -> tuple[list[str], dict]:
    if not wall[(app.name, "xax-emu")]:
        return ["", "`python3 -c pass` did not run sealed: no breakdown."], {}
    x = median(wall[(app.name, "xax-emu")])
    imports = median(run([sys.executable, "-c", "import " + ", ".join(RUN_PATH_IMPORTS)], env=env)[0]
                     for _ in range(REPS))
    bare = median(run([sys.executable, "-c", "pass"], env=env)[0] for _ in range(REPS))
    bare_s = median(run([sys.executable, "-S", "-c", "pass"], env=env)[0] for _ in range(REPS))
    sys.path.insert(0, str(ROOT))
    from xax_emu.launch.program import resolve
    from xax_emu.launch.store import ImageStore
    from xax_emu.launch.validated import ValidatedImages
    cache = Path(env["XDG_CACHE_HOME"]) / "xax-emu"
    validated = ValidatedImages(cache / "validated")  # the runs' own record and store
    store = ImageStore(cache / "images")

    def timed(fn) -> float:
        times = []
        for _ in range(REPS):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return median(times)

    prog = resolve(image, None, validated=validated, store=store)
    size = prog.image.size
    prog.image.close()
    resolve_s = timed(lambda: resolve(image, None, validated=validated, store=store).image.close())
    # The first run of an image: imported into a fresh store and validated member by member.
    cold = []
    for i in range(3):
        fresh = work / f"cold-{i}"
        t = time.perf_counter()
        resolve(image, None, validated=ValidatedImages(fresh / "validated"), store=ImageStore(fresh / "images")) \
            .image.close()
        cold.append(time.perf_counter() - t)
        shutil.rmtree(fresh, ignore_errors=True)
    cold_s = median(cold)
    prof = cProfile.Profile()
    prof.enable()
    resolve(image, None, validated=validated, store=store).image.close()
    prof.disable()
    pst = pstats.Stats(prof)
    own = sorted(((tt, f"{os.path.basename(file)}:{name}") for (file, line, name), (cc, nc, tt, ct, callers)
                  in pst.stats.items()), reverse=True)[:4]
    itimes = import_times(env)
    site = site_parts(env)
    top_level = sorted(((name, own_s, cum) for depth, name, own_s, cum in itimes if depth == 0 and name != "site"),
                       key=lambda r: -r[2])[:6]
    by_own = sorted(((name, own_s, cum) for _, name, own_s, cum in itimes), key=lambda r: -r[1])[:6]
    p = median(pico[app.name])
    n = median(wall[(app.name, "native")])
    rest = x - imports - resolve_s - p
    lines = [
        "",
        f"Where `xax-emu run python3.tar -- -c pass` spends its {ms(x)} (native {ms(n)}):",
        "",
        "| part | time |",
        "|---|---:|",
        f"| the Monitor's interpreter starting, bare (`python3 -c pass` of the Monitor's Python; with `-S`, no "
        f"site and no .pth files: {ms(bare_s)}) | {ms(bare)} |",
        f"| importing what `run` uses ({', '.join(RUN_PATH_IMPORTS)}), over that | {ms(imports - bare)} |",
        f"| finding the {size / 2**20:,.0f} MiB image in the store (its file's identity remembered: not read) "
        f"and checking it (validated before: only its metadata is read and checked), `program.resolve` | "
        f"{ms(resolve_s)} |",
        f"| the picoprocess, spawn to exit | {ms(p)} |",
        f"| the rest, not broken down (argument parsing, the Monitor's set-up and loop around the picoprocess, "
        f"the interpreter's exit; the parts above are measured apart, so it may come out below zero) | {ms(rest)} |",
        "",
        f"The first run of an image (a fresh store and record) copies it into the store, hashing it, and validates "
        f"it member by member: `program.resolve` then takes {ms(cold_s)} instead of {ms(resolve_s)}.",
        "",
        "`program.resolve` with the store and the record, by own time (cProfile): "
        + "; ".join(f"`{where}` {ms(tt)}" for tt, where in own) + f" of {ms(pst.total_tt)}.",
        "",
        "The run path's imports by `python3 -X importtime` (one run; cumulative, the top-level imports): "
        + "; ".join(f"`{name}` {ms(cum)}" for name, _, cum in top_level)
        + ". By own time: " + "; ".join(f"`{name.strip()}` {ms(own_s)}" for name, own_s, _ in by_own) + ".",
        "",
        "What `site` imports at the interpreter's start (the .pth files in site-packages), by `-X importtime` of "
        "`python3 -c pass` (cumulative): " + "; ".join(f"`{name}` {ms(cum)}" for name, cum in site)
        + "; the .pth files that run code (an `import` line) in the Monitor's site-packages: "
        + (", ".join(f"`{n}`" for n in importing_pth()) or "none") + ".",
        "",
        *perf_profile(work, env, image),
    ]
    facts = {"bare": bare, "bare_no_site": bare_s, "imports": imports - bare, "resolve": resolve_s, "cold": cold_s,
             "pico": p, "rest": rest, "size": size, "import_top": top_level, "site": site}
    return lines, facts
