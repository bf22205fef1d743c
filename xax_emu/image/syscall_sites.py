"""Pack-time disassembly of an ELF member: every `syscall` instruction of its executable
segments that the PAL may rewrite into a jump to a stub (runtime_c/pal/sites.c), with the
window of whole instructions the jump replaces (docs/rewrite.md, "The site table").

A window is the `syscall` and its neighbours in one basic block, at least the five bytes
a `jmp rel32` needs, each instruction of it one the stub can run from another address as
it is (no rip-relative operand, no branch, no other system call).  A site is left alone
(it keeps trapping, or the lazy rewriter takes it) when no such window exists: a branch
whose target lies strictly inside the window (a jump into the middle of the patched
sequence would land in the jump's bytes), an `endbr64` inside it (an indirect branch's
landing pad), an address the code takes with a rip-relative `lea` inside it (a computed
branch target).  Targets no disassembly sees — jump tables' entries — are landing pads a
compiler puts at the start of a basic block, after a branch or return, and window
boundaries never cross a block start that follows one.

The number is recorded when the block sets it (`mov $NR, %eax`, `xor %eax, %eax`) and
NR_UNKNOWN otherwise; the stub does not depend on it (the PAL's generic entry reads rax
at run time and lets any call the filter may allow reach a real `syscall`).  It is there
for `inspect` and the tests.

capstone (PyPI) decodes; its `disasm_lite` keeps a sweep of glibc's text under a second.
"""
from __future__ import annotations

import bisect
import collections
import re
import struct
from dataclasses import dataclass

from .format import SITES_ENTRY, SITES_HEADER, SITES_MAGIC, SITES_NR_UNKNOWN, SITES_WINDOW_MAX

_BRANCHES = re.compile(r"^(j[a-z]+|call|ret[a-z]*|loop[a-z]*|iret[a-z]*|syscall|sysenter|int[0-9a-z]*|ud[0-9]|hlt|"
                       r"xbegin|xabort|xend|enter|leave|sysret[a-z]*|bnd.*|notrack.*)$")
_ENDS_BLOCK = re.compile(r"^(jmp|ret[a-z]*|hlt|ud[0-9]|iret[a-z]*)$")
_IMM_TARGET = re.compile(r"^0x[0-9a-f]+$")
_RIP = re.compile(r"\[rip ([+-]) (0x[0-9a-f]+)\]")
_WRITES_EAX = re.compile(r"^(?:[a-z]+ )?(rax|eax|ax|al|ah)(,|$)")
PRE_MAX = 4  # instructions before the syscall a window may take
POST_MAX = 3


@dataclass(frozen=True)
class Site:
    offset: int   # file offset of the window's first byte, in the ELF
    length: int   # bytes of the window
    syscall: int  # offset of the syscall instruction in the window
    nr: int       # the number the block sets, or SITES_NR_UNKNOWN


@dataclass
class _Insn:
    addr: int
    size: int
    mnemonic: str
    op_str: str


def _exec_segments(data: bytes, size: int | None = None) -> list[tuple[int, int, int]]:
    """(file offset, vaddr, file size) of each PT_LOAD with PF_X of a 64-bit little-endian ELF
    of `size` bytes (default: all of `data`; its program headers must lie in `data`)."""
    size = len(data) if size is None else size
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    out = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if phentsize < 56 or at + 56 > len(data):
            break
        p_type, p_flags, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", data, at)
        if p_type == 1 and p_flags & 1 and p_offset + p_filesz <= size:
            out.append((p_offset, p_vaddr, p_filesz))
    return out


def exec_ranges(head: bytes, size: int) -> list[tuple[int, int]]:
    """The file ranges [start, end) of the executable segments of an ELF of `size` bytes
    that starts with `head` (the Monitor's check of .xax/sites)."""
    return [(off, off + n) for off, _, n in _exec_segments(head, size)]


