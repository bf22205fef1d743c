#!/usr/bin/env python3
"""Writes docs/porting.md: the article's porting accounting for Python/graphviz beside
`xax-emu trace` of the four Debian apps in images/, run here and now, and the porting corpus
(tools/porting_corpus.py) ported by `xax-emu init`: lines generated, lines edited by hand,
calls still missing.

    python3 tools/gen_porting_doc.py            # packs the images, traces each app, writes the doc

The article counted what its team had to do to each system call the app made;
xax-emu's trace counts what the shipped profiles do to each call of the unmodified
program; the servers of images/ are traced while they answer a few requests (--connection).
Not part of the tests (it packs seven images, ~400 MB): re-run it when the profiles
change, and commit the result."""
from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "porting.md"

PY_SCRIPT = ("import json, re, hashlib, zlib, struct, datetime\n"
             "d = {'re': re.sub(r'(\\d+)', r'<\\1>', 'a1b22'), 'sha': hashlib.sha256(b'xax').hexdigest(),\n"
             "     'z': len(zlib.compress(b'x' * 1000)), 's': struct.pack('<iq', 1, -2).hex(),\n"
             "     'd': datetime.date(2008, 12, 8).isoformat()}\n"
             "print(json.dumps(d, sort_keys=True))\n")
LUA_SCRIPT = b'local t = {} for i = 1, 10 do t[#t + 1] = string.format("%d:%05.2f", i, math.sqrt(i)) end print(table.concat(t, " "))\n'
SQL = (b"CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL);\n"
       b"INSERT INTO t(name, score) VALUES ('ada', 3.5), ('bob', 2.25), ('cy', 9);\n"
       b"SELECT count(*), sum(score) FROM t;\n")

# (app, image directory, arguments, stdin, what the run does)
RUNS = [
    ("python3", "python3", ["-c", PY_SCRIPT], b"", "a script: json, re, hashlib, zlib, struct, datetime"),
    ("lua5.4", "lua", ["-"], LUA_SCRIPT, "a script from stdin"),
    ("sqlite3", "sqlite3", ["/data/test.db"], SQL, "create, fill and query a database on the RAM disk"),
    ("espeak-ng", "espeak-ng", ["--stdout", "The picoprocess speaks, unmodified."], b"", "a sentence to a WAV on stdout"),
]


