"""The xax-emu command line.

Each command imports what it uses when it runs: `run` is on the path of every
sealed program's start, and must not pay for the packer (libarchive,
pyelftools), the profile compiler or the trace report.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .console import OutputError, emit, ensure_std_fds, error_line, one_line, open_output, quiet_exit, write_file
from .errors import ProgramError, SealError, XaxError
from .launch.defaults import WALL_DEFAULT_NOTE, default_wall_seconds
from .profiles import DEFAULT

def _env_pair(text: str) -> str:
    if "=" not in text or text.startswith("="):
        raise argparse.ArgumentTypeError(f"--env takes NAME=VALUE, not {text!r}")
    return text


def _limit(key: str):
    """The argparse type of the limit `key`: parsed and checked by limits.py, the one
    validation the manifest and the image's metadata use too."""
    from .limits import LimitError, from_text

    def parse(text: str):
        if key == "wall_seconds" and text.strip() in ("0", "0.0"):
            return 0.0  # the command line's "none" (lifts run's default); a manifest or image cannot say it
        try:
            return from_text(key, text)
        except LimitError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    parse.__name__ = key  # argparse names the type in some messages
    return parse


def _add_limits(sp: argparse.ArgumentParser) -> None:
    # Defaults are None: an image's own [limits] apply unless the command line sets one.
    # The ranges are limits.py's (`xax-emu run --help` shows them).
    from .limits import RANGES

    helps = {
        "memory": "address-space limit of the picoprocess, e.g. 256M (default: the image's, else 4G)",
        "cpu_seconds": "CPU-time limit, whole seconds (default: the image's, else none)",
        "wall_seconds": "wall-clock limit in seconds; 0: none (default: the image's, else 600)",
        "download": "largest download or upload through the origin, e.g. 64M (default: the image's, else 256M)",
        "threads": "most threads at once, the first included; 1: the program cannot start any "
                   "(default: the image's, else 64)",
        "processes": "most processes of the family at once, the entry program included; 1: the program "
                     "cannot fork (default: the image's, else 1; docs/processes.md)",
    }
    for key, r in RANGES.items():
        sp.add_argument(r.option, dest=key, type=_limit(key), metavar="SIZE" if r.kind == "size" else r.unit.upper(),
                        help=f"{helps[key]}; {r.bounds()}".replace("%", "%%"))


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, like every other error of the command (argparse's own
    print the usage first); help and version through emit(), so a full or closed
    stdout is an error too.  Subcommands' parsers are of this class as well."""

    def error(self, message: str):
        command = self.prog.removeprefix("xax-emu").strip()
        error_line(f"{command + ': ' if command else ''}{message} (see {self.prog} --help)")
        raise SystemExit(2)

    def _print_message(self, message: str, file=None) -> None:
        if message:
            emit(message.rstrip("\n"), file or sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="xax-emu", description="Run legacy native programs in a sealed picoprocess.")
    ap.add_argument("--version", action="version", version=f"xax-emu {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an app image or a static x86-64 program sealed; the exit status is "
                                     "the program's",
                         usage="xax-emu run [options] PROGRAM [-- ARGS...]")
    run.add_argument("program", help="an app image (xax-emu pack) or a static ELF: a local file, or its http(s) "
                                     "URL (which becomes the origin)")
    run.add_argument("--origin", help="the origin a local program may fetch from (default: no network)")
    run.add_argument("--env", action="append", type=_env_pair, default=[], metavar="NAME=VALUE",
                     help="an environment variable for the program (the Monitor's own are not passed)")
    run.add_argument("--profile",
                     help=f"a bare program's emulation profile: a shipped one by name, or FILE.py:NAME "
                          f"(default {DEFAULT}; an image carries its own)")
    run.add_argument("--fs-image", metavar="TAR",
                     help="a tar whose files the profile's Tar routes show (`pack` puts them in the app's image)")
    run.add_argument("--mount", action="append", default=[], metavar="HOST:GUEST[:ro|rw]",
                     help="grant the program the host directory HOST at GUEST, read-only unless :rw (an image "
                          "takes it only at a mount point its manifest declares); it never leaves HOST "
                          "(docs/mounts.md)")
    run.add_argument("--export-ram", metavar="DIR",
                     help="when the program exits, copy its RAM disks (files, directories, symlinks, modes) "
                          "into DIR, which must be absent or empty")
    from .limits import SETTINGS, size_text
    from .monitor.fetch import HttpCache

    run.add_argument("--cache-size", type=_limit("cache_size"), metavar="SIZE",
                     help=f"most bytes the HTTP cache keeps on disk; the least recently used entries not in use "
                          f"go first (default {size_text(HttpCache.DEFAULT_MAX)}; {SETTINGS['cache_size'].bounds()})")
    run.add_argument("--no-cache", action="store_true",
                     help="do not use the HTTP cache, the image store, nor the record of images already "
                          "validated (a local image is then copied into a sealed memfd and checked member by member)")
    run.add_argument("--connection", action="append", default=[], metavar="FILE",
                     help="hand the program FILE's bytes as a connection from outside (as serve hands it a "
                          "browser's: ACCEPT, or accept(2) on its first listening socket), read the answer to its "
                          "end; repeatable, one after the other; then end it (for trace: a server serving)")
    run.add_argument("--answers", metavar="FILE", help="with --connection: write the answers there, in order")
    run.add_argument("--no-rewrite", action="store_true",
                     help="every emulated system call traps (SIGSYS), as before call sites were rewritten into "
                          "direct calls of the layer at their first trap (docs/rewrite.md); for comparison")
    run.add_argument("--report", choices=("none", "json"), default="none",
                     help="after the run, print a report of the picoprocess on stderr")
    run.add_argument("--stats-json", metavar="FILE",
                     help="after the run, write the Monitor's timings (spawn to exit) and xaxcall counts to FILE")
    _add_limits(run)
    trace = sub.add_parser("trace", parents=[], help="run, and print what the program asked of the OS: "
                                                      "reached the kernel, emulated, rejected, forwarded, missing",
                           usage="xax-emu trace [options] PROGRAM [-- ARGS...]",
                           description="Run the program as `run` does and print the article's porting accounting "
                                       "of its system calls, each counted in one class: reached the kernel (on the "
                                       "seccomp allowlist, counted by a second seccomp filter that notifies the "
                                       "Monitor and lets each call continue), emulated by the layer (and how many "
                                       "of those answered an error), rejected, forwarded to the Monitor, missing "
                                       "(-ENOSYS); then the runtime's own kernel calls and the xaxcalls, and the "
                                       "count per system call.")
    for action in run._actions[1:]:  # the same options as run
        trace._add_action(action)
    trace.add_argument("--json", action="store_true", help="machine-readable accounting")
    trace.add_argument("--suggest", metavar="FILE",
                       help="write a profile file extending the program's profile, with an answer for each missing "
                            "call (xax_emu/syscalls/answers.py); '-': after the accounting")
    trace.add_argument("--output", metavar="FILE", help="write the accounting here instead of stderr")
    sc = sub.add_parser("syscalls", help="the compiled syscall table of a profile, as a compatibility report")
    sc.add_argument("profile", help="a shipped profile by name, or FILE.py:NAME")
    sc.add_argument("--json", action="store_true", help="machine-readable output")
    sc.add_argument("--all", action="store_true", help="list the missing syscalls too (text output)")
    pk = sub.add_parser("pack", help="build an image from a manifest; prints the image id (its sha256)")
    pk.add_argument("manifest", help="the app's manifest (TOML)")
    pk.add_argument("-o", "--output", help="the image to write (default: NAME.tar, NAME from the manifest)")
    pk.add_argument("--json", action="store_true", help='print {"id", "path", "files", "bytes"}')
    sv = sub.add_parser("serve", help="the Monitor as the browser's proxy (or a gateway for one origin): apps "
                                      "launched from their pages appear as their origin's web server",
                        description="Serve browsers (docs/serve.md).  As a forward proxy (the default), the browser "
                                    "uses --listen as its HTTP proxy; with --origin, --listen is a gateway that "
                                    "serves that origin's files and apps under its own address.  GET IMAGE?xax "
                                    "launches an app and redirects to its namespace /.xax/ID/.")
    sv.add_argument("--listen", default="127.0.0.1:8118", metavar="HOST:PORT",
                    help="where to listen (default 127.0.0.1:8118; a non-loopback address is served with a warning)")
    sv.add_argument("--origin", help="be a gateway for this origin (http:// or https://) instead of a forward proxy")
    sv.add_argument("--idle-seconds", type=_limit("idle_seconds"), default=60.0, metavar="SECONDS",
                    help="end an instance no page has held for this long (default 60)")
    sv.add_argument("--max-instances", type=_limit("max_instances"), default=64, metavar="N",
                    help="instances at once (default 64)")
    sv.add_argument("--memory-budget", type=_limit("memory_budget"), default=64 << 30, metavar="SIZE",
                    help="the sum of the running picoprocesses' memory limits (default 64G)")
    sv.add_argument("--max-connections", type=_limit("max_connections"), default=512, metavar="N",
                    help="browser connections at once (default 512)")
    sv.add_argument("--download-limit", type=_limit("download"), default=256 << 20, metavar="SIZE",
                    help="the largest image a launch fetches (default 256M)")
    sv.add_argument("--request-timeout", type=_limit("request_timeout"), default=10.0, metavar="SECONDS",
                    help="seconds a browser has to send a whole request head, else 408 (default 10)")
    sv.add_argument("--app-timeout", type=_limit("app_timeout"), default=60.0, metavar="SECONDS",
                    help="seconds an app has to start its response, else 504 (default 60)")
    sv.add_argument("--cache-size", type=_limit("cache_size"), metavar="SIZE",
                    help=f"most bytes the HTTP cache keeps on disk (default {size_text(HttpCache.DEFAULT_MAX)})")
    sv.add_argument("--no-cache", action="store_true", help="do not use the HTTP cache nor the record of validated "
                                                            "images")
    from .porting.cli import add_explain_parser, add_init_parser
    add_init_parser(sub)
    add_explain_parser(sub)
    ins = sub.add_parser("inspect", help="what is inside an image (checked first)")
    ins.add_argument("image", help="an image written by xax-emu pack")
    ins.add_argument("--json", action="store_true", help="machine-readable output")
    return ap


