"""The `init` and `explain` commands' parsers and bodies (xax_emu/cli.py adds them)."""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from ..errors import XaxError


class _RunAction(argparse.Action):
    """--run 'ARGS': one more run, its arguments as one shell-quoted string."""

    def __call__(self, parser, ns, values, option_string=None):
        try:
            args = shlex.split(values)
        except ValueError as e:
            raise argparse.ArgumentError(self, f"{values!r}: {e}") from None
        ns.runs = [*(getattr(ns, "runs", None) or []), {"args": args, "stdin": None}]


class _StdinAction(argparse.Action):
    """--stdin FILE: the stdin of the run named just before (or of the run after --)."""

    def __call__(self, parser, ns, values, option_string=None):
        runs = getattr(ns, "runs", None) or []
        if runs:
            runs[-1]["stdin"] = values
        else:
            ns.first_stdin = values


def add_init_parser(sub) -> None:
    p = sub.add_parser(
        "init", help="port a program: run it natively under strace, write manifest.toml (and profile.py), pack "
                     "it, and compare sealed runs with the native ones",
        usage="xax-emu init [-o DIR] [--stdin FILE] [--run ARGS [--stdin FILE]]... [--inputs FILE] "
              "-- PROGRAM [ARGS...]",
        description="Runs PROGRAM natively under strace once per run -- PROGRAM ARGS (stdin from --stdin), then "
                    "each --run 'ARGS' (shell-quoted, its own --stdin after it; `--run=-x` for one option), then "
                    "each [[run]] of --inputs (args = [...], stdin = FILE) -- in this directory, with the "
                    "environment the image gets (the native one less the host's own). With --run or --inputs "
                    "and no ARGS, PROGRAM alone is not a run. Writes DIR/manifest.toml and, when the base "
                    "profile is not enough, DIR/profile.py, packs DIR/NAME.tar, runs every run sealed and "
                    "reports each identical or different (with a diff). Exit status 0: all identical; 1: some "
                    "differ.")
    p.add_argument("-o", "--output", metavar="DIR", help="where to write (default: ./xax-NAME)")
    p.add_argument("--name", help="the app's name (default: the program's file name)")
    p.add_argument("--stdin", action=_StdinAction, metavar="FILE", help="stdin of the run before it")
    p.add_argument("--run", action=_RunAction, metavar="ARGS", help="another run of the program")
    p.add_argument("--inputs", metavar="FILE", help="a TOML file of runs: [[run]] args = [...], stdin = FILE")
    p.add_argument("--force", action="store_true", help="replace DIR's manifest.toml and profile.py")
    p.add_argument("--no-check", action="store_true", help="write the files only: no pack, no sealed runs")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                   help="most seconds for each native run, and each sealed run's wall-clock limit (default 120)")
    p.add_argument("--json", action="store_true", help="the report as JSON on stdout")


def add_explain_parser(sub) -> None:
    p = sub.add_parser("explain", help="which route serves a path in an image (or why it is absent); how a system "
                                       "call is answered and by which layer of its profile",
                       usage="xax-emu explain [--profile FILE.py:NAME] [--json] IMAGE PATH|SYSCALL...")
    p.add_argument("image", help="an image written by xax-emu pack")
    p.add_argument("what", nargs="+", metavar="PATH|SYSCALL",
                   help="an absolute path (a relative one is taken from the image's cwd), or a system call's name "
                        "or number")
    p.add_argument("--profile", help="the image's profile, where it is not beside the image (FILE.py:NAME)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise XaxError(f"{what} {path}: {e.strerror or e}") from None


def _runs(ns) -> list:
    import tomllib

    from .init import RunSpec

    program_args = ns.args[1:]
    extra = list(getattr(ns, "runs", None) or [])
    if ns.inputs:
        base = Path(ns.inputs).resolve().parent
        try:
            data = tomllib.loads(_read(ns.inputs, "--inputs").decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise XaxError(f"--inputs {ns.inputs}: not valid TOML: {e}") from None
        table = data.get("run")
        if not isinstance(table, list) or not table or set(data) != {"run"}:
            raise XaxError(f"--inputs {ns.inputs}: expected [[run]] tables (args = [...], stdin = FILE) and "
                           "nothing else")
        for i, run in enumerate(table):
            args, stdin = run.get("args", []), run.get("stdin")
            if (set(run) - {"args", "stdin"} or not isinstance(args, list)
                    or not all(isinstance(a, str) for a in args) or not (stdin is None or isinstance(stdin, str))):
                raise XaxError(f"--inputs {ns.inputs}: run[{i}] takes args (strings) and stdin (a file) only")
            extra.append({"args": args, "stdin": str(base / stdin) if stdin else None})
    runs = []
    if program_args or not extra:
        first = getattr(ns, "first_stdin", None)
        runs.append(RunSpec(program_args, _read(first, "--stdin") if first else b"", first))
    for r in extra:
        runs.append(RunSpec(r["args"], _read(r["stdin"], "--stdin") if r["stdin"] else b"", r["stdin"]))
    return runs


def cmd_init(ns) -> int:
    from .init import init, report_text

    if not ns.args:
        raise XaxError("init: name the program after --: xax-emu init [options] -- PROGRAM [ARGS...]")
    program = ns.args[0]
    runs = _runs(ns)
    name = ns.name or Path(program).name
    out = Path(ns.output or f"xax-{name}")
    quiet = ns.json
    result = init(program, runs, out, name=name, force=ns.force, check=not ns.no_check, timeout=ns.timeout,
                  wall_seconds=ns.timeout, progress=None if quiet else lambda t: print(f"xax-emu: init: {t}",
                                                                                      file=sys.stderr))
    if ns.json:
        print(json.dumps({
            "manifest": str(result.manifest), "profile": str(result.profile) if result.profile else None,
            "image": str(result.image) if result.image else None, "id": result.image_id,
            "generated_lines": result.generated_lines,
            "missing": {n: m.count for n, m in result.plan.missing.items()},
            "profile_entries": sorted(result.plan.syscalls),
            "runs": [{"args": c.spec.args, "stdin": c.spec.stdin_name,
                      "result": None if c.sealed is None else "identical" if c.identical else "differs",
                      "diff": None if c.sealed is None or c.identical else c.diff(),
                      "missing_sealed": c.missing} for c in result.comparisons],
        }, indent=1))
    else:
        print(report_text(result, program))
    return 0 if ns.no_check or result.all_identical else 1


def cmd_explain(ns) -> int:
    from ..image import ImageError
    from ..image.validate import validate
    from .explain import explain_path, explain_syscall, load_image_profile

    try:
        image = validate(ns.image)
    except ImageError as e:
        raise ImageError(f"{ns.image}: {e}") if ns.image not in str(e) else e from None
    profile = None
    out = []
    from ..syscalls import catalogue

    for what in ns.what:
        if "/" in what or not (what in catalogue.names() or what.isdigit()):
            out.append(explain_path(image, what))  # a relative path is the image's cwd's
        else:
            if profile is None:
                profile = load_image_profile(image.meta, Path(ns.image), ns.profile)
            out.append(explain_syscall(profile, what))
    if ns.json:
        print(json.dumps([e.as_dict() for e in out], indent=1))
    else:
        print("\n".join(e.text() for e in out))
    return 0