def http(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: app\r\nConnection: close\r\n"
    if body:
        head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


# The servers of images/ (issue 12): (app, image directory, the connections handed to it as
# serve hands it a browser's, what the run does)
SERVERS = [
    ("python3 -m http.server", "httpserver",
     [http("GET", "/"), http("GET", "/hello.txt"), http("GET", "/notes/"), http("GET", "/missing.txt")],
     "4 requests: a page, a file, a directory listing, a 404"),
    ("guestbook (wsgiref)", "guestbook",
     [http("POST", "/add", b"text=hello"), http("GET", "/"), http("GET", "/entries.json")],
     "3 requests: an entry added (to the RAM disk), the page, the entries"),
    ("lighttpd", "lighttpd",
     [http("GET", "/"), http("GET", "/big.txt"), http("GET", "/docs/"), http("GET", "/none.html")],
     "4 requests: a page, 244 KB, a directory listing, a 404"),
]

# "Leveraging legacy code for Web browsers", section "Lightweight code modification".
ARTICLE = """\
| step | system calls (unique) |
|---|---|
| the unported app (graphviz driven by Python) | 2,725 (39) |
| 1. components disabled at compile time (pango, pthreads) | 699 (16) eliminated |
| 2. interfaces restricted (output "svg" instead of "xlib") | 367 (21) eliminated |
| 3. rejected, failure-obliviously | 125 (11) |
| 4. emulated in the interposition layer (tar file system, ...) | 1,409 (14), 943 of them failing obliviously |
| 5. provided through xaxcalls | 137 (11) |
"""


def cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xax_emu", *args], input=stdin, capture_output=True, timeout=300)


def trace(image: Path, args: list[str], stdin: bytes, connections: list[bytes] = ()) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "trace.json"
        files = []
        for i, request in enumerate(connections):
            files += ["--connection", str(Path(tmp) / f"request{i}")]
            Path(files[-1]).write_bytes(request)
        r = cli("trace", "--json", "--output", str(out), *files, str(image), "--", *args, stdin=stdin)
        # a server is ended once its connections are answered (SIGKILL): that is its normal end here
        if r.returncode != 0 and not (connections and r.returncode == 137 and out.exists()):
            sys.exit(f"trace of {image.name} failed ({r.returncode}): {r.stderr.decode(errors='replace')[-2000:]}")
        return json.loads(out.read_text())


def pack(directory: str, tmp: str) -> Path:
    if (ROOT / "images" / directory / "Makefile").exists():
        subprocess.run(["make", "-s", "-C", str(ROOT / "images" / directory)], check=True)
    image = Path(tmp) / f"{directory}.tar"
    r = cli("pack", str(ROOT / "images" / directory / "manifest.toml"), "-o", str(image))
    if r.returncode != 0:
        sys.exit(f"packing images/{directory} failed: {r.stderr.decode(errors='replace')}")
    return image


def row(app: str, what: str, d: dict) -> str:
    return (f"| {app}: {what} | {cell(d, 'total')} | {cell(d, 'emulated')} | {cell(d, 'rejected')} | "
            f"{cell(d, 'forwarded')} | {kernel_cell(d)} | {cell(d, 'missing')} |")


def missing_names(d: dict) -> str:
    names = sorted(name for name, kinds in (d.get("syscalls") or {}).items() if kinds.get("missing"))
    return ", ".join(f"`{n}` ({d['syscalls'][n]['missing']})" for n in names) or "none"



def cell(d: dict, key: str) -> str:
    part = d.get(key) or {}
    text = f"{part.get('total', 0):,} ({part.get('unique', 0)})"
    if part.get("failed_obliviously"):
        text += f", {part['failed_obliviously']:,} failing obliviously"
    return text


def kernel_cell(d: dict) -> str:
    k = d.get("kernel") or {}
    if "total" in k:
        return f"{k['total']:,} ({k.get('unique', 0)})"
    xax = sum((k.get("xaxcalls") or {}).values())
    return f"not counted ({xax:,} xaxcalls)"


def corpus_rows() -> list[str]:
    """Each corpus program ported by init, as tests/test_porting_corpus.py does."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tools"))
    import porting_corpus
    from xax_emu.porting.init import RunSpec, init

    rows = []
    with tempfile.TemporaryDirectory(prefix="xax-corpus-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        porting_corpus.make_inputs(work)
        for name, kind, program, runs in porting_corpus.CORPUS:
            print(f"init {name} ...", file=sys.stderr)
            specs = [RunSpec(args, (work / stdin).read_bytes() if stdin else b"", stdin) for args, stdin in runs]
            r = init(program, specs, Path(tmp) / name, name=name, cwd=str(work))
            same = sum(c.identical for c in r.comparisons)
            sealed_only = sorted({n for c in r.comparisons for n in c.missing})
            missing = ", ".join(f"`{n}`" for n in sorted(set(r.plan.missing) | set(sealed_only))) or "none"
            entries = ", ".join(f"`{n}`" for n in sorted(r.plan.syscalls)) or "none"
            files = len(r.plan.files) + len(r.plan.plugins) + len(r.plan.listed)
            rows.append(f"| {name} ({kind}) | {len(runs)} | {same} of {len(runs)} | {r.generated_lines} | 0 | "
                        f"{files} (+{r.plan.closure_skipped} by closure), {len(r.plan.plugins)} dlopen'ed | "
                        f"{entries} | {missing} |")
    return rows


def main() -> None:
    corpus = corpus_rows()
    rows, server_rows, server_missing = [], [], []
    with tempfile.TemporaryDirectory(prefix="xax-porting-") as tmp:
        for app, directory, args, stdin, what in RUNS:
            image = pack(directory, tmp)
            print(f"tracing {app} ...", file=sys.stderr)
            rows.append(row(app, what, trace(image, args, stdin)))
        for app, directory, connections, what in SERVERS:
            image = pack(directory, tmp)
            print(f"tracing {app} ...", file=sys.stderr)
            d = trace(image, [], b"", connections)
            server_rows.append(row(app, what, d))
            server_missing.append(f"- {app}: {missing_names(d)}")
    lines = [
        "# Porting accounting: the article's Python/graphviz beside xax-emu's apps",
        "",
        "<!-- generated by tools/gen_porting_doc.py; re-run it rather than editing -->",
        "",
        "The article ported its apps by changing them; its section \"Lightweight code modification\"",
        "counts, for graphviz driven by Python, what each step did to the app's system calls:",
        "",
        ARTICLE,
        "xax-emu runs the programs as Debian ships them, and the shipped profiles (`posix-core`,",
        "`static-libc`, `glibc-dynamic`) decide each call; steps 1 and 2 (code and interface changes)",
        "have no counterpart. `xax-emu trace --json` of the tested runs of the four apps in images/,",
        f"on {date.today().isoformat()} ({platform.system()} {platform.release()}, {platform.machine()}):",
        "",
        "| app and run | system calls (unique) | emulated | rejected | forwarded to the Monitor | "
        "reached the kernel (allowlist) | missing |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Emulated calls \"failing obliviously\" are those the layer answered with an error, as the",
        "article's step 3/4 did (a library probing for a file the image does not hold, a locale not",
        "installed). \"Missing\" are calls no profile handles (-ENOSYS): none on these runs.",
        "The program's calls only: the runtime's own (the PAL and the layer reaching the kernel to",
        "serve it, counted apart by trace) are not in these columns.",
        "Per-call counts: `xax-emu trace IMAGE -- ARGS` (add `--json`); how the kernel's are counted:",
        "[trace.md](trace.md).",
        "",
        "## The porting corpus: `xax-emu init` alone",
        "",
        "Debian programs the project never packed by hand, each ported by `xax-emu init` from runs on",
        "realistic inputs (tools/porting_corpus.py; tests/test_porting_corpus.py asserts the same). *Lines",
        "generated*: manifest.toml and profile.py as init wrote them; *edited by hand*: what had to change",
        "for every run to be identical sealed (stdout, stderr, exit status) — the test packs and runs the",
        "files exactly as generated. *Profile entries*: calls the base profile lacks, answered from",
        "xax_emu/syscalls/answers.py; *still missing*: calls no fixed answer covers (natively or only",
        "sealed), left -ENOSYS.",
        "",
        "| program (kind) | runs | identical sealed | lines generated | edited by hand | files (+ libraries pack adds) | "
        "profile entries | still missing |",
        "|---|---|---|---|---|---|---|---|",
        *corpus,
        "",
        "Not in the corpus, and why: busybox sh and node, whose `poll`, `epoll` and `eventfd` the layer",
        "emulates since issue 12, are not yet in it; make and a shell run their recipes and commands as processes, which a picoprocess cannot start",
        "(fork and clone answer ENOSYS, and both stop: tests/test_fork_answer.py); ruby and gnuplot are",
        "not installed by bootstrap.",
        "",
        "## Servers",
        "",
        "The unmodified servers of images/ (issue 12: sockets and event loops inside the picoprocess),",
        "traced while they serve: `xax-emu trace --connection FILE ... IMAGE` hands the server each",
        "request as a connection from outside, as `serve` hands it a browser's (its listening socket",
        "takes it), reads each answer to its end, then ends the server; the columns count everything",
        "it asked from its start to then.",
        "",
        "| server and requests | system calls (unique) | emulated | rejected | forwarded to the Monitor | "
        "reached the kernel (allowlist) | missing |",
        "|---|---|---|---|---|---|---|",
        *server_rows,
        "",
        "What each still asks for and gets -ENOSYS (the count of calls):",
        "",
        *server_missing,
        "",
    ]
    DOC.write_text("\n".join(lines))
    print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
