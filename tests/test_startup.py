"""What `xax-emu run IMAGE` imports: it is on the path of every sealed program's
start, so it loads neither the packer (libarchive, pyelftools), nor the profile
compiler and its catalogue, nor cffi's C parser, nor HTTP and TLS for a local
image, nor a thread pool it does not use.  (No timings here: the benchmarks
measure; these tests keep the causes out.)"""
import json
import os
import subprocess
import sys
from pathlib import Path

from xax_emu.image import pack_image

ROOT = Path(__file__).resolve().parent.parent

NOT_FOR_RUN = [
    "pycparser", "cffi.cparser",                     # the seccomp binding is parsed ahead of time
    "libarchive", "elftools",                         # pack; a bare ELF's check
    "xax_emu.image.pack", "xax_emu.image.inspect", "xax_emu.image.manifest", "xax_emu.image.elfdeps",
    "xax_emu.syscalls.compiler", "xax_emu.syscalls.profile", "xax_emu.syscalls.catalogue",
    "xax_emu.syscalls._x86_64", "xax_emu.launch.layers", "xax_emu.profiles.static_libc", "xax_emu.trace_report",
    "http.client", "ssl", "concurrent.futures",       # no download, no worker thread
]

DRIVER = """
import json, sys
before = set(sys.modules)
from xax_emu.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "before": sorted(before), "after": sorted(sys.modules)}, f)
"""


def _modules_of(tmp_path: Path, *argv: str) -> tuple[int, set[str]]:
    out = tmp_path / "modules.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    r = subprocess.run([sys.executable, "-c", DRIVER, str(out), *argv], env=env, capture_output=True, timeout=60)
    assert out.exists(), r.stderr.decode()
    seen = json.loads(out.read_text())
    return seen["code"], set(seen["after"]) - set(seen["before"])


def test_run_of_an_image_imports_only_what_it_uses(build, tmp_path):
    """A program that makes forwarded calls (getrandom), so the Monitor serves them."""
    program = build("programs/random.c")
    manifest = tmp_path / "random.toml"
    manifest.write_text('[app]\nname = "random"\nentry = "/bin/random"\nargs = []\ncwd = "/"\n'
                        f'profile = "static-libc"\n\n[files]\n"/bin/random" = "{program}"\n')
    image = tmp_path / "random.tar"
    pack_image(str(manifest), str(image))
    for attempt in ("first", "second"):  # validated in full, then from the record
        code, loaded = _modules_of(tmp_path, "run", "--stats-json", str(tmp_path / "stats.json"), str(image))
        assert code == 0, attempt
        assert json.loads((tmp_path / "stats.json").read_text())["xaxcalls"].get("FORWARD", 0) >= 3
        assert {"xax_emu.monitor.picoprocess", "xax_emu.image.validate"} <= loaded  # it did run
        unwanted = {m for m in loaded if any(m == n or m.startswith(n + ".") for n in NOT_FOR_RUN)}
        assert not unwanted, (attempt, sorted(unwanted))


def test_the_other_commands_still_find_what_they_import(tmp_path):
    code, loaded = _modules_of(tmp_path, "syscalls", "static-libc")
    assert code == 0 and "xax_emu.syscalls.compiler" in loaded
