"""The Debian apps of images/ (lua5.4, sqlite3, espeak-ng), unmodified, packed from their
manifests and run in the picoprocess: output compared with the native run byte for byte,
and `xax-emu trace` finding no missing system call on the tested run."""
import subprocess
import tomllib
from pathlib import Path

import pytest

from xax_emu.image import pack_image

from conftest import run_pico
from image_support import IMAGES
from trace_support import check_kernel_accounting


def app_image(tmp_path: Path, name: str, program: str) -> Path:
    if not Path(program).exists():
        pytest.fail(f"{program} is missing (bootstrap.sh installs it)")
    out = tmp_path / f"{name}.tar"
    pack_image(str(IMAGES / name / "manifest.toml"), str(out))
    return out


def native(argv: list[str], stdin: bytes = b"", cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, input=stdin, capture_output=True, env={"LC_ALL": "C"}, cwd=cwd, timeout=60)


LUA_SCRIPT = b"""\
local t = {}
for i = 1, 10 do t[#t + 1] = string.format("%d:%05.2f", i, math.sqrt(i)) end
print(table.concat(t, " "))
local s = "Hello, picoprocess world"
print(s:upper(), s:len(), s:rep(2, "|"), s:gsub("o", "0"))
for w in s:gmatch("%a+") do io.write(w:reverse(), ";") end
print()
local m = {b = 2, a = 1, c = 3}
local keys = {}
for k in pairs(m) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do io.write(k, "=", m[k], " ") end
print()
print(math.floor(3.7), math.max(4, 9, 2), math.pi, 7 // 2, 7 % 3, 2 ^ 10, math.tointeger(8.0))
print(string.format("%q %x %g %s %-6s|", "a\\nb", 255, 1e20, tostring(nil), "left"))
print(select("#", 1, 2, 3), #arg, arg[1])
os.exit(3)
"""


def test_lua_runs_a_script(tmp_path):
    image = app_image(tmp_path, "lua", "/usr/bin/lua5.4")
    r = run_pico(image, ["-", "first"], stdin=LUA_SCRIPT, trace_all=True)
    n = native(["/usr/bin/lua5.4", "-", "first"], stdin=LUA_SCRIPT)
    assert (r.stdout, r.stderr, r.code) == (n.stdout, n.stderr, n.returncode)
    assert r.code == 3 and b"HELLO, PICOPROCESS WORLD" in r.stdout
    assert r.report.missing == {}
    program = check_kernel_accounting(r.report)
    # ld.so sets the thread pointer, maps anonymous memory and write-protects RELRO itself
    assert program["arch_prctl"] >= 1 and program["mmap"] >= 1 and program["mprotect"] >= 1


SQL = b"""\
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL);
INSERT INTO t(name, score) VALUES ('ada', 3.5), ('bob', 2.25), ('cy', 9);
BEGIN; INSERT INTO t(name, score) SELECT name || '2', score * 2 FROM t; COMMIT;
CREATE INDEX t_score ON t(score);
SELECT id, name, score FROM t ORDER BY score DESC;
SELECT count(*), sum(score), printf('%.3f', avg(score)) FROM t;
PRAGMA integrity_check;
.tables
.mode csv
SELECT * FROM t WHERE name LIKE '%2';
"""


def test_sqlite3_creates_fills_and_queries_a_database_on_the_ram_disk(tmp_path):
    image = app_image(tmp_path, "sqlite3", "/usr/bin/sqlite3")
    r = run_pico(image, ["/data/test.db"], stdin=SQL, trace_all=True)
    (tmp_path / "native").mkdir()
    n = subprocess.run(["/usr/bin/sqlite3", "test.db"], input=SQL, capture_output=True, cwd=tmp_path / "native",
                       env={"LC_ALL": "C", "HOME": str(tmp_path / "native")}, timeout=60)
    assert (r.stdout, r.stderr, r.code) == (n.stdout, n.stderr, n.returncode)
    assert b"6|44.25|7.375\n" in r.stdout and r.code == 0
    assert r.report.missing == {}
    program = check_kernel_accounting(r.report)
    assert program["arch_prctl"] >= 1 and program["mmap"] >= 1 and program["mprotect"] >= 1


def test_espeak_ng_writes_the_wav_of_a_sentence(tmp_path):
    image = app_image(tmp_path, "espeak-ng", "/usr/bin/espeak-ng")
    argv = ["--stdout", "The picoprocess speaks, unmodified."]
    r = run_pico(image, argv, trace_all=True)
    # The same environment natively: the image's (libpulse finds no sound server either way).
    app_env = tomllib.loads((IMAGES / "espeak-ng" / "manifest.toml").read_text())["app"]["env"]
    n = subprocess.run(["/usr/bin/espeak-ng", *argv], capture_output=True, env=app_env, timeout=60)
    assert n.stdout[:4] == b"RIFF"
    assert (r.stdout, r.stderr, r.code) == (n.stdout, n.stderr, n.returncode)
    assert r.report.missing == {}
