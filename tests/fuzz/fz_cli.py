"""Fuzz target `cli`: the xax-emu command line, parsed and checked, never running a program.

argv comes from the input: a command, then options (every option of the parser, with
values from a list of hostile ones or from the input) and operands.  Operands that
name something are chosen from a fixed list that can never start a program, fetch
anything or write a file (a missing path, a file that is not an ELF nor an image nor a
manifest, a directory), so each command stops at its own checks:
  run, trace, inspect, pack, syscalls   through cli.main, as a user would;
  serve                                 through the parser only (a valid one would serve).
Allowed: argparse's usage error (status 2), --help and --version (status 0), main's
status 2 with its error.  Checked: no traceback, nor any other status; main's error is
one line starting with "xax-emu: " (more only by the newlines the arguments carry, which
the CLI may quote as given); a usage error has its "xax-emu" line; nothing is written to
stdout on an error.
"""
from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import tempfile

from fuzzlib import Reader, check

from xax_emu import cli

NAME = "cli"
INSTRUMENT = ("xax_emu.cli", "xax_emu.launch.program", "xax_emu.monitor.origin")

_DIR = tempfile.mkdtemp(prefix="xax-fuzz-cli-")
atexit.register(shutil.rmtree, _DIR, True)
_TEXT = os.path.join(_DIR, "not-a-program")
with open(_TEXT, "w") as f:
    f.write("#!/bin/sh\necho this is never run\n")
OPERANDS = (os.path.join(_DIR, "missing"), _TEXT, _DIR, "", "-", "--", "a\nb", "x" * 5000,
            _TEXT + ":NAME", "nope.py:APP", "no-such-profile")
COMMANDS = ("run", "trace", "inspect", "pack", "syscalls", "serve", "help", "")
OPTIONS = ("--memory", "--cpu-seconds", "--wall-seconds", "--download-limit", "--threads", "--origin", "--env",
           "--profile", "--fs-image", "--no-cache", "--report", "--stats-json", "--json", "--suggest", "--output",
           "--all", "-o", "--listen", "--idle-seconds", "--max-instances", "--memory-budget", "--max-connections",
           "--request-timeout", "--app-timeout", "--version", "-h", "--nope", "-")
VALUES = ("0", "1", "-1", "256M", "1e999", "inf", "-inf", "nan", "99999999999999999999999", "99999999999T", "0x10",
          "1.5", "", " ", "json", "none", "A=1", "=x", "A", "http://127.0.0.1:8000", "http://127.0.0.1:8000/x",
          "ftp://x", "http://[::1", "127.0.0.1:0", "[::1]:8118", "host:99999", "4G", "1 K", "\0", "é")
MAIN = ("run", "trace", "inspect", "pack", "syscalls")


def _argv(r: Reader) -> list[str]:
    argv = [r.choose(COMMANDS)] if r.u8() % 8 else []
    for _ in range(r.u8() % 6):
        kind = r.u8() % 4
        if kind == 0:
            argv.append(r.choose(OPERANDS))
        elif kind == 1:
            argv.append(r.text(40))
        else:
            argv.append(r.choose(OPTIONS))
            argv.append(r.choose(VALUES) if r.u8() % 4 else r.text(40))
    return [a.replace("\0", "") for a in argv]


def one_input(data: bytes) -> None:
    r = Reader(data)
    argv = _argv(r)
    if r.u8() & 1:
        argv += ["--", *(r.text(20) for _ in range(r.u8() % 3))]
    through_main = bool(argv) and argv[0] in MAIN and "--version" not in argv and "-h" not in argv
    out, err = io.StringIO(), io.StringIO()
    status, usage_error = None, False
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if through_main:
                status = cli.main(argv)
            else:
                cli.build_parser().parse_args(argv[:argv.index("--")] if "--" in argv else argv)
                status = 0
        except SystemExit as e:
            status, usage_error = e.code, True
    text = err.getvalue()
    check("Traceback" not in text, f"a traceback for {argv!r}:\n{text}")
    if status == 0:
        return
    check(status == 2, f"status {status!r} for {argv!r}:\n{text}")
    check(out.getvalue() == "", f"stdout written on an error for {argv!r}")
    lines = text.rstrip("\n").split("\n")  # a terminal's lines: only "\n" ends one
    echoed = sum(arg.count("\n") for arg in argv)  # newlines the user's own arguments carry
    if usage_error:
        # argparse's usage lines (unless the CLI says it in one line), then its error line
        check(any(line.startswith("xax-emu") for line in lines),
              f"a usage error without its 'xax-emu' line for {argv!r}:\n{text}")
        return
    check(len(lines) <= 1 + echoed and lines[0].startswith("xax-emu: "),
          f"main's error is not one line starting with 'xax-emu: ' for {argv!r}:\n{text}")


def seeds() -> list[bytes]:
    return [bytes([1, 2, 3, 0, 1, 2, 0, 0]), bytes([1, 0, 2, 2, 0, 2, 1, 2, 4, 3, 1]), bytes([1, 5, 2, 2, 17, 1, 3])]
