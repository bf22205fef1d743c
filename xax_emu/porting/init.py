"""`xax-emu init`: port a program from what it does natively.

Each of the porter's runs (arguments and stdin) is run natively under strace, with the
environment the image will have; the recordings are merged into one plan (plan.py),
written as manifest.toml and, when the base profile is not enough, profile.py
(render.py); the image is packed, every run is repeated sealed with the same arguments
and stdin, and each is reported identical or different (with a diff)."""
from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import XaxError
from .environment import Environment, drop_unused_paths, split_environment
from ..image.elfdeps import is_x86_64
from .hostpaths import chain
from .observe import Observation
from .plan import Plan, add_sealed_only, base_for, plan_port
from .render import PROFILE_FILE, render_manifest, render_profile
from .strace import Recording, StraceParseError, strace_command

NATIVE_TIMEOUT = 120.0
SEALED_WALL_SECONDS = 120.0
DIFF_LINES = 40


class InitError(XaxError):
    """init cannot go on: the program, a run, strace or the output directory; names which."""


@dataclass(frozen=True)
class RunSpec:
    args: list[str]
    stdin: bytes = b""
    stdin_name: str | None = None  # where the stdin came from, for the report

    def describe(self, argv0: str) -> str:
        import shlex
        return shlex.join([argv0, *self.args]) + (f" < {self.stdin_name}" if self.stdin_name else "")


@dataclass
class Output:
    stdout: bytes
    stderr: bytes
    code: int
    seconds: float
    note: str | None = None  # the Monitor's one line (a limit, a signal), sealed runs only


@dataclass
class Comparison:
    spec: RunSpec
    native: Output
    sealed: Output | None
    missing: dict[str, int] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        s, n = self.sealed, self.native
        return s is not None and (s.stdout, s.stderr, s.code) == (n.stdout, n.stderr, n.code)

    def diff(self) -> str:
        s, n = self.sealed, self.native
        if s is None:
            return "not run sealed"
        out = []
        if s.code != n.code:
            out.append(f"exit status: native {n.code}, sealed {s.code}" + (f" ({s.note})" if s.note else ""))
        for what, a, b in (("stdout", n.stdout, s.stdout), ("stderr", n.stderr, s.stderr)):
            if a != b:
                out.append(_diff_bytes(what, a, b))
        return "\n".join(out)


def _diff_bytes(what: str, native: bytes, sealed: bytes) -> str:
    try:
        a, b = native.decode(), sealed.decode()
    except UnicodeDecodeError:
        first = next((i for i, (x, y) in enumerate(zip(native, sealed)) if x != y), min(len(native), len(sealed)))
        return f"{what}: {len(native)} bytes native, {len(sealed)} sealed; first difference at byte {first}"
    lines = list(difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                      f"{what} (native)", f"{what} (sealed)", n=2))
    cut = lines[:DIFF_LINES] + ([f"... {len(lines) - DIFF_LINES} more diff lines\n"] if len(lines) > DIFF_LINES else [])
    return "".join(line if line.endswith("\n") else line + "\n\\ no newline at end\n" for line in cut).rstrip("\n")


@dataclass
class InitResult:
    plan: Plan
    manifest: Path
    profile: Path | None
    image: Path | None
    image_id: str | None
    comparisons: list[Comparison]
    generated_lines: int

    @property
    def all_identical(self) -> bool:
        return all(c.identical for c in self.comparisons)


def find_program(program: str, env: Environment) -> tuple[str, str, list]:
    """(the path the runs execute, the physical file, the symlinks on the way)."""
    if "/" in program:
        path = os.path.abspath(program)
    else:
        path = shutil.which(program, path=env.kept.get("PATH", os.defpath))
        if path is None:
            raise InitError(f"{program}: not found on PATH ({env.kept.get('PATH', os.defpath)})")
    found = chain(path)
    if found is None or not os.path.isfile(found[0]):
        raise InitError(f"{program}: no such program ({path})")
    if not is_x86_64(found[0]):
        with open(found[0], "rb") as f:
            head = f.read(128)
        if head.startswith(b"#!"):
            interpreter = head[2:].split(b"\n", 1)[0].decode(errors="replace").strip()
            raise InitError(f"{program}: a script for {interpreter}: port the interpreter, with the script "
                            "among the runs' arguments")
        raise InitError(f"{program}: not an x86-64 ELF program ({found[0]})")
    return path, found[0], found[1]


