"""Builds the C runtime (runtime_c/) with the machine's gcc as part of the install.

`pip install .` puts the binaries into the wheel; `pip install -e .` builds them
into xax_emu/_runtime/ in the source tree.  No binary is ever committed.
"""
import os
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildRuntime(build_py):
    def run(self):
        if getattr(self, "editable_mode", False):
            out = ROOT / "xax_emu" / "_runtime"
        else:
            out = Path(self.build_lib).resolve() / "xax_emu" / "_runtime"
        subprocess.run([sys.executable, str(ROOT / "tools" / "gen_protocol.py"), "--check"], check=True)
        subprocess.run(["make", "-C", str(ROOT / "runtime_c"), f"OUT={out}", f"-j{os.cpu_count() or 1}"], check=True)
        super().run()


setup(cmdclass={"build_py": BuildRuntime})
