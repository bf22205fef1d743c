"""The command line never ends in a traceback.

Every command and option is driven through `python3 -m xax_emu` with malformed
and oversized inputs — a table of known hostile ones, then hypothesis-generated
argument lists built from the parser's own options — and with its own stdout on
a full device or closed.  Each failure must be one line on stderr starting with
"xax-emu: ", a non-zero status, and no traceback (nor the last-resort
"internal error" line, which would mean an error outside the hierarchy).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from image_support import file_info, image, meta
from xax_emu.cli import build_parser
from xax_emu.image import pack

ROOT = Path(__file__).resolve().parent.parent
LONG = "a" * 5000  # longer than any file name (ENAMETOOLONG) and than any message should quote


@pytest.fixture(scope="module")
def world(build, tmp_path_factory) -> Path:
    """A working directory with a quiet program, a valid image of it, hostile files and profiles."""
    d = tmp_path_factory.mktemp("cli")
    quiet = build("programs/quiet.c")
    (d / "quiet").write_bytes(quiet.read_bytes())
    (d / "quiet").chmod(0o755)
    (d / "app.toml").write_text(f'[app]\nname = "quiet"\nentry = "/bin/quiet"\n[files]\n"/bin/quiet" = "{quiet}"\n')
    pack(d / "app.toml", d / "app.tar")
    (d / "garbage").write_bytes(bytes(range(256)) * 12)
    (d / "empty").write_bytes(b"")
    os.mkfifo(d / "fifo")
    os.mkdir(d / "sub")
    (d / "bad.py").write_text("syntax error here(\n")
    (d / "raises.py").write_text("raise RuntimeError('boom')\n")
    (d / "exits.py").write_text("import sys\nsys.exit(3)\n")
    (d / "notprof.py").write_text("X = 1\n")
    base = '[app]\nname = "a"\nentry = "/bin/quiet"\n'
    files = f'[files]\n"/bin/quiet" = "{quiet}"\n'
    manifests = {
        "huge-args.toml": base + "args = [" + ", ".join(['"' + "x" * 1000 + '"'] * 200) + "]\n" + files,
        "inf-limit.toml": base + files + "[limits]\nmemory = 1e999\n",
        "nan-wall.toml": base + files + "[limits]\nwall_seconds = nan\n",
        "frac-memory.toml": base + files + "[limits]\nmemory = 268435456.5\n",
        "big-int.toml": base + files + "[limits]\ncpu_seconds = 9223372036854775807\n",
        "binary.toml": "\x00\x01\x02",
        "deep.toml": "a = " + "[" * 100000,
        "missing-file.toml": base + '[files]\n"/bin/quiet" = "/nonexistent"\n',
    }
    for name, text in manifests.items():
        (d / name).write_text(text)
    for name, limits in {"img-inf.tar": {"memory": 1234567}, "img-big.tar": {"memory": 2**70},
                         "img-frac.tar": {"cpu_seconds": 1.5}}.items():
        full = {"memory": None, "cpu_seconds": None, "wall_seconds": None, "download": None, "threads": None,
                **limits}
        raw = json.dumps(meta({"/bin/app": file_info(b"#!app\n")}, limits=full)).encode()
        (d / name).write_bytes(image([], meta_bytes=raw.replace(b"1234567", b"1e999")))
    args_meta = meta({"/bin/app": file_info(b"#!app\n")})
    args_meta["app"]["args"] = ["y" * 100_000] * 2
    (d / "img-args.tar").write_bytes(image([], meta_obj=args_meta))
    return d


def cli(args: list, cwd: Path, *, shell: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python3 -m xax_emu ARGS` in `cwd` (or the shell command `shell`, where $XAX is the command)."""
    env = {k: v for k, v in os.environ.items() if k != "XAX_EMU_TRACEBACK"}
    env["PYTHONPATH"] = str(ROOT)  # this tree's xax_emu, whatever the working directory
    env["XDG_CACHE_HOME"] = str(cwd / "cache")  # the HTTP cache and the validated-image records stay here
    xax = [sys.executable, "-m", "xax_emu"]
    if shell is not None:
        env["XAX"] = " ".join(xax)
        return subprocess.run(["bash", "-c", shell], cwd=cwd, env=env, capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    return subprocess.run([*xax, *args], cwd=cwd, env=env, capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "internal error" not in err, err[-3000:]
    assert proc.returncode != 0, (proc.args, err)
    lines = err.split("\n")[:-1] if err.endswith("\n") else [err]  # a line is what ends in \n
    assert len(lines) == 1 and lines[0].startswith("xax-emu: "), err[-3000:]
    assert not any(c < " " and c != "\t" or "\x7f" <= c <= "\x9f" for c in lines[0]), lines[0]  # no raw controls
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


LIMIT_CASES = [  # issue 13's reproduction: each option named, with its range
    (["--cpu-seconds", "99999999999999999999999"], "--cpu-seconds: must be from 1 to 1000000000 seconds"),
    (["--cpu-seconds", "-1"], "--cpu-seconds: must be from 1"),
    (["--memory", "99999999999T"], "--memory: must be from 16M to 128T bytes"),
    (["--wall-seconds", "inf"], "--wall-seconds: must be a finite number"),
    (["--wall-seconds", "nan"], "--wall-seconds: must be a finite number"),
    (["--memory", "0"], "--memory: must be from 16M"),
    (["--download-limit", "0"], "--download-limit: must be from 1"),
    (["--threads", "0"], "--threads: must be from 1 to 4096"),
    (["--memory", "9" * 5000], "--memory: "),
    (["--wall-seconds", "3e9"], "--wall-seconds: must be from 0.001 to 2147483 seconds"),
    (["--cache-size", "0"], "--cache-size: must be from 1M to 128T bytes"),
    (["--cache-size=-5M"], "--cache-size: '-5M' is not a size"),
]


@pytest.mark.parametrize("command", ["run", "trace"])
@pytest.mark.parametrize("options, words", LIMIT_CASES, ids=[" ".join(c[0])[:28] for c in LIMIT_CASES])
def test_limits_out_of_range(world, command, options, words):
    assert_one_line_error(cli([command, *options, "quiet"], world), words)


CASES = [
    # run: the program, its profile, its origin, its files
    (["run", LONG], "File name too long"),
    (["run", "/tmp"], "is a directory"),
    (["run", "garbage"], "not an ELF"),
    (["run", "empty"], "garbage" and "empty"),
    (["run", "fifo"], "not a regular file"),
    (["run", "/dev/zero"], "not a regular file"),
    (["run", "--profile", LONG + ".py:X", "quiet"], "not a profile file"),
    (["run", "--profile", "bad.py:X", "quiet"], "bad.py:1: SyntaxError"),
    (["run", "--profile", "raises.py:X", "quiet"], "raises.py:1: RuntimeError: boom"),
    (["run", "--profile", "exits.py:X", "quiet"], "exited while it was loaded"),
    (["run", "--profile", "notprof.py:X", "quiet"], "no Profile named 'X'"),
    (["run", "--profile", "nope", "quiet"], "no shipped profile"),
    (["run", "--fs-image", "/dev/zero", "quiet"], "--fs-image /dev/zero: cannot read it: not a regular file"),
    (["run", "--fs-image", "fifo", "quiet"], "not a regular file"),
    (["run", "--fs-image", LONG, "quiet"], "--fs-image"),
    (["run", "--fs-image", "empty", "app.tar"], "--profile and --fs-image are for bare programs"),
    (["run", "--origin", "ftp://x", "quiet"], "ftp"),
    (["run", "--origin", "http://", "quiet"], "no host"),
    (["run", "--origin", "http://a:99999", "quiet"], "99999"),
    (["run", "--origin", "http://" + LONG, "quiet"], ""),
    (["run", "http://127.0.0.1:1/x"], "cannot fetch the program"),
    (["run", "http://[::1"], ""),
    (["run", "http://" + LONG + "/x"], ""),
    (["run", "http://a b/"], ""),
    (["run", "--env", "=x", "quiet"], "--env takes NAME=VALUE"),
    (["run", "--env", "X", "quiet"], "--env takes NAME=VALUE"),
    (["run", "--report", "xml", "quiet"], "invalid choice"),
    (["run", "--stats-json", "/nonexistent/x", "quiet"], "--stats-json /nonexistent/x"),
    (["run", "--stats-json", "sub", "quiet"], "--stats-json sub"),
    (["run", "--stats-json", "/dev/full", "quiet"], "--stats-json /dev/full: No space left on device"),
    (["run", "quiet", "--", *["z" * 110] * 10_000], "come to 111"),  # 1.1 MB of arguments
    (["run", "--env", "A=" + "e" * 120_000, *[f"--env=B{i}=" + "e" * 120_000 for i in range(9)], "quiet"],
     "over the"),
    (["run", "img-inf.tar"], "the number 1e999 is out of range"),
    (["run", "img-big.tar"], "limits.memory: must be from 16M to 128T bytes"),
    (["run", "img-frac.tar"], "limits.cpu_seconds: must be a whole number"),
    (["run", "img-args.tar"], "over the 128 KiB"),
    (["run"], "the following arguments are required"),
    (["run", "--bogus", "quiet"], "unrecognized arguments"),
    # trace: the same, and where its accounting goes
    (["trace", "--output", "/nonexistent/x", "quiet"], "--output /nonexistent/x"),
    (["trace", "--output", "/dev/full", "quiet"], "No space left on device"),
    (["trace", "--output", "sub", "quiet"], "--output sub"),
    (["trace", "img-inf.tar"], "out of range"),
    # syscalls
    (["syscalls", LONG + ".py:X"], "not a profile file"),
    (["syscalls", "bad.py:X"], "SyntaxError"),
    (["syscalls", "raises.py:X"], "boom"),
    (["syscalls", "exits.py:X"], "exited"),
    (["syscalls", "/dev/zero:X"], "no such profile file"),
    (["syscalls", ":"], ""),
    (["syscalls", "nope"], "no shipped profile"),
    (["syscalls"], "required"),
    # pack
    (["pack", "nope.toml"], "no such manifest"),
    (["pack", "/tmp"], "is a directory"),
    (["pack", "fifo"], "not a regular file"),
    (["pack", "/dev/zero"], "not a regular file"),
    (["pack", LONG], "File name too long"),
    (["pack", "garbage"], "cannot read the manifest"),
    (["pack", "empty"], "app"),
    (["pack", "binary.toml"], "not valid TOML"),
    (["pack", "deep.toml"], "not valid TOML"),
    (["pack", "huge-args.toml"], "app.args and app.env come to"),
    (["pack", "inf-limit.toml"], "limits.memory: must be a whole number of bytes, not inf"),
    (["pack", "nan-wall.toml"], "limits.wall_seconds: must be a finite number"),
    (["pack", "frac-memory.toml"], "limits.memory"),
    (["pack", "big-int.toml"], "limits.cpu_seconds"),
    (["pack", "missing-file.toml"], "no such file"),
    (["pack", "app.toml", "-o", "/nonexistent/x.tar"], "cannot write"),
    (["pack", "app.toml", "-o", "sub"], "not a regular file"),
    (["pack", "app.toml", "-o", "fifo"], "not a regular file"),
    (["pack", "app.toml", "-o", LONG], "cannot write"),
    # inspect
    (["inspect", "nope"], "No such file"),
    (["inspect", "/tmp"], "is a directory"),
    (["inspect", "fifo"], "not a regular file"),
    (["inspect", "/dev/zero"], "not a regular file"),
    (["inspect", "garbage"], "garbage"),
    (["inspect", "empty"], "empty"),
    (["inspect", LONG], "File name too long"),
    (["inspect", "quiet"], "quiet"),
    (["inspect", "img-inf.tar", "--json"], "out of range"),
    (["inspect", "img-big.tar", "--json"], "limits.memory"),
    (["inspect", "img-args.tar"], "over the 128 KiB"),
    # serve: its options are checked before it listens (a valid set would serve until stopped)
    (["serve", "--idle-seconds", "1e8"], "--idle-seconds: must be from 0.001 to 2147483 seconds"),  # epoll's bound
    (["serve", "--idle-seconds", "nan"], "a finite number"),
    (["serve", "--request-timeout", "0"], "--request-timeout"),
    (["serve", "--app-timeout", "-1"], "--app-timeout"),
    (["serve", "--max-instances", "0"], "--max-instances: must be from 1"),
    (["serve", "--max-connections", "1e3"], "not a whole number"),
    (["serve", "--memory-budget", "1M"], "--memory-budget: must be from 16M"),
    (["serve", "--download-limit", "0"], "--download-limit"),
    (["serve", "--cache-size", "0"], "--cache-size"),
    (["serve", "--listen", "nonsense"], "--listen"),
    (["serve", "--listen", "1.2.3.4:99999"], "65535"),
    (["serve", "--listen", LONG + ":80"], "--listen"),
    (["serve", "--origin", "ftp://x"], "ftp"),
    # no command at all, or an unknown one
    ([], "required"),
    (["bogus"], "invalid choice"),
]


@pytest.mark.parametrize("args, words", CASES, ids=lambda x: " ".join(x)[:40] if isinstance(x, list) else None)
def test_malformed_and_oversized_inputs(world, args, words):
    line = assert_one_line_error(cli(args, world), words)
    assert len(line) < 12_000  # names are quoted, not repeated without end


@pytest.mark.parametrize("shell, words", [
    ("$XAX inspect app.tar --json > /dev/full", "cannot write to stdout: No space left on device"),
    ("$XAX inspect app.tar >&-", "cannot write to stdout: it is closed"),
    ("$XAX syscalls static-libc > /dev/full", "No space left on device"),
    ("$XAX syscalls static-libc --json >&-", "it is closed"),
    ("$XAX pack app.toml -o again.tar --json > /dev/full", "cannot write to stdout"),
    ("$XAX --help > /dev/full", "cannot write to stdout"),
    ("$XAX --version >&-", "it is closed"),
])
def test_own_stdout_full_or_closed(world, shell, words):
    assert_one_line_error(cli([], world, shell=shell), words)


def test_own_stderr_failing_still_gives_a_status(world):
    proc = cli([], world, shell="$XAX inspect nope 2> /dev/full; echo status $?")
    assert proc.stdout == b"status 2\n" and b"Traceback" not in proc.stderr
    proc = cli([], world, shell="$XAX inspect nope 2>&-; echo status $?")
    assert proc.stdout == b"status 2\n"


def test_a_reader_that_goes_away_is_not_an_error_line(world):
    proc = cli([], world, shell="$XAX syscalls static-libc --all | head -c 10 >/dev/null; echo ${PIPESTATUS[0]}")
    assert proc.stdout.strip() in (b"0", b"141") and proc.stderr == b""


def test_the_valid_cases_still_work(world):
    """What the table refuses is refused for its content, not because nothing works."""
    assert cli(["run", "quiet"], world).returncode == 0
    assert cli(["run", "app.tar"], world).returncode == 0
    assert cli(["run", "--memory", "16M", "--cpu-seconds", "1000000000", "--wall-seconds", "2147483",
                "--download-limit", "128T", "--threads", "4096", "quiet"], world).returncode == 0
    info = cli(["inspect", "app.tar", "--json"], world)
    assert info.returncode == 0 and json.loads(info.stdout)["entry"] == "/bin/quiet"
    assert b"Infinity" not in info.stdout and b"NaN" not in info.stdout


# -- hypothesis: argument lists built from each command's own options -------------------------

HOSTILE = ["", "0", "-1", "1", "16M", "0.001", "1e999", "inf", "-inf", "nan", "99999999999999999999999",
           "99999999999T", "268435456.5", "2**70", "x" * 300, LONG, "http://", "http://127.0.0.1:1/", "ftp://x",
           "=", "A=", "=B", "A=B", "\n", "\t", "é", "\udcff", "../../x", "/tmp", "nope", "static-libc", "bad.py:X",
           "raises.py:X", ":", "json", "none", "--", "-", "--memory", "app.tar", "quiet", "garbage", "img-inf.tar",
           "fifo", "/dev/zero"]
OUTPUTS = ["out.json", "sub", "/nonexistent/x", "/dev/full", "fifo", LONG]  # where a command may write: all safe
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40)
VALUE = st.sampled_from(HOSTILE) | TEXT


def _options(command: str) -> list[tuple[str, str]]:
    """(option string, what it takes: "flag", "value" or "output") for each option of `command`."""
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    out = []
    for a in sub._actions:
        if not a.option_strings or a.dest == "help":
            continue
        takes = "flag" if a.nargs == 0 else "output" if a.dest in ("output", "stats_json") else "value"
        out.append((a.option_strings[-1], takes))
    return out


@st.composite
def argv_of(draw, command: str) -> list[str]:
    argv = [command]
    for option, takes in draw(st.lists(st.sampled_from(_options(command)), max_size=5)):
        argv.append(option)
        if takes == "value":
            argv.append(draw(VALUE))
        elif takes == "output":
            argv.append(draw(st.sampled_from(OUTPUTS)))
    positional = {"run": ["quiet", "app.tar"], "trace": ["quiet"], "syscalls": ["static-libc"],
                  "pack": ["app.toml"], "inspect": ["app.tar"]}[command]
    argv.append(draw(st.sampled_from(positional) | VALUE))
    if command in ("run", "trace") and draw(st.booleans()):
        argv += ["--", *draw(st.lists(VALUE, max_size=4))]
    return argv


@pytest.mark.parametrize("command", ["run", "trace", "syscalls", "pack", "inspect"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_arguments(world, command, data):
    argv = data.draw(argv_of(command))
    proc = cli([os.fsencode(a) for a in argv], world)
    if proc.returncode == 0:
        assert b"Traceback" not in proc.stderr
    else:
        assert_one_line_error(proc)