def _read_fs_image(path: str | None) -> bytes | None:
    if path is None:
        return None
    from .hostfile import read_regular
    from .launch.program import MAX_PROGRAM

    try:
        return read_regular(path, MAX_PROGRAM)
    except OSError as e:
        raise ProgramError(f"--fs-image {path}: cannot read it: {e.strerror or e}", path) from None
    except ValueError:
        raise ProgramError(f"--fs-image {path!r}: not a file name (it contains NUL)", path) from None


def _open_stats(path: str | None):
    return None if path is None else open_output(path, "--stats-json")


def _write_stats(f, path: str, stats: dict) -> None:
    try:
        with f:
            f.write(json.dumps(stats, indent=1) + "\n")
    except OSError as e:
        raise OutputError(f"--stats-json {path}: {e.strerror or e}") from None


def _run(ns: argparse.Namespace, trace_all: bool = False, trace_paths: bool | None = None):
    """Run what the user named, sealed, with stdio relayed; returns the report and the picoprocess."""
    from .launch.program import resolve as resolve_program
    from .launch.request import Request, start_kwargs
    from .launch.store import ImageStore
    from .launch.validated import ValidatedImages
    from .monitor import Monitor, Stdio, parse_origin
    from .monitor.fetch import HttpCache

    origin = parse_origin(ns.origin) if ns.origin else None
    cache = None if ns.no_cache else HttpCache(HttpCache.default_directory(),
                                               ns.cache_size or HttpCache.DEFAULT_MAX)
    validated = None if ns.no_cache else ValidatedImages(ValidatedImages.default_directory())
    store = None if ns.no_cache else ImageStore(ImageStore.default_directory(),
                                                notice=lambda line: emit(f"xax-emu: {one_line(line)}", sys.stderr))
    program = resolve_program(ns.program, origin, cache, validated=validated, store=store,
                              **({"download_limit": ns.download} if ns.download else {}))
    if program.is_image and (ns.profile is not None or ns.fs_image is not None):
        raise ProgramError(f"{ns.program}: an image carries its own profile and files: "
                           "--profile and --fs-image are for bare programs", ns.program)
    ns.program_meta = program.meta  # trace --suggest extends the image's profile
    wall, by_default = default_wall_seconds(ns.wall_seconds, program.meta)
    limits = {k: getattr(ns, k) for k in ("memory", "cpu_seconds", "download", "threads", "processes")}
    limits["wall_seconds"] = None if wall == 0 else wall  # 0: none, set below (the image's would apply)
    request = Request(program, ns.args, ns.env, ns.profile, limits, _read_fs_image(ns.fs_image))
    kwargs = start_kwargs(request)
    grants = _grants(ns, program)
    ns.grants = grants  # the failed paths' routes include them
    stats_file = _open_stats(ns.stats_json)  # before the run: a path that cannot be written fails now
    connections = None
    if ns.connection:
        from .launch.connections import Connections, read_connections
        connections = Connections(read_connections(ns.connection))
    if wall == 0:  # --wall-seconds 0: no wall-clock limit at all, the image's included
        from dataclasses import replace
        kwargs["limits"] = replace(kwargs["limits"], wall_seconds=0.0)
    export = _export_ram(ns, kwargs["limits"].download)
    try:
        with _Mounted(grants, kwargs["limits"].download) as mounts, Monitor(cache=cache) as monitor:
            pico = monitor.start(**kwargs, trace_all=trace_all, trace_paths=trace_paths, mounts=mounts,
                                 export_ram=export,
                                 accepts=connections is not None, rewrite=not ns.no_rewrite,
                                 stdio=Stdio(stdout=1, stderr=2, stdin_fd=0, stdin_bytes=None))
            if connections is not None:
                connections.start(monitor, pico,
                                  lambda n: pico.kill(f"its {n} connection{'s' * (n != 1)} were answered"))
            (report,) = monitor.run_until_done([pico])
        if connections is not None and ns.answers:
            try:
                Path(ns.answers).write_bytes(b"".join(connections.answers))
            except OSError as e:
                raise XaxError(f"--answers {ns.answers}: {e.strerror}") from None
        if stats_file is not None:
            _write_stats(stats_file, ns.stats_json, pico.stats())
        if report.boot_error:
            raise SealError(report.boot_error)
        if report.reason:
            note = WALL_DEFAULT_NOTE if by_default and report.signal and report.reason.startswith("wall-clock") else ""
            emit(f"xax-emu: {one_line(report.reason)}{note}", sys.stderr)
        if export is not None:
            from .monitor.exportram import extract
            extract(export, ns.export_ram)
    finally:
        if export is not None:
            export.close()
    return report, pico


