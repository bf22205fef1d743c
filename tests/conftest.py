"""Shared fixtures: building small C programs, and running them in a picoprocess.

`build(source, libc="musl"|"glibc", extra=[...])` compiles a program under
tests/ statically (cached per session) and returns its path.
`run_pico(program, args=..., stdin=b"", ...)` runs it under a fresh Monitor and
returns a Result with the report and the bytes written to stdout and stderr.
"""
from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from xax_emu import runtime
from xax_emu.monitor import ExitReport, Limits, Monitor, Stdio
from xax_emu.monitor.fetch import HttpCache
from xax_emu.launch.request import Request, start_kwargs
from xax_emu.launch.program import resolve

TESTS = Path(__file__).resolve().parent
# the browser tests' fixtures (nginx, chromium under Playwright), defined once for the session
pytest_plugins = ["browser_support"]
def load_tool(name: str):
    """A generator of tools/ as a module (tests call its render and check functions)."""
    spec = importlib.util.spec_from_file_location(name, TESTS.parent / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


COMPILERS = {"musl": ["musl-gcc", "-static"], "glibc": ["gcc", "-static"], "glibc-pie": ["gcc", "-static-pie", "-fPIE"]}


@pytest.fixture(scope="session")
def build(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("programs")

    def _build(source: str, libc: str = "musl", extra: list[str] | None = None) -> Path:
        src = TESTS / source
        cc = COMPILERS[libc]
        if shutil.which(cc[0]) is None:
            pytest.fail(f"{cc[0]} is not installed (.ci/run installs it)")
        base = ["-O2", "-Wall", "-I", str(runtime.include_dir())]
        flags = [*base, *(extra or [])]
        key = hashlib.sha256(repr((src.read_bytes(), cc, flags)).encode()).hexdigest()[:12]
        out = out_dir / f"{src.stem}-{libc}-{key}"
        if not out.exists():
            # extra after the source, so that static libraries (libxax.a) resolve its symbols
            subprocess.run([*cc, *base, "-o", str(out), str(src), *(extra or [])], check=True)
        return out

    return _build


@dataclass
class Result:
    report: ExitReport
    stdout: bytes
    stderr: bytes
    log: list[str] = field(default_factory=list)
    xaxcalls: Counter = field(default_factory=Counter)  # requests the Monitor served, by message type

    @property
    def code(self) -> int:
        return self.report.exit_code


def run_pico(program: Path | str, args: list[str] | None = None, *, stdin: bytes = b"", env: list[str] | None = None,
             limits: Limits | None = None, origin=None, trace_all: bool = False, monitor: Monitor | None = None,
             profile: str | None = None, fs_image: bytes | None = None, cache: HttpCache | None = None,
             **start_extra) -> Result:
    """Run a static program or an app image as `xax-emu run` would (the same launch code)."""
    out, err, log = bytearray(), bytearray(), []
    prog = resolve(str(program), origin, cache)
    lim = limits or Limits(wall_seconds=60)
    request = Request(prog, list(args or []), list(env or []), profile,
                      {k: v for k, v in vars(lim).items() if v},  # the Monitor's 0 is "none": not given
                      fs_image)
    own = monitor is None
    monitor = monitor or Monitor(log=log.append)
    try:
        pico = monitor.start(**start_kwargs(request), trace_all=trace_all, **start_extra,
                             stdio=Stdio(stdout=out.extend, stderr=err.extend, stdin_bytes=stdin))
        (report,) = monitor.run_until_done([pico])
    finally:
        if own:
            monitor.close()
    return Result(report, bytes(out), bytes(err), log, pico.xaxcalls)


def run_native(program: Path, args: list[str] | None = None, *, stdin: bytes = b"", env: dict | None = None):
    return subprocess.run([str(program), *(args or [])], input=stdin, capture_output=True, env=env or {}, timeout=60)
