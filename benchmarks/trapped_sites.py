"""Which system call sites still trap, and why (issue 15, the first way; docs/rewrite.md).

Runs an image's app under strace, which sees every SIGSYS (the kernel's si_call_addr is the
address after the trapped `syscall`) and every mmap of the image fd (protocol.IMAGE_FD: the layer maps the
image's ELF files from it, the PAL's loader the program and ld.so), so that each trapped site
is named as ELF file + offset, with the instructions before it (capstone), its system call
and how often it trapped.  Not a test: a diagnostic for RESULTS.md section 9.

    python3 benchmarks/trapped_sites.py IMAGE [--no-rewrite] [--top N] -- ARGS
"""
from __future__ import annotations

import argparse
import bisect
import collections
import io
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from xax_emu.image.tarread import TarReader  # noqa: E402
from xax_emu.protocol import IMAGE_FD  # noqa: E402  (where the picoprocess holds its image)
_MMAP = re.compile(r"^(\d+)\s+mmap\((0x[0-9a-f]+|NULL), (\d+), [^,]+, [^,]+, (-?\d+), (0x[0-9a-f]+|0)\) = (0x[0-9a-f]+)")
_SIGSYS = re.compile(r"^(\d+)\s+--- SIGSYS \{.*si_call_addr=(0x[0-9a-f]+), si_syscall=__NR_(\w+)")


def trace(image: str, args: list[str], rewrite: bool, stdin: bytes) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "strace.log"
        cmd = [sys.executable, "-m", "xax_emu", "run", *([] if rewrite else ["--no-rewrite"]), image, "--", *args]
        subprocess.run(["strace", "-f", "-qq", "-e", "trace=mmap", "-e", "signal=SIGSYS", "-o", str(log), *cmd],
                       input=stdin, capture_output=True, timeout=600, check=False)
        return log.read_text().splitlines()


def sites(lines: list[str]) -> collections.Counter:
    """(pid, address after the syscall, name, image offset of it or None) -> traps."""
    maps: dict[str, list[tuple[int, int, int]]] = collections.defaultdict(list)  # pid -> (addr, len, image off)
    out: collections.Counter = collections.Counter()
    for line in lines:
        m = _MMAP.match(line)
        if m and int(m.group(4)) == IMAGE_FD and not m.group(6).startswith("-"):
            maps[m.group(1)].append((int(m.group(6), 16), int(m.group(3)), int(m.group(5), 16)))
            continue
        s = _SIGSYS.match(line)
        if s:
            at = int(s.group(2), 16)
            where = None
            for addr, length, off in reversed(maps[s.group(1)]):
                if addr <= at - 2 < addr + length:
                    where = off + (at - 2 - addr)
                    break
            out[(s.group(1), at, s.group(3), where)] += 1
    return out


def describe(image: bytes, counts: collections.Counter, top: int) -> list[str]:
    import capstone
    members = sorted((m.data_offset, m) for m in TarReader(io.BytesIO(image), len(image)).members() if m.type == "file")
    starts = [a for a, _ in members]
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    by_site: collections.Counter = collections.Counter()
    for (_, _, name, where), n in counts.items():
        by_site[(name, where)] += n
    rows = []
    for (name, where), n in by_site.most_common(top):
        if where is None:
            rows.append(f"{n:6}  {name:<18} (outside the image's mappings: a stub's real syscall, which the filter "
                        "trapped, or the runtime's)")
            continue
        k = bisect.bisect_right(starts, where) - 1
        m = members[k][1]
        off = where - m.data_offset
        before = image[where - 16:where + 2]
        # the instructions that end exactly at the syscall, from the longest decodable lead-in
        text = ""
        for lead in range(16, 1, -1):
            ins = list(md.disasm_lite(before[16 - lead:], 0))
            if ins and sum(i[1] for i in ins) == lead + 2 and ins[-1][2] == "syscall":
                text = "; ".join(f"{i[2]} {i[3]}".strip() for i in ins[-4:])
                break
        rows.append(f"{n:6}  {name:<18} {m.name}+{off:#x} (5 bytes before it at +{(where - 5) % 16} of a 16-byte block): {text}")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image")
    ap.add_argument("--no-rewrite", action="store_true")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--stdin", help="a file given to the program as its stdin")
    ap.add_argument("args", nargs="*")
    o = ap.parse_args()
    stdin = Path(o.stdin).read_bytes() if o.stdin else b""
    counts = sites(trace(o.image, o.args, not o.no_rewrite, stdin))
    print(f"{sum(counts.values())} trapped calls at {len({(k[1], k[3]) for k in counts})} sites")
    print("\n".join(describe(Path(o.image).read_bytes(), counts, o.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