def _grants(ns: argparse.Namespace, program) -> list:
    """--mount's grants, checked against what runs (launch/grants.py)."""
    if not ns.mount:
        return []
    from .launch.grants import check_for
    from .monitor.mounts import parse_grant

    grants = [parse_grant(text) for text in ns.mount]
    check_for(program, grants, ns.profile)
    return grants


class _Mounted:
    """The granted directories opened for the run (monitor/mounts.py), or None without grants."""

    def __init__(self, grants: list, limit: int):
        self.grants, self.limit, self.mounts = grants, limit, None

    def __enter__(self):
        if self.grants:
            from .monitor.mounts import Mounts
            self.mounts = Mounts(self.grants, self.limit)
        return self.mounts

    def __exit__(self, *exc) -> None:
        if self.mounts is not None:
            self.mounts.close()


def _export_ram(ns: argparse.Namespace, limit: int):
    """--export-ram's collector, its directory checked now (absent or empty)."""
    if ns.export_ram is None:
        return None
    from .monitor.exportram import RamExport, check_target

    check_target(ns.export_ram)
    return RamExport(limit)


def _failed_paths(ns: argparse.Namespace, report):
    """The run's failed paths as trace_paths.summary gives them, with the routes they fell under."""
    from .trace_paths import routes_for, summary

    if report.failed_paths is None:
        return None, [], False
    routes, image = routes_for(ns.program_meta, ns.profile, ns.grants)
    return summary(report.failed_paths, routes, image), routes, image


