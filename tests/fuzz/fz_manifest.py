"""Fuzz target `manifest`: a manifest (TOML) as load_manifest reads it, its [http]
table included, and then a browser's query string against the table it declared.

The first byte picks what the rest is:
  0  the whole manifest file, as it is;
  1  a valid manifest with one value replaced: which key (app, files, limits, exclude,
     http and its params) and what TOML value come from the input;
  2  a valid manifest with an [http] table whose values come from the input.
A manifest that loads and declares [http] then gets a query string from the input,
as serve would (http.argv_for_query).
Allowed: ManifestError naming the file (one line) from load_manifest; ParamError
naming the parameter from argv_for_query.  Checked: an accepted query gives exactly
one argument per template, none with NUL.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from fuzzlib import Reader, check

from xax_emu.image import ManifestError, load_manifest
from xax_emu.image.http import ParamError, argv_for_query

NAME = "manifest"
INSTRUMENT = ("xax_emu.image.manifest", "xax_emu.image.http", "xax_emu.image.format", "tomllib")

# a RAM file system where there is one: the file is written once per input
_DIR = tempfile.mkdtemp(prefix="xax-fuzz-manifest-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
atexit.register(shutil.rmtree, _DIR, True)
PATH = os.path.join(_DIR, "manifest.toml")

BASE = """\
exclude = ["*.pyc"]

[app]
name = "t"
entry = "/bin/app"
args = ["-x"]
env = { LC_ALL = "C" }
cwd = "/"
profile = "static-libc"

[files]
"/bin/app" = "app"

[limits]
memory = "256M"
cpu_seconds = 10
wall_seconds = 30.5
download = "64M"
threads = 8
"""
HTTP = """
[http]
interface = "stdio"
pages = "/www"
endpoint = "/run"
args = ["-r{dpi}", "{page}"]
content_type = "text/plain; charset=utf-8"
max_body = "1M"
[http.params.dpi]
pattern = "[0-9]{1,3}"
default = "72"
max_length = 3
[http.params.page]
pattern = "[1-9][0-9]*"
"""
KEYS = ("exclude", "app.name", "app.entry", "app.args", "app.env", "app.cwd", "app.profile", "app.other",
        'files."/bin/app"', 'files."/x"', 'files."../x"', 'files."/.xax/x"', "limits.memory", "limits.cpu_seconds",
        "limits.wall_seconds", "limits.download", "limits.threads", "limits.other", "other")
HTTP_KEYS = ("interface", "pages", "endpoint", "args", "content_type", "max_body", "max_output", "stderr",
             "params.dpi.pattern", "params.dpi.default", "params.dpi.max_length", "params.page.pattern",
             "params.x.pattern", "other")
VALUES = ('""', '"/"', '"x"', "0", "-1", "1", "1.5", "nan", "inf", "-inf", "1e999", "99999999999999999999999",
          "true", "[]", '["a", 1]', "{}", '{ a = "b" }', '"256M"', '"1T"', '"99999999999T"', '"0"', '"1 K"',
          '"/a/../b"', '"\\u0000"', '"a\\nb"', '"websocket"', '"stdio"', '"[0-9]+"', '"(a+)+$"', '"("',
          '"{dpi}"', '"{{"', '"{nope}"', "1979-05-27T07:32:00Z", "[[[[]]]]", '"' + "a" * 5000 + '"')


def _replace(text: str, key: str, value: str) -> str:
    """text with `key = value` set: in its table if the key is there, else appended there."""
    table, _, name = key.rpartition(".") if not key.startswith("files.") else ("files", "", key[6:])
    lines = text.splitlines()
    header = f"[{table}]" if table else None
    start = lines.index(header) + 1 if header in lines else (0 if header is None else None)
    if start is None:
        lines += [header, f"{name} = {value}"]
        return "\n".join(lines) + "\n"
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    for i in range(start, end):
        if lines[i].split("=", 1)[0].strip() == name:
            lines[i] = f"{name} = {value}"
            break
    else:
        lines.insert(start, f"{name} = {value}")
    return "\n".join(lines) + "\n"


def _value(r: Reader) -> str:
    return r.choose(VALUES) if r.u8() % 4 else r.text(200)


def one_input(data: bytes) -> None:
    r = Reader(data)
    mode = r.u8() % 3
    if mode == 0:
        raw = r.rest()
    else:
        text = BASE + (HTTP if mode == 2 else "")
        for _ in range(1 + r.u8() % 3):
            if mode == 1:
                text = _replace(text, r.choose(KEYS), _value(r))
            else:
                key = r.choose(HTTP_KEYS)
                text = _replace(text, "http." + key if "." not in key else "http." + key, _value(r))
        raw = text.encode("utf-8", "surrogateescape")
    with open(PATH, "wb") as f:
        f.write(raw)
    try:
        manifest = load_manifest(PATH)
    except ManifestError as e:
        check(str(e).startswith(PATH + ":"), f"a ManifestError that does not name the file: {e}")
        check("\n" not in str(e), f"a ManifestError of more than one line: {e!r}")
        return
    if manifest.http is None:
        return
    query = r.blob(600)
    try:
        argv = argv_for_query(manifest.http, query)
    except ParamError as e:
        check("\n" not in str(e), f"a ParamError of more than one line: {e!r}")
        return
    check(len(argv) == len(manifest.http["args"]), "argv_for_query gave a different number of arguments")
    check(all(isinstance(a, str) and "\0" not in a for a in argv), f"an argument with NUL: {argv!r}")


def seeds() -> list[bytes]:
    return [b"\0" + BASE.encode(), b"\0" + (BASE + HTTP).encode(), b"\1\0\3\1", b"\2\0\1\2\0\0dpi=100&page=2"]
