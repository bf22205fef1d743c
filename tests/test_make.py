"""The `make` proof of issue 14 (images/gcc): Debian's make, gcc, cc1, as, collect2 and ld from
an image build a small C project (two .c files, a header, a Makefile) on the RAM disk inside
the picoprocess — a family of processes sharing /tmp — and the program it built runs inside and
prints what the natively built one prints.  The whole of build.sh's output (make's command
lines, the program's, make's second "up to date", the files built) is compared with the same
script run natively."""
import shutil
import subprocess
from pathlib import Path

import pytest

from xax_emu.image import pack_image
from xax_emu.monitor import Limits

from conftest import run_pico
from image_support import IMAGES

GCC = IMAGES / "gcc"


def test_make_builds_a_c_project_with_gcc_inside_and_runs_it(tmp_path):
    for program in ("/usr/bin/make", "/usr/bin/gcc-12", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "/usr/bin/dash"):
        if not Path(program).exists():
            pytest.fail(f"{program} is missing (bootstrap.sh installs it)")
    image = tmp_path / "gcc.tar"
    pack_image(str(GCC / "manifest.toml"), str(image))
    (tmp_path / "native").mkdir()
    shutil.copy(GCC / "build.sh", tmp_path / "build.sh")
    shutil.copytree(GCC / "src", tmp_path / "src")
    native = subprocess.run(["/usr/bin/dash", str(tmp_path / "build.sh"), str(tmp_path / "native")],
                            capture_output=True, timeout=120,
                            env={"LC_ALL": "C", "PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path / "native")})
    r = run_pico(image, limits=Limits(wall_seconds=120, processes=16, memory=1 << 30))  # the manifest's
    assert (r.code, r.report.reason) == (native.returncode, None) == (0, None), r.stderr
    assert r.stdout == native.stdout
    assert r.stderr == native.stderr == b""
    assert r.stdout == (b"gcc -O2 -c -o main.o main.c\ngcc -O2 -c -o greet.o greet.c\ngcc -o hello main.o greet.o\n"
                        b"hello from make\nsum 42\nmake: 'hello' is up to date.\nbuilt: greet.o hello main.o \n")