def cmd_run(ns: argparse.Namespace) -> int:
    report, _ = _run(ns, trace_paths=ns.report == "json")
    if ns.report == "json" or report.missing:
        from .trace_report import missing_by_name  # the syscall catalogue: only when there are names to give
    if ns.report == "json":
        emit(json.dumps({
            "exit_code": report.exit_code, "signal": report.signal, "reason": report.reason,
            "cpu_seconds": report.cpu_seconds, "wall_seconds": report.wall_seconds,
            "missing_syscalls": missing_by_name(report.missing),
            "failed_paths": _failed_paths(ns, report)[0],
        }, allow_nan=False), sys.stderr)
    elif report.missing:
        calls = missing_by_name(report.missing)
        emit(f"xax-emu: {sum(calls.values())} system call(s) no profile handles were answered -ENOSYS: "
             + ", ".join(f"{n} x{c}" for n, c in calls.items())
             + " (xax-emu trace --suggest FILE proposes answers)", sys.stderr)
    return report.exit_code


def cmd_trace(ns: argparse.Namespace) -> int:
    """The program runs as with `run` (its stdout is its own); the accounting goes to
    stderr, or to --output."""
    from .trace_paths import render as render_paths
    from .trace_paths import suggest_files
    from .trace_report import accounting, render, suggest

    report, _ = _run(ns, trace_all=True)
    acc = accounting(report)
    acc["exit_code"] = report.exit_code
    acc["failed_paths"], routes, image = _failed_paths(ns, report)
    text = json.dumps(acc, indent=1, allow_nan=False) if ns.json else "\n".join([render(acc),
                                                                                *render_paths(acc["failed_paths"])])
    if ns.suggest:
        files = suggest_files(report.failed_paths, routes, image)
        suggestion = suggest(acc, _suggest_base(ns)) + "".join(line + "\n" for line in files)
        if ns.suggest == "-":
            text += "\n" + suggestion
        else:
            _write_suggestion(ns.suggest, suggestion)
    if ns.output:
        write_file(ns.output, text + "\n", "--output")
    else:
        emit(text, sys.stderr)
    return report.exit_code