CHUNK = 1 << 16  # bytes handed to capstone at once: a resynchronization copies no more than this
AROUND = 256  # block starts are kept only this near a `0f 05` (a window, and the scan for its number, reach less far)
CONTEXT = 16  # instructions kept before a syscall, for its window and its number
# Executable segments larger than this are not swept: capstone's Python binding takes about a
# second per 1.5 MB of code, and libLLVM's 80 MB (gldemo's image, through Mesa) would add over a
# minute to a pack for its 163 sites, which its code rarely runs.  Their sites keep the lazy path.
SWEEP_MAX = 32 << 20


def _sweep(code: bytes, base: int) -> tuple[list[tuple[list[_Insn], int]], set[int]]:
    """One linear sweep of an executable segment, streamed (libLLVM's 80 MiB of code must not
    become a list of instructions): for each syscall, the instructions around it (CONTEXT
    before, POST_MAX after) with its index among them; and the block starts near a `0f 05`:
    direct branch targets, what follows an unconditional transfer, endbr64, and addresses
    taken with a rip-relative lea."""
    import capstone  # only pack disassembles: run and the Monitor never import it
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    near: list[int] = []
    at = code.find(b"\x0f\x05")
    while at >= 0:
        near.append(base + at)
        at = code.find(b"\x0f\x05", at + 1)
    starts: set[int] = set()

    def start(addr: int) -> None:
        k = bisect.bisect_left(near, addr - AROUND)
        if k < len(near) and near[k] <= addr + AROUND:
            starts.add(addr)

    view = memoryview(code)
    recent: collections.deque = collections.deque(maxlen=CONTEXT + 1)
    found: list[tuple[list[_Insn], int]] = []
    pending: list[tuple[list[_Insn], int]] = []  # syscalls still taking the instructions after them
    after_end = False
    off = 0
    while off < len(code):
        last = off
        for addr, size, mnemonic, op_str in md.disasm_lite(view[off:off + CHUNK], base + off):
            ins = _Insn(addr, size, mnemonic, op_str)
            last = addr - base + size
            if after_end:
                start(addr)
                after_end = False
            c = mnemonic[0]
            if c == "j" or mnemonic == "call" or mnemonic.startswith("loop"):
                if _IMM_TARGET.match(op_str):
                    start(int(op_str, 16))
            elif mnemonic == "lea":
                r = _RIP.search(op_str)
                if r:
                    d = int(r.group(2), 16)
                    start(addr + size + (d if r.group(1) == "+" else -d))
            elif mnemonic == "endbr64":
                start(addr)
            if _ENDS_BLOCK.match(mnemonic):
                after_end = True
            if pending:
                for g, k in pending:
                    g.append(ins)
                pending = [(g, k) for g, k in pending if len(g) - 1 - k < POST_MAX]
            recent.append(ins)
            if mnemonic == "syscall":
                g = list(recent)
                found.append((g, len(g) - 1))
                pending.append((g, len(g) - 1))
        if last == off:  # an undecodable byte: go on past it, as a new block
            off += 1
            after_end = True
            recent.clear()
        elif last - off >= CHUNK - 16 and off + CHUNK < len(code):
            off = last  # a chunk's end: decode again from the last whole instruction
        else:
            off = last  # the sweep stopped at an undecodable byte (or the end)
    return found, starts


def _movable(ins: _Insn) -> bool:
    """Runs the same from a stub: no rip-relative operand, no control transfer."""
    return not _BRANCHES.match(ins.mnemonic) and "rip" not in ins.op_str and ins.mnemonic not in ("endbr64",)


def _number(insns: list[_Insn], k: int, starts: set[int]) -> int:
    """The number the basic block of insns[k] (a syscall) puts in eax, if it does."""
    j = k - 1
    while j >= 0 and insns[j + 1].addr not in starts:
        ins = insns[j]
        if ins.addr + ins.size != insns[j + 1].addr or _BRANCHES.match(ins.mnemonic):
            break
        if ins.mnemonic == "mov" and ins.op_str.startswith("eax, ") and _IMM_TARGET.match(ins.op_str[5:]):
            value = int(ins.op_str[5:], 16)
            return value if value < SITES_NR_UNKNOWN else SITES_NR_UNKNOWN
        if ins.mnemonic == "xor" and ins.op_str in ("eax, eax", "rax, rax"):
            return 0
        if _WRITES_EAX.match(ins.op_str) and ins.mnemonic not in ("cmp", "test", "push"):
            break
        if ins.mnemonic in ("xchg", "cpuid", "rdtsc", "rdtscp", "cqo", "cdq", "cdqe", "cwde", "lodsb", "lodsd",
                            "lodsq", "lodsw", "mul", "imul", "div", "idiv", "xgetbv", "rdpid", "rdrand", "rdseed"):
            break
        j -= 1
    return SITES_NR_UNKNOWN


