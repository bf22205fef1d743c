#!/usr/bin/env python3
"""Run one Python fuzz target under atheris (coverage-guided, libFuzzer's engine).

    python3 tests/fuzz/run_atheris.py TARGET [libFuzzer options] [CORPUS_DIR ...]

TARGET is a harness's NAME (targets.py lists them).  The code under test is
instrumented as it is imported (the harness's INSTRUMENT packages), so nothing of
xax_emu may be imported before that: this file imports only atheris and the
target table first.  libFuzzer's own options pass through (-runs=N, -seed=S,
-max_len=N, -artifact_prefix=DIR/, ...); it prints "cov:" (edges of the
instrumented code) and "ft:" (features) as it goes, writes a crashing input to
crash-SHA1 and exits 1 on the first finding.
"""
from __future__ import annotations

import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    import atheris

    sys.path[:0] = [HERE, os.path.dirname(HERE), os.path.dirname(os.path.dirname(HERE))]
    from targets import PYTHON_TARGETS  # the table only: it imports no code under test

    name = sys.argv[1]
    module = PYTHON_TARGETS[name]
    with atheris.instrument_imports(include=_instrument_list(module)):
        harness = importlib.import_module(module)
    import xax_emu
    print(f"run_atheris: {name}: xax_emu from {os.path.dirname(xax_emu.__file__)}", file=sys.stderr)
    atheris.Setup([sys.argv[0], *sys.argv[2:]], harness.one_input)
    atheris.Fuzz()


def _instrument_list(module: str) -> list[str]:
    """The harness's INSTRUMENT, read from its source without importing it (importing
    it would import the code under test before atheris could instrument it)."""
    import ast
    tree = ast.parse(open(os.path.join(HERE, module + ".py")).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "INSTRUMENT" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise SystemExit(f"{module}.py has no INSTRUMENT tuple")


if __name__ == "__main__":
    main()