def _suggest_base(ns: argparse.Namespace) -> str:
    """The profile a suggestion extends: the image's own, or the bare program's --profile."""
    meta = ns.program_meta
    return meta["profile"]["spec"] if meta else (ns.profile or DEFAULT)


def _write_suggestion(path: str, text: str) -> None:
    write_file(path, text, "--suggest")
    emit(f"xax-emu: wrote {path}", sys.stderr)


def cmd_syscalls(ns: argparse.Namespace) -> int:
    from collections import Counter

    from .profiles import load
    from .syscalls.compiler import table
    from .syscalls.profile import resolve

    profile = load(ns.profile)
    rows = table(resolve(profile))
    if ns.json:
        emit(json.dumps({
            "profile": profile.name,
            "syscalls": [{"nr": r.nr, "name": r.name, "disposition": r.kind, "detail": r.disposition.describe(),
                          "note": r.disposition.note, "from": r.source} for r in rows],
        }, indent=1))
        return 0
    counts = Counter(r.kind for r in rows)
    lines = [f"profile {profile.name}: {len(rows)} x86-64 system calls: "
             + ", ".join(f"{counts[k]} {k}" for k in ("emulate", "reject", "forward", "missing"))]
    for r in rows:
        if r.kind == "missing" and not ns.all:
            continue
        note = f"  — {r.disposition.note}" if r.disposition.note else ""
        lines.append(f"{r.nr:4d} {r.name:<24} {r.disposition.describe()}{note}")
    emit("\n".join(lines))
    return 0


def cmd_pack(ns: argparse.Namespace) -> int:
    from .image import load_manifest, pack_image

    manifest = load_manifest(ns.manifest)
    out = ns.output or f"{manifest.name}.tar"
    step = {"bytes": 0, "files": 0}

    def progress(p) -> None:  # on large images only: every 32 MiB or 1000 files, and at the end
        if p.bytes_total < 32 << 20 and p.files_total < 1000:
            return
        last = p.files_done == p.files_total
        if last or p.bytes_done - step["bytes"] >= 32 << 20 or p.files_done - step["files"] >= 1000:
            step.update(bytes=p.bytes_done, files=p.files_done)
            emit(f"xax-emu: pack: {'hashing' if p.phase == 'hash' else 'writing'} {p.files_done}/{p.files_total} "
                 f"files, {p.bytes_done >> 20}/{p.bytes_total >> 20} MiB", sys.stderr)
            if last:
                step.update(bytes=0, files=0)

    result = pack_image(ns.manifest, out, progress)
    if ns.json:
        emit(json.dumps({"id": result.id, "path": result.path, "files": result.files, "bytes": result.bytes}))
    else:
        emit(f"xax-emu: wrote {result.path}: {result.files} files, {result.bytes} bytes", sys.stderr)
        emit(result.id)
    return 0