def _window(insns: list[_Insn], k: int, starts: set[int]) -> tuple[int, int] | None:
    """The shortest run insns[i..j] holding insns[k] (a syscall), at least 5 bytes, of
    contiguous movable instructions, no block start inside it but at its first byte."""
    best = None
    for i in range(k, max(-1, k - PRE_MAX - 1), -1):
        if i < k and (not _movable(insns[i]) or insns[i].addr + insns[i].size != insns[i + 1].addr
                      or insns[i + 1].addr in starts):
            break
        for j in range(k, min(len(insns), k + POST_MAX + 1)):
            if j > k and (not _movable(insns[j]) or insns[j - 1].addr + insns[j - 1].size != insns[j].addr
                          or insns[j].addr in starts):
                break
            length = insns[j].addr + insns[j].size - insns[i].addr
            if length > SITES_WINDOW_MAX:
                break
            if length >= 5:
                if best is None or length < best[2]:
                    best = (i, j, length)
                break
    return None if best is None else (best[0], best[1])


def find_sites(data: bytes) -> list[Site]:
    """The rewritable syscall sites of an ELF file's bytes, sorted by offset."""
    sites: list[Site] = []
    for p_offset, p_vaddr, p_filesz in _exec_segments(data):
        if p_filesz > SWEEP_MAX:
            continue
        code = data[p_offset:p_offset + p_filesz]
        if b"\x0f\x05" not in code:
            continue
        found, starts = _sweep(code, p_vaddr)
        for insns, k in found:
            w = _window(insns, k, starts)
            if w is None:
                continue
            first = insns[w[0]]
            sites.append(Site(offset=first.addr - p_vaddr + p_offset,
                              length=insns[w[1]].addr + insns[w[1]].size - first.addr,
                              syscall=insns[k].addr - first.addr, nr=_number(insns, k, starts)))
    sites.sort(key=lambda s: s.offset)
    return sites


def encode_table(entries: list[tuple[int, Site]]) -> bytes:
    """.xax/sites: the header, then one entry per (image offset of the ELF's data, site), sorted."""
    rows = sorted((base + s.offset, s) for base, s in entries)
    out = [struct.pack("<8sII", SITES_MAGIC, len(rows), 0)]
    for at, s in rows:
        out.append(struct.pack("<QBBHI", at, s.length, s.syscall, s.nr, 0))
    blob = b"".join(out)
    assert len(blob) == SITES_HEADER + SITES_ENTRY * len(rows)
    return blob


@dataclass(frozen=True)
class TableEntry:
    at: int
    length: int
    syscall: int
    nr: int


def decode_table(blob: bytes) -> list[TableEntry]:
    """The entries of a .xax/sites member; ValueError naming the first thing wrong with it."""
    if len(blob) < SITES_HEADER or blob[:8] != SITES_MAGIC:
        raise ValueError("does not start with the site table's magic")
    count, zero = struct.unpack_from("<II", blob, 8)
    if zero != 0 or len(blob) != SITES_HEADER + SITES_ENTRY * count:
        raise ValueError(f"{len(blob)} bytes do not hold the header and {count} entries")
    out, end = [], 0
    for i in range(count):
        at, length, sys_off, nr, pad = struct.unpack_from("<QBBHI", blob, SITES_HEADER + SITES_ENTRY * i)
        if pad != 0 or not 5 <= length <= SITES_WINDOW_MAX or sys_off + 2 > length:
            raise ValueError(f"entry {i}: a window of {length} bytes with its syscall at {sys_off}")
        if at < end:
            raise ValueError(f"entry {i}: not after the window before it (sorted, apart)")
        end = at + length
        out.append(TableEntry(at, length, sys_off, nr))
    return out
