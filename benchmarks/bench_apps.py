"""2. Real apps: Debian's programs natively, under `xax-emu run` (packed from images/),
under proot and under gVisor (`runsc --network=none --platform=ptrace do`), round-robin
in one run; the picoprocess's own part from `run --stats-json`; and, for
`python3 -c pass`, where the time goes."""
from __future__ import annotations

import cProfile
import json
import importlib.util
import os
import pstats
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import PYTHON, ROOT, Section, cli_env, median, ms, read_stats, run, xax

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
    goal: bool = False             # the goals apply (python3 -c pass, espeak-ng)


def apps(work) -> list[App]:
    db = str(work / "bench.db")
    return [
        App("`python3 -c pass`", "python3", [PYTHON, "-c", "pass"], ["-c", "pass"], goal=True),
        App("lua5.4: a script (sort 200k numbers, count words)", "lua", ["/usr/bin/lua5.4", "-"], ["-"], LUA),
        App("sqlite3: 20k rows inserted, indexed, queried (a file db; sealed on the RAM disk)", "sqlite3",
            ["/usr/bin/sqlite3", db], ["/data/bench.db"], SQL, {"LC_ALL": "C", "HOME": str(work)}, db),
        App("espeak-ng: one sentence to a WAV on stdout", "espeak-ng", ["/usr/bin/espeak-ng", "--stdout", SENTENCE],
            ["--stdout", SENTENCE], goal=True),
    ]


def peer_argv(peer: str, app: App, image, stats) -> list[str]:
    if peer == "native":
        return app.native
    if peer == "proot":
        return ["proot", *app.native]
    if peer == "gVisor":
        return ["runsc", "--network=none", "--platform=ptrace", "do", *app.native]
    return xax("run", "--stats-json", str(stats), str(image), "--", *app.args)


def python_min_image(work, env) -> str:
    """An image of python3 with only the modules `python3 -c pass` loads (and lib-dynload, the
    landmark Python looks for): the same program, a small fraction of the bytes."""
    out = subprocess.run([PYTHON, "-c", "import sys; print('\\n'.join(m.__file__ for m in list(sys.modules.values()) "
                                        "if getattr(m, '__file__', None)))"],
                         capture_output=True, text=True, env={"LC_ALL": "C"}, check=True).stdout.split()
    files = {PYTHON: PYTHON, "/usr/lib/python3.11/lib-dynload": "/usr/lib/python3.11/lib-dynload"}
    for f in out:
        if f.startswith("/usr/lib/python3.11/"):
            files[f] = f
            pyc = importlib.util.cache_from_source(f)
            if os.path.exists(pyc):
                files[pyc] = pyc
    manifest = work / "python3-min.toml"
    manifest.write_text('[app]\nname = "python3-min"\nentry = "/usr/bin/python3.11"\nenv = { LC_ALL = "C" }\n'
                        'cwd = "/"\nprofile = "glibc-dynamic"\n[files]\n'
                        + "".join(f'"{k}" = "{v}"\n' for k, v in sorted(files.items())))
    image = work / "python3-min.tar"
    subprocess.run(xax("pack", str(manifest), "-o", str(image)), env=env, check=True, capture_output=True)
    return str(image)


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


def trapped_and_xaxcalls(work, env, image: str, app: App) -> tuple[int, int]:
    """How many calls one sealed run of the app traps to the layer, and how many xaxcalls it makes
    (`xax-emu trace --json`, counting the calls that reach the kernel off: they would not trap)."""
    out = work / f"trace-{app.name.split(':')[0].replace(' ', '_')}.json"
    _, proc = run(xax("trace", "--json", "--output", str(out), image, "--", *app.args), stdin=app.stdin, env=env,
                  cwd=work)
    if proc.returncode != 0 and not out.exists():
        raise RuntimeError(f"trace of {app.name}: exit {proc.returncode}: {proc.stderr.decode()[-1000:]}")
    acc = json.loads(out.read_text())
    xaxcalls = sum(n for kind, n in (acc.get("kernel") or {}).get("xaxcalls", {}).items() if kind != "TRACE")
    return acc["trapped"]["total"], xaxcalls