def cmd_serve(ns: argparse.Namespace) -> int:
    from .launch.validated import ValidatedImages
    from .monitor import parse_origin
    from .monitor.fetch import HttpCache
    from .serve.instances import Budget
    from .serve.server import ServeConfig, Server, install_signal_handlers, is_loopback, parse_listen

    try:
        host, port = parse_listen(ns.listen)
    except ValueError as e:
        raise XaxError(str(e)) from None
    # --idle-seconds and the other numbers are checked by limits.py as they are parsed
    gateway = parse_origin(ns.origin) if ns.origin else None
    config = ServeConfig(
        host=host, port=port, gateway=gateway,
        budget=Budget(max_instances=ns.max_instances, memory=ns.memory_budget, idle_seconds=ns.idle_seconds),
        cache=None if ns.no_cache else HttpCache(HttpCache.default_directory(), ns.cache_size or HttpCache.DEFAULT_MAX),
        validated=None if ns.no_cache else ValidatedImages(ValidatedImages.default_directory()),
        download_limit=ns.download_limit, max_connections=ns.max_connections,
        request_timeout=ns.request_timeout, app_timeout=ns.app_timeout)
    server = Server(config)
    try:
        bound_host, bound_port = server.bind()
    except OSError as e:
        raise XaxError(f"--listen {ns.listen}: {e.strerror or e}") from None
    if not is_loopback(host):
        server.log(f"warning: listening on {host}, not loopback: anyone who can reach it can start picoprocesses")
    where = f"[{bound_host}]:{bound_port}" if ":" in bound_host else f"{bound_host}:{bound_port}"
    if gateway is not None:
        server.log(f"gateway for {gateway} on http://{where}/ (GET http://{where}/PATH/app.tar?xax launches an app)")
    else:
        server.log(f"forward proxy on {where}: set it as the browser's HTTP proxy "
                   f"(then GET http://ORIGIN/PATH/app.tar?xax launches an app)")
    install_signal_handlers(server)
    server.serve_forever()
    return 0


def cmd_inspect(ns: argparse.Namespace) -> int:
    from .image import ImageError, describe, inspect

    try:
        info = inspect(ns.image)
    except ImageError as e:
        if str(e).startswith(f"{ns.image}:") or ns.image in str(e):
            raise
        raise ImageError(f"{ns.image}: {e}") from None
    emit(json.dumps(info, indent=1, allow_nan=False) if ns.json else describe(info))
    return 0


def cmd_init(ns: argparse.Namespace) -> int:
    from .porting.cli import cmd_init as init
    return init(ns)


def cmd_explain(ns: argparse.Namespace) -> int:
    from .porting.cli import cmd_explain as explain
    return explain(ns)


COMMANDS = {"run": cmd_run, "trace": cmd_trace, "syscalls": cmd_syscalls, "pack": cmd_pack, "inspect": cmd_inspect,
            "serve": cmd_serve, "init": cmd_init, "explain": cmd_explain}


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" belongs to the program, options included.
    program_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ns = build_parser().parse_args(argv)
    ns.args = program_args
    return COMMANDS[ns.command](ns)


def main(argv: list[str] | None = None) -> int:
    """The command; every failure ends in one line on stderr and a status, never a traceback."""
    ensure_std_fds()
    try:
        return _main(argv)
    except XaxError as e:
        error_line(str(e))
        if isinstance(e, OutputError):
            quiet_exit()
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other tools do
        quiet_exit()
        return 141
    except Exception as e:  # a bug, not the user's input: still one line (XAX_EMU_TRACEBACK=1 shows it)
        if os.environ.get("XAX_EMU_TRACEBACK"):
            raise
        error_line(f"internal error: {type(e).__name__}: {e} (XAX_EMU_TRACEBACK=1 shows where)")
        return 70  # EX_SOFTWARE


if __name__ == "__main__":
    sys.exit(main())
