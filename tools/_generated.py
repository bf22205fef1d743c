"""What every generator in tools/ does with its output: write it, or with --check
report whether the committed file is current."""
from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(out: Path, text: str, root: Path, tool: str) -> int:
    if "--check" in sys.argv[1:]:
        if not out.exists() or out.read_text() != text:
            print(f"{out.relative_to(root)} is stale: run python3 tools/{tool}", file=sys.stderr)
            return 1
        return 0
    out.write_text(text)
    return 0