def run_section(work, images: dict[str, str], table1: dict | None = None) -> Section:
    sec = Section("2. Real apps")
    env = cli_env(work)
    rows = apps(work)
    wall = {(a.name, p): [] for a in rows for p in PEERS}
    pico = {a.name: [] for a in rows}
    outcome = {}
    for rep in range(REPS):
        for a in rows:
            for peer in PEERS:
                if a.db and os.path.exists(a.db):
                    os.unlink(a.db)
                stats = work / "stats.json"
                argv = peer_argv(peer, a, images[a.manifest], stats)
                t, proc = run(argv, stdin=a.stdin, env=env if peer == "xax-emu" else a.env, cwd=work)
                if rep == 0:
                    outcome[(a.name, peer)] = proc
                ok = proc.returncode == outcome[(a.name, "native")].returncode and \
                    proc.stdout == outcome[(a.name, "native")].stdout
                if ok:
                    wall[(a.name, peer)].append(t)
                if peer == "xax-emu" and ok:
                    pico[a.name].append(read_stats(stats)["spawn_to_exit_seconds"])
    sec.lines += [
        f"Whole commands, wall time from before the fork to after the wait, medians of {REPS} round-robin runs "
        "(native, xax-emu, proot, gVisor, app after app). `xax-emu run` is the whole command: the Python Monitor "
        "starts, reads and checks the image, spawns the picoprocess and relays its stdio. \"picoprocess\" is its "
        "own part, spawn to exit on the Monitor's clock (`run --stats-json`), beside the native process's spawn "
        "to exit (the native command). Every run's stdout and exit status are compared with the native run's; a "
        "run that differs is not timed.",
        "",
        "| app | native | xax-emu run | picoprocess | proot | gVisor (ptrace) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for a in rows:
        n = median(wall[(a.name, "native")])
        cells = [ms(n)]
        for peer in PEERS[1:]:
            times = wall[(a.name, peer)]
            if not times:
                proc = outcome[(a.name, peer)]
                why = proc.stderr.decode(errors="replace").replace("`", "'").strip().splitlines()
                cells.append(f"fails: exit {proc.returncode}" + (f", `{why[-2] if len(why) > 1 else why[-1]}`"
                                                                 if why else ""))
            else:
                cells.append(f"{ms(median(times))} ({median(times) / n:.1f}x)")
            if peer == "xax-emu":
                p = pico[a.name]
                cells.append(f"{ms(median(p))} ({median(p) / n:.1f}x)" if p else "—")
        sec.lines.append(f"| {a.name} | " + " | ".join(cells) + " |")
    lines, facts = python_breakdown(work, env, images["python3"], wall, pico, rows[0])
    sec.lines += lines
    for a in (r for r in rows if r.goal):
        n = median(wall[(a.name, "native")])
        x, pr, pc = wall[(a.name, "xax-emu")], wall[(a.name, "proot")], pico[a.name]
        if not x:
            proc = outcome[(a.name, "xax-emu")]
            tail = proc.stderr.decode(errors="replace").replace("`", "'").strip().splitlines()[-2:]
            why = (f"it does not run sealed yet (exit {proc.returncode}: {' / '.join(tail)}): espeak-ng starts a "
                   "thread at initialisation and the layer has no threads yet (the lead's work in progress)")
            sec.goal(f"{a.name}: `xax-emu run` faster than proot", "measured failing", False, why)
            sec.goal(f"{a.name}: the picoprocess's part <= 1.3x native", "measured failing", False, "as above")
            continue
        bound_whole = bound_pico = ""
        if facts and a is rows[0]:
            before = facts["bare"] + facts["imports"] + facts["copy"] + facts["check"]
            bound_whole = (f"before the picoprocess exists, the Monitor's Python start ({ms(facts['bare'])}), "
                           f"the run path's imports ({ms(facts['imports'])}), the image's copy into a sealed memfd "
                           f"with its sha256 ({ms(facts['copy'])}) and its check ({ms(facts['check'])}: validated "
                           f"before, by that sha256) take {ms(before)}, {before / median(pr):.1f}x proot's whole run; "
                           f"the copy and hash of {facts['size']:,.0f} MiB alone is "
                           f"{facts['copy'] / median(pr):.1f}x proot's run")
            bound_pico = (f"{facts['reads']:,} READ xaxcalls (the image is mapped); from an image of only the "
                          f"{facts['small_size']:,.1f} MiB it uses, the same part takes {ms(facts['small'])} "
                          f"({facts['small'] / n:.1f}x native)" if facts.get("small") else "")
        if not bound_pico and table1 and median(pc) / n > 1.3:
            if a.db and os.path.exists(a.db):
                os.unlink(a.db)
            traps, calls = trapped_and_xaxcalls(work, env, images[a.manifest], a)
            trap_s = traps * table1["floor"]["close_trapped"] / 1e9
            call_s = calls * table1["sealed"]["xaxcall"] / 1e9
            bound_pico = (f"the run traps {traps:,} calls and makes {calls:,} xaxcalls (`xax-emu trace`): at the trap's "
                          f"floor and the null xaxcall's round trip (section 1) that is {ms(trap_s)} + {ms(call_s)} of "
                          f"the {ms(median(pc) - n)} it adds over native; the rest is the picoprocess's start (boot, "
                          "the image's index, the loader)")
        sec.goal(f"{a.name}: `xax-emu run` faster than proot", f"{ms(median(x))} vs {ms(median(pr))}",
                 median(x) < median(pr), bound_whole)
        sec.goal(f"{a.name}: the picoprocess's part <= 1.3x native", f"{median(pc) / n:.1f}x "
                 f"({ms(median(pc))} vs {ms(n)})", median(pc) / n <= 1.3, bound_pico)
    return sec


def python_breakdown(work, env, image, wall, pico, app: App) -> tuple[list[str], dict]:
    x = median(wall[(app.name, "xax-emu")]) if wall[(app.name, "xax-emu")] else None
    if x is None:
        return ["", "`python3 -c pass` did not run sealed: no breakdown."], {}
    # What `run` imports before it starts the picoprocess (cli.py imports the rest of its run path in _run).
    run_path = "import xax_emu.cli, xax_emu.launch.request, xax_emu.monitor, xax_emu.launch.validated, xax_emu.launch.program"
    imports = median(run([sys.executable, "-c", run_path], env=env)[0] for _ in range(REPS))
    bare = median(run([sys.executable, "-c", "pass"], env=env)[0] for _ in range(REPS))
    sys.path.insert(0, str(ROOT))
    from xax_emu.launch.imagefile import ImageFile
    from xax_emu.launch.validated import ValidatedImages
    from xax_emu.launch.program import resolve
    validated = ValidatedImages(Path(env["XDG_CACHE_HOME"]) / "xax-emu" / "validated")  # the runs' own record

    def timed(fn) -> float:
        times = []
        for _ in range(REPS):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return median(times)

    def copy() -> None:
        fd = os.open(image, os.O_RDONLY | os.O_CLOEXEC)
        try:
            ImageFile.copy_of_file(image, fd).close()
        finally:
            os.close(fd)

    prog = resolve(image, None, validated=validated)
    size = prog.image.size
    prog.image.close()
    copy_s = timed(copy)
    resolve_s = timed(lambda: resolve(image, None, validated=validated).image.close())
    cold_s = timed(lambda: resolve(image, None).image.close())
    prof = cProfile.Profile()
    prof.enable()
    resolve(image, None, validated=validated).image.close()
    prof.disable()
    pst = pstats.Stats(prof)
    own = sorted(((tt, f"{os.path.basename(file)}:{name}") for (file, line, name), (cc, nc, tt, ct, callers)
                  in pst.stats.items()), reverse=True)[:4]
    stats = work / "stats-min.json"
    small = python_min_image(work, env)
    small_s, small_msgs = [], []
    for _ in range(5):
        _, proc = run(xax("run", "--stats-json", str(stats), small, "--", "-c", "pass"), env=env)
        if proc.returncode == 0:
            st = read_stats(stats)
            small_s.append(st["spawn_to_exit_seconds"])
            small_msgs.append(st["xaxcalls"].get("READ", 0))
    _, proc = run(xax("run", "--stats-json", str(stats), image, "--", "-c", "pass"), env=env)
    full = read_stats(stats)
    small_size = os.path.getsize(small)
    p = median(pico[app.name])
    n = median(wall[(app.name, "native")])
    lines = [
        "",
        f"Where `xax-emu run python3.tar -- -c pass` spends its {ms(x)} (native {ms(n)}):",
        "",
        "| part | time |",
        "|---|---:|",
        f"| the Monitor's interpreter starting, bare (`python3 -c pass` of the Monitor's Python) | {ms(bare)} |",
        f"| importing what `run` uses (xax_emu's CLI, launch, program, monitor), over that | {ms(imports - bare)} |",
        f"| copying the {size / 2**20:,.0f} MiB image into a sealed memfd and hashing it as it is written (sha256: "
        f"the key of the record of validated images) | {ms(copy_s)} |",
        f"| checking it: validated before (the record of that sha256), so only its metadata is read and checked "
        f"(`program.resolve` minus the copy) | {ms(max(0.0, resolve_s - copy_s))} |",
        f"| the picoprocess, spawn to exit ({full['xaxcalls'].get('READ', 0):,} READ xaxcalls: the image is mapped) "
        f"| {ms(p)} |",
        f"| the rest, not broken down (the Monitor's loop around the picoprocess, freeing the memfd, the "
        f"interpreter's exit) | {ms(max(0.0, x - imports - resolve_s - p))} |",
        "",
        f"The first run of an image finds no record and validates it member by member (every header, every "
        f"member's sha256): `program.resolve` then takes {ms(cold_s)} instead of {ms(resolve_s)}.",
        "",
        "`program.resolve` with the record, by own time (cProfile): "
        + "; ".join(f"`{where}` {ms(tt)}" for tt, where in own) + f" of {ms(pst.total_tt)}.",
        "",
        f"The same `python3 -c pass` from an image holding only the {small_size / 2**20:,.1f} MiB it needs (the modules "
        f"it loads, lib-dynload, python3.11 and its libraries): the picoprocess's part is "
        + (f"{ms(median(small_s))} ({median(small_s) / n:.1f}x native; {median(small_msgs):,.0f} READs)"
           if small_s else "not measured (it failed)")
        + f" against {ms(p)} from the {size / 2**20:,.0f} MiB image.",
        "",
        *perf_profile(work, env, image),
    ]
    facts = {"bare": bare, "imports": imports - bare, "copy": copy_s, "check": max(0.0, resolve_s - copy_s),
             "reads": full["xaxcalls"].get("READ", 0),
             "size": size / 2**20, "small_size": small_size / 2**20, "small": median(small_s) if small_s else None}
    return lines, facts
