"""The fuzz targets of tests/fuzz/, briefly, as CI runs them: every seed and committed
regression input through each harness in-process, then each target under its fuzzer
(atheris, or libFuzzer with ASan and UBSan for C) for a few seconds with a fixed seed.
The long runs (10^6 inputs per target) are benchmarks/fuzz.py's, their figures in
benchmarks/RESULTS.md."""
from __future__ import annotations

import hashlib
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent / "fuzz"
sys.path.insert(0, str(FUZZ))

import cbuild  # noqa: E402
import targets  # noqa: E402

SHORT_RUNS = {"cli": 1500, "manifest": 3000}  # inputs of the short run; the slower targets get fewer
SHORT_RUNS_DEFAULT = 4000
C_SHORT_RUNS = 30000


def regressions(target: str) -> list[Path]:
    where = FUZZ / "regressions" / target
    return sorted(where.iterdir()) if where.is_dir() else []


def test_every_harness_is_a_listed_target():
    on_disk = {p.stem for p in FUZZ.glob("fz_*.py")}
    assert on_disk == set(targets.PYTHON_TARGETS.values())
    assert {p.name for p in (FUZZ / "c").glob("fuzz_*.c")} == {Path(v).name for v in targets.C_TARGETS.values()}
    assert set(cbuild.HARNESS) == set(targets.C_TARGETS)
    assert set(targets.DESCRIPTIONS) == set(targets.ALL)
    assert {p.name for p in (FUZZ / "regressions").iterdir()} <= set(targets.ALL)


@pytest.mark.parametrize("target", list(targets.PYTHON_TARGETS))
def test_seeds_and_regressions_replay(target):
    harness = importlib.import_module(targets.PYTHON_TARGETS[target])
    assert harness.NAME == target
    for data in harness.seeds() + [p.read_bytes() for p in regressions(target)]:
        harness.one_input(data)


def _corpus(tmp_path: Path, inputs: list[bytes]) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for data in inputs:
        (corpus / hashlib.sha1(data).hexdigest()).write_bytes(data)
    return corpus


def _fuzz(args: list[str], tmp_path: Path, runs: int) -> str:
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    r = subprocess.run([*args, f"-runs={runs}", "-seed=1", f"-artifact_prefix={crashes}/", "-timeout=60",
                        "-max_len=16384", str(tmp_path / "corpus")],
                       capture_output=True, text=True, env={**os.environ, "LANGUAGE": "C"},
                       timeout=600)
    found = [p.name for p in crashes.iterdir()]
    assert r.returncode == 0 and not found, f"crashes {found}:\n{r.stderr[-6000:]}"
    done = re.findall(r"^#(\d+)\s+DONE\s+cov: (\d+)", r.stderr, re.M)
    assert done and int(done[-1][0]) >= runs and int(done[-1][1]) > 0, r.stderr[-3000:]
    return r.stderr


@pytest.mark.parametrize("target", list(targets.PYTHON_TARGETS))
def test_short_atheris_run(target, tmp_path):
    import atheris  # noqa: F401  (the test extra installs it; where it is missing this fails, loudly)
    harness = importlib.import_module(targets.PYTHON_TARGETS[target])
    _corpus(tmp_path, harness.seeds() + [p.read_bytes() for p in regressions(target)])
    out = _fuzz([sys.executable, str(FUZZ / "run_atheris.py"), target], tmp_path,
                SHORT_RUNS.get(target, SHORT_RUNS_DEFAULT))
    # the code under test was this tree's, instrumented
    assert f"xax_emu from {Path(__file__).resolve().parent.parent / 'xax_emu'}" in out


@pytest.mark.parametrize("target", list(targets.C_TARGETS))
def test_short_libfuzzer_run(target, tmp_path):
    binary = cbuild.build(target)
    _corpus(tmp_path, cbuild.seeds(target) + [p.read_bytes() for p in regressions(target)])
    _fuzz([str(binary)], tmp_path, C_SHORT_RUNS)


def test_the_monitor_harness_lets_an_unexpected_exception_out(monkeypatch):
    """A harness that swallowed everything would find nothing: a handler that raises
    anything but ProtocolViolation comes out of one_input."""
    from xax_emu import protocol as p
    from xax_emu.monitor import xaxcalls
    import fz_monitor

    def broken(pico, msg):
        raise KeyError("a bug in a handler")
    monkeypatch.setitem(xaxcalls.XAXCALLS, p.TYPES["NULL"], broken)
    null_seed = fz_monitor.seeds()[sorted(p.TYPE_NAMES).index(p.TYPES["NULL"])]
    with pytest.raises(KeyError, match="a bug in a handler"):
        fz_monitor.one_input(null_seed)