def record(argv0: str, spec: RunSpec, env: dict[str, str], cwd: str, workdir: str, number: int,
           timeout: float) -> tuple[Recording, Output]:
    """One native run under strace: its recording and what it printed."""
    if shutil.which("strace") is None:
        raise InitError("strace is not installed (bootstrap.sh installs it)")
    log = os.path.join(workdir, f"run{number}.strace")
    start = time.monotonic()
    try:
        r = subprocess.run([*strace_command(log), "--", argv0, *spec.args], input=spec.stdin, capture_output=True,
                           env=env, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise InitError(f"run {number} ({spec.describe(argv0)}): still running natively after {timeout:g} s") \
            from None
    seconds = time.monotonic() - start
    try:
        text = Path(log).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as e:
        raise InitError(f"run {number}: strace wrote no log ({e.strerror}): {r.stderr[-300:]!r}") from None
    try:
        rec = Recording.from_log(text)
    except StraceParseError as e:
        raise InitError(f"run {number}: {e}") from None
    if not rec.calls or rec.calls[0].name != "execve" or not rec.calls[0].ok:
        raise InitError(f"run {number} ({spec.describe(argv0)}): the program did not start natively: "
                        f"{r.stderr[-300:].decode(errors='replace')}")
    return rec, Output(r.stdout, r.stderr, r.returncode, seconds)


def run_sealed(image: Path, spec: RunSpec, wall_seconds: float) -> tuple[Output, dict[str, int]]:
    from ..launch.program import resolve
    from ..launch.request import Request, start_kwargs
    from ..monitor import Monitor, Stdio
    from ..trace_report import missing_by_name

    out, err = bytearray(), bytearray()
    program = resolve(str(image), None, None)
    request = Request(program, list(spec.args), [], None, {"wall_seconds": wall_seconds})
    start = time.monotonic()
    with Monitor() as monitor:
        pico = monitor.start(**start_kwargs(request), stdio=Stdio(stdout=out.extend, stderr=err.extend,
                                                                  stdin_bytes=spec.stdin))
        (report,) = monitor.run_until_done([pico])
    if report.boot_error:
        raise InitError(f"{image}: the picoprocess did not start: {report.boot_error}")
    return (Output(bytes(out), bytes(err), report.exit_code, time.monotonic() - start, report.reason),
            missing_by_name(report.missing))


def init(program: str, runs: list[RunSpec], out_dir: Path, *, name: str | None = None, force: bool = False,
         check: bool = True, timeout: float = NATIVE_TIMEOUT, wall_seconds: float = SEALED_WALL_SECONDS,
         environ: dict[str, str] | None = None, cwd: str | None = None, progress=None) -> InitResult:
    from ..image import pack_image
    from ..profiles import load

    say = progress or (lambda text: None)
    cwd = os.path.abspath(cwd or os.getcwd())
    native_env = dict(os.environ if environ is None else environ)
    env = split_environment(native_env)
    path, entry, links = find_program(program, env)
    name = name or os.path.basename(program)
    out_dir = Path(out_dir)
    manifest, profile = out_dir / "manifest.toml", out_dir / PROFILE_FILE
    if not force and (manifest.exists() or profile.exists()):
        raise InitError(f"{out_dir}: already has a manifest.toml or {PROFILE_FILE} (--force replaces them)")
    obs = Observation()
    natives: list[Output] = []
    with tempfile.TemporaryDirectory(prefix="xax-init-") as work:
        for i, spec in enumerate(runs, 1):
            say(f"run {i} natively under strace: {spec.describe(program)}")
            rec, output = record(program, spec, env.kept, cwd, work, i, timeout)
            obs.add(rec, cwd)
            natives.append(output)
    drop_unused_paths(env, set(obs.paths))
    base = load(base_for(entry))
    plan = plan_port(obs, name=name, entry=entry, argv0=program, program_links=links, env=env, cwd=cwd,
                     home=native_env.get("HOME") or os.path.expanduser("~"), base_profile=base)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = InitResult(plan, manifest, None, None, None, [Comparison(s, n, None) for s, n in zip(runs, natives)], 0)
    _write(result, runs, program)
    if not check:
        return result
    image = out_dir / f"{name}.tar"
    for attempt in (1, 2):
        say(f"pack {manifest} -> {image}")
        packed = pack_image(manifest, image)
        result.image, result.image_id = image, packed.id
        for i, c in enumerate(result.comparisons, 1):
            say(f"run {i} sealed")
            c.sealed, c.missing = run_sealed(image, c.spec, wall_seconds)
        made: dict[str, int] = {}
        for c in result.comparisons:
            for call, count in c.missing.items():
                made[call] = made.get(call, 0) + count
        # Once more if the sealed runs made calls the native ones did not and the table answers them.
        if attempt == 2 or not add_sealed_only(plan, made):
            break
        say("the sealed runs made calls the native ones did not: answered from the table, packed again")
        _write(result, runs, program)
    return result


def _write(result: InitResult, runs: list[RunSpec], program: str) -> None:
    plan, manifest = result.plan, result.manifest
    profile = manifest.with_name(PROFILE_FILE)
    text = render_manifest(plan, [[program, *s.args] for s in runs])
    manifest.write_text(text)
    lines = len(text.splitlines())
    if plan.needs_profile:
        ptext = render_profile(plan)
        profile.write_text(ptext)
        lines += len(ptext.splitlines())
        result.profile = profile
    elif profile.exists():
        profile.unlink()  # --force: an old one would no longer be the manifest's
    result.generated_lines = lines


def report_text(result: InitResult, argv0: str) -> str:
    p = result.plan
    lines = [f"wrote {result.manifest}" + (f" and {result.profile}" if result.profile else "")
             + f" ({result.generated_lines} lines): {len(p.files) + len(p.plugins) + len(p.listed)} files and "
               f"directories, {len(p.plugins)} plugins (dlopen), {len(p.inputs)} sample inputs, {len(p.symlinks)} "
               f"symlinks, {len(p.left_out)} host paths left out, {len(p.ram)} RAM disks, {len(p.syscalls)} "
               f"profile entries"]
    if p.missing:
        lines.append("still missing (no fixed answer): " + ", ".join(f"{n} x{m.count}" for n, m in p.missing.items()))
    if p.children:
        lines.append("the program started other programs natively (a picoprocess cannot): " + ", ".join(p.children))
    if result.image:
        lines.append(f"packed {result.image} ({result.image_id})")
    for i, c in enumerate(result.comparisons, 1):
        if c.sealed is None:
            continue
        verdict = "identical" if c.identical else "differs"
        lines.append(f"run {i}: {verdict}: {c.spec.describe(argv0)}")
        if c.missing:
            lines.append("  missing sealed: " + ", ".join(f"{n} x{k}" for n, k in sorted(c.missing.items())))
        if not c.identical:
            lines += ["  " + line for line in c.diff().splitlines()]
    return "\n".join(lines)
