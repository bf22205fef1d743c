"""The xax-emu command line.

Each command imports what it uses when it runs: `run` is on the path of every
sealed program's start, and must not pay for the packer (libarchive,
pyelftools), the profile compiler or the trace report.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from . import __version__
from .errors import ProgramError, SealError, XaxError
from .profiles import DEFAULT

_SIZE = re.compile(r"^(\d+)([KMGT]?)i?B?$", re.IGNORECASE)


def parse_size(text: str) -> int:
    m = _SIZE.match(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 512M, 2G)")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2).upper()]


def _env_pair(text: str) -> str:
    if "=" not in text or text.startswith("="):
        raise argparse.ArgumentTypeError(f"--env takes NAME=VALUE, not {text!r}")
    return text


def _thread_count(text: str) -> int:
    from .image.format import MAX_THREADS
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of threads") from None
    if not 1 <= n <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"the thread limit must be from 1 to {MAX_THREADS}, not {n}")
    return n


def _add_limits(sp: argparse.ArgumentParser) -> None:
    # Defaults are None: an image's own [limits] apply unless the command line sets one.
    sp.add_argument("--memory", type=parse_size,
                    help="address-space limit of the picoprocess (default: the image's, else 4G)")
    sp.add_argument("--cpu-seconds", type=int, help="CPU-time limit (default: the image's, else none)")
    sp.add_argument("--wall-seconds", type=float, help="wall-clock limit (default: the image's, else none)")
    sp.add_argument("--download-limit", type=parse_size,
                    help="largest download or upload through the origin (default: the image's, else 256M)")
    sp.add_argument("--threads", type=_thread_count,
                    help="most threads at once, the first included; 1: the program cannot start any "
                         "(default: the image's, else 64)")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="xax-emu", description="Run legacy native programs in a sealed picoprocess.")
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
    run.add_argument("--no-cache", action="store_true",
                     help="do not use the HTTP cache, nor the record of images already validated (an image is "
                          "then checked member by member)")
    run.add_argument("--connection", action="append", default=[], metavar="FILE",
                     help="hand the program FILE's bytes as a connection from outside (as serve hands it a "
                          "browser's: ACCEPT, or accept(2) on its first listening socket), read the answer to its "
                          "end; repeatable, one after the other; then end it (for trace: a server serving)")
    run.add_argument("--answers", metavar="FILE", help="with --connection: write the answers there, in order")
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
    trace.add_argument("--suggest", action="store_true", help="print profile lines for the missing system calls")
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
    sv.add_argument("--idle-seconds", type=float, default=60.0,
                    help="end an instance no page has held for this long (default 60)")
    sv.add_argument("--max-instances", type=int, default=64, help="instances at once (default 64)")
    sv.add_argument("--memory-budget", type=parse_size, default=64 << 30,
                    help="the sum of the running picoprocesses' memory limits (default 64G)")
    sv.add_argument("--max-connections", type=int, default=512, help="browser connections at once (default 512)")
    sv.add_argument("--download-limit", type=parse_size, default=256 << 20,
                    help="the largest image a launch fetches (default 256M)")
    sv.add_argument("--request-timeout", type=float, default=10.0,
                    help="seconds a browser has to send a whole request head, else 408 (default 10)")
    sv.add_argument("--app-timeout", type=float, default=60.0,
                    help="seconds an app has to start its response, else 504 (default 60)")
    sv.add_argument("--no-cache", action="store_true", help="do not use the HTTP cache nor the record of validated "
                                                            "images")
    ins = sub.add_parser("inspect", help="what is inside an image (checked first)")
    ins.add_argument("image", help="an image written by xax-emu pack")
    ins.add_argument("--json", action="store_true", help="machine-readable output")
    return ap


def _read_fs_image(path: str | None) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise ProgramError(f"{path}: cannot read the filesystem image: {e.strerror}", path) from None


def _open_stats(path: str | None):
    if path is None:
        return None
    try:
        return open(path, "w")
    except OSError as e:
        raise XaxError(f"--stats-json {path}: {e.strerror}") from None


def _run(ns: argparse.Namespace, trace_all: bool = False):
    """Run what the user named, sealed, with stdio relayed; returns the report and the picoprocess."""
    from .launch.program import resolve as resolve_program
    from .launch.request import Request, start_kwargs
    from .launch.validated import ValidatedImages
    from .monitor import Monitor, Stdio, parse_origin
    from .monitor.fetch import HttpCache

    origin = parse_origin(ns.origin) if ns.origin else None
    cache = None if ns.no_cache else HttpCache(HttpCache.default_directory())
    validated = None if ns.no_cache else ValidatedImages(ValidatedImages.default_directory())
    program = resolve_program(ns.program, origin, cache, validated=validated,
                              **({"download_limit": ns.download_limit} if ns.download_limit else {}))
    if program.is_image and (ns.profile is not None or ns.fs_image is not None):
        raise ProgramError(f"{ns.program}: an image carries its own profile and files: "
                           "--profile and --fs-image are for bare programs", ns.program)
    limits = {"memory": ns.memory, "cpu_seconds": ns.cpu_seconds, "wall_seconds": ns.wall_seconds,
              "download": ns.download_limit, "threads": ns.threads}
    request = Request(program, ns.args, ns.env, ns.profile, limits, _read_fs_image(ns.fs_image))
    stats_file = _open_stats(ns.stats_json)  # before the run: a path that cannot be written fails now
    connections = None
    if ns.connection:
        from .launch.connections import Connections, read_connections
        connections = Connections(read_connections(ns.connection))
    with Monitor(cache=cache) as monitor:
        pico = monitor.start(**start_kwargs(request), trace_all=trace_all, accepts=connections is not None,
                             stdio=Stdio(stdout=1, stderr=2, stdin_fd=0, stdin_bytes=None))
        if connections is not None:
            connections.start(monitor, pico, lambda n: pico.kill(f"its {n} connection{'s' * (n != 1)} were answered"))
        (report,) = monitor.run_until_done([pico])
    if connections is not None and ns.answers:
        try:
            Path(ns.answers).write_bytes(b"".join(connections.answers))
        except OSError as e:
            raise XaxError(f"--answers {ns.answers}: {e.strerror}") from None
    if stats_file is not None:
        with stats_file:
            stats_file.write(json.dumps(pico.stats(), indent=1) + "\n")
    if report.boot_error:
        raise SealError(report.boot_error)
    if report.reason:
        print(f"xax-emu: {report.reason}", file=sys.stderr)
    return report, pico


def cmd_run(ns: argparse.Namespace) -> int:
    report, _ = _run(ns)
    if ns.report == "json":
        print(json.dumps({
            "exit_code": report.exit_code, "signal": report.signal, "reason": report.reason,
            "cpu_seconds": report.cpu_seconds, "wall_seconds": report.wall_seconds,
            "missing_syscalls": {str(k): v for k, v in sorted(report.missing.items())},
        }), file=sys.stderr)
    return report.exit_code


def cmd_trace(ns: argparse.Namespace) -> int:
    """The program runs as with `run` (its stdout is its own); the accounting goes to
    stderr, or to --output."""
    from .trace_report import accounting, render, suggest

    report, _ = _run(ns, trace_all=True)
    acc = accounting(report)
    acc["exit_code"] = report.exit_code
    text = json.dumps(acc, indent=1) if ns.json else render(acc)
    if ns.suggest:
        text += "\n" + suggest(acc)
    if ns.output:
        Path(ns.output).write_text(text + "\n")
    else:
        print(text, file=sys.stderr)
    return report.exit_code


def cmd_syscalls(ns: argparse.Namespace) -> int:
    from collections import Counter

    from .profiles import load
    from .syscalls.compiler import table
    from .syscalls.profile import resolve

    profile = load(ns.profile)
    rows = table(resolve(profile))
    if ns.json:
        print(json.dumps({
            "profile": profile.name,
            "syscalls": [{"nr": r.nr, "name": r.name, "disposition": r.kind, "detail": r.disposition.describe(),
                          "note": r.disposition.note, "from": r.source} for r in rows],
        }, indent=1))
        return 0
    counts = Counter(r.kind for r in rows)
    print(f"profile {profile.name}: {len(rows)} x86-64 system calls: "
          + ", ".join(f"{counts[k]} {k}" for k in ("emulate", "reject", "forward", "missing")))
    for r in rows:
        if r.kind == "missing" and not ns.all:
            continue
        note = f"  — {r.disposition.note}" if r.disposition.note else ""
        print(f"{r.nr:4d} {r.name:<24} {r.disposition.describe()}{note}")
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
            print(f"xax-emu: pack: {'hashing' if p.phase == 'hash' else 'writing'} {p.files_done}/{p.files_total} "
                  f"files, {p.bytes_done >> 20}/{p.bytes_total >> 20} MiB", file=sys.stderr)
            if last:
                step.update(bytes=0, files=0)

    result = pack_image(ns.manifest, out, progress)
    if ns.json:
        print(json.dumps({"id": result.id, "path": result.path, "files": result.files, "bytes": result.bytes}))
    else:
        print(f"xax-emu: wrote {result.path}: {result.files} files, {result.bytes} bytes", file=sys.stderr)
        print(result.id)
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
    for name in ("idle_seconds", "max_instances", "max_connections", "request_timeout", "app_timeout"):
        value = getattr(ns, name)
        if not (0 < value < 1e9) or value != value:
            raise XaxError(f"--{name.replace('_', '-')} must be a positive number, not {value}")
    gateway = parse_origin(ns.origin) if ns.origin else None
    config = ServeConfig(
        host=host, port=port, gateway=gateway,
        budget=Budget(max_instances=ns.max_instances, memory=ns.memory_budget, idle_seconds=ns.idle_seconds),
        cache=None if ns.no_cache else HttpCache(HttpCache.default_directory()),
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
    print(json.dumps(info, indent=1) if ns.json else describe(info))
    return 0


def _ensure_std_fds() -> None:
    """A closed stdin, stdout or stderr would be reused by the Monitor's own fds (its
    channel, a pidfd) and then read or written as if it were the program's stdio:
    put /dev/null there first, as daemons do."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one


def main(argv: list[str] | None = None) -> int:
    _ensure_std_fds()
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" belongs to the program, options included.
    program_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ns = build_parser().parse_args(argv)
    ns.args = program_args
    try:
        return {"run": cmd_run, "trace": cmd_trace, "syscalls": cmd_syscalls, "pack": cmd_pack,
                "inspect": cmd_inspect, "serve": cmd_serve}[ns.command](ns)
    except XaxError as e:
        print(f"xax-emu: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
