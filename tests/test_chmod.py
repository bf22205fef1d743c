"""chmod, fchmod and fchmodat on the RAM disk (vfs/stat.c, ram.c): the modes and errors of the
kernel's run of tests/programs/chmod.c on a host directory, byte for byte (ld sets the execute
bits of what it links with chmod: tests/test_make.py)."""
import subprocess
from pathlib import Path

from conftest import run_pico

HERE = Path(__file__).parent


def _build(tmp_path: Path) -> Path:
    out = tmp_path / "chmod"
    subprocess.run(["musl-gcc", "-static", "-O2", "-o", str(out), str(HERE / "programs" / "chmod.c")], check=True)
    return out


def test_chmod_as_the_kernel_answers(tmp_path):
    prog = _build(tmp_path)
    (tmp_path / "native").mkdir()
    native = subprocess.run([str(prog), str(tmp_path / "native")], capture_output=True, timeout=60)
    r = run_pico(prog, ["/tmp"])
    assert (r.code, r.report.reason) == (native.returncode, None) == (0, None)
    assert r.stdout == native.stdout
    assert b"  f: 100751\n" in r.stdout and b"  d: 41700\n" in r.stdout and b"fchmod O_PATH = 0" in r.stdout  # musl: EBADF, then chmod of /proc/self/fd/N
