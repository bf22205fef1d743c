"""The seccomp filter, run by a classic-BPF interpreter on constructed
struct seccomp_data: every allowlist entry allows exactly what Entry.allows()
says, everything else traps, other ABIs are killed, and the instruction pointer
never matters."""
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings, strategies as st

from xax_emu.seal import ALLOWLIST, Entry, filter_bpf, syscall_number
from xax_emu.seal.allowlist import CLONE_DETACHED, THREAD_CLONE_FLAGS, allowlist_for
from xax_emu.protocol import IMAGE_FD
from xax_emu.seal.allowlist import CHANNEL_FD, LOW32, MADV_HARMLESS, MMAP_HARMLESS_FLAGS

from conftest import load_tool

ROOT = Path(__file__).resolve().parent.parent

ALLOW, TRAP, KILL_PROCESS = 0x7FFF0000, 0x00030000, 0x80000000
AUDIT_ARCH_X86_64, AUDIT_ARCH_I386 = 0xC000003E, 0x40000003
X32_SYSCALL_BIT = 0x40000000
U64 = (1 << 64) - 1


# -- a classic BPF interpreter (linux/filter.h), strict about what it accepts ---------

class BpfError(Exception):
    pass


BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_RET, BPF_MISC = range(8)
BPF_W, BPF_ABS, BPF_IMM, BPF_MEM = 0x00, 0x20, 0x00, 0x60
BPF_K, BPF_X, BPF_A = 0x00, 0x08, 0x10
BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET = 0x00, 0x10, 0x20, 0x30, 0x40
BPF_ADD, BPF_SUB, BPF_AND, BPF_OR, BPF_LSH, BPF_RSH = 0x00, 0x10, 0x50, 0x40, 0x60, 0x70
BPF_TAX, BPF_TXA = 0x00, 0x80
ALU_OPS = (BPF_ADD, BPF_SUB, BPF_AND, BPF_OR, BPF_LSH, BPF_RSH)
JMP_OPS = (BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET)
SECCOMP_DATA_SIZE = 64
BPF_MEMWORDS = 16
M32 = 0xFFFF_FFFF


def decode(bpf: bytes) -> list[tuple[int, int, int, int]]:
    if len(bpf) % 8 or not 0 < len(bpf) // 8 <= 4096:
        raise BpfError(f"filter of {len(bpf)} bytes is not 1..4096 instructions")
    return [struct.unpack_from("<HBBI", bpf, i) for i in range(0, len(bpf), 8)]


def run_bpf(prog, data: bytes) -> int:
    """Run a seccomp filter on `data` (struct seccomp_data) and return its action."""
    assert len(data) == SECCOMP_DATA_SIZE
    a = x = 0
    mem = [0] * BPF_MEMWORDS
    pc = 0
    for _ in range(len(prog) + 1):  # classic BPF only jumps forward
        if not 0 <= pc < len(prog):
            raise BpfError(f"pc {pc} outside the program")
        code, jt, jf, k = prog[pc]
        pc += 1
        cls = code & 0x07
        if code == BPF_LD | BPF_W | BPF_ABS:
            if k % 4 or k + 4 > SECCOMP_DATA_SIZE:
                raise BpfError(f"load of offset {k}")
            a = struct.unpack_from("<I", data, k)[0]
        elif code == BPF_LD | BPF_IMM:
            a = k
        elif code == BPF_LDX | BPF_IMM:
            x = k
        elif code == BPF_LD | BPF_MEM:
            if k >= BPF_MEMWORDS:
                raise BpfError(f"scratch word {k}")
            a = mem[k]
        elif code == BPF_LDX | BPF_MEM:
            if k >= BPF_MEMWORDS:
                raise BpfError(f"scratch word {k}")
            x = mem[k]
        elif code in (BPF_ST, BPF_STX):
            if k >= BPF_MEMWORDS:
                raise BpfError(f"scratch word {k}")
            mem[k] = a if code == BPF_ST else x
        elif cls == BPF_ALU and code & ~0xF0 == BPF_ALU | BPF_K and code & 0xF0 in ALU_OPS:
            op = code & 0xF0
            if op == BPF_ADD:
                a = (a + k) & M32
            elif op == BPF_SUB:
                a = (a - k) & M32
            elif op == BPF_AND:
                a &= k
            elif op == BPF_OR:
                a |= k
            elif op == BPF_LSH:
                a = (a << k) & M32 if k < 32 else 0
            else:
                a = a >> k if k < 32 else 0
        elif code == BPF_JMP | BPF_JA:
            pc += k
        elif cls == BPF_JMP and code & ~0xF0 == BPF_JMP | BPF_K and code & 0xF0 in JMP_OPS:
            taken = {BPF_JEQ: a == k, BPF_JGT: a > k, BPF_JGE: a >= k, BPF_JSET: bool(a & k)}[code & 0xF0]
            pc += jt if taken else jf
        elif code == BPF_MISC | BPF_TAX:
            x = a
        elif code == BPF_MISC | BPF_TXA:
            a = x
        elif code == BPF_RET | BPF_K:
            return k
        elif code == BPF_RET | BPF_A:
            return a
        else:
            raise BpfError(f"unknown opcode 0x{code:02x} at {pc - 1}")
    raise BpfError("the program did not return")


def seccomp_data(nr: int, args=(0,) * 6, arch: int = AUDIT_ARCH_X86_64, ip: int = 0) -> bytes:
    return struct.pack("<IIQ6Q", nr & M32, arch, ip & U64, *(a & U64 for a in args))


PROG = decode(filter_bpf())


def decide(nr: int, args=(0,) * 6, arch: int = AUDIT_ARCH_X86_64, ip: int = 0) -> int:
    return run_bpf(PROG, seccomp_data(nr, args, arch, ip))


# -- the interpreter itself ---------------------------------------------------------

def test_interpreter_runs_known_programs():
    def ins(code, k=0, jt=0, jf=0):
        return struct.pack("<HBBI", code, jt, jf, k)

    # nr == 7 ? (args[0].lo & 0xf0) | 1 : 5, with the scratch memory and X in the path
    prog = decode(ins(0x20, 0) + ins(0x15, 7, 0, 8) + ins(0x20, 16) + ins(0x54, 0xF0) + ins(0x44, 1)
                  + ins(0x02, 3) + ins(0x00, 0) + ins(0x61, 3) + ins(0x87) + ins(0x16) + ins(0x06, 5))
    assert run_bpf(prog, seccomp_data(7, (0x1234,) + (0,) * 5)) == 0x31
    assert run_bpf(prog, seccomp_data(8, (0x1234,) + (0,) * 5)) == 5
    jgt = decode(ins(0x20, 0) + ins(0x25, 10, 0, 1) + ins(0x06, 1) + ins(0x45, 3, 0, 1) + ins(0x06, 2)
                 + ins(0x06, 3))
    assert [run_bpf(jgt, seccomp_data(n)) for n in (11, 10, 2, 4)] == [1, 2, 2, 3]
    with pytest.raises(BpfError):
        run_bpf(decode(ins(0x28, 0) + ins(0x06, 0)), seccomp_data(0))  # BPF_H: not known here
    with pytest.raises(BpfError):
        run_bpf(decode(ins(0x20, 62) + ins(0x06, 0)), seccomp_data(0))
    with pytest.raises(BpfError):
        run_bpf(decode(ins(0x20, 0)), seccomp_data(0))


def test_seccomp_data_layout():
    d = seccomp_data(0x11, tuple(range(1, 7)), arch=0x22, ip=0x33)
    assert struct.unpack_from("<i", d, 0)[0] == 0x11
    assert struct.unpack_from("<I", d, 4)[0] == 0x22
    assert struct.unpack_from("<Q", d, 8)[0] == 0x33
    assert struct.unpack_from("<Q", d, 16 + 8 * 5)[0] == 6


# -- the filter ----------------------------------------------------------------------

ENTRY_NRS = {e.syscall: syscall_number(e.syscall) for e in ALLOWLIST}


def test_syscall_numbers_come_from_libseccomp():
    # Sanity of the source of numbers, not of the filter: well-known x86-64 numbers.
    assert syscall_number("read") == 0 and syscall_number("write") == 1
    assert len(set(ENTRY_NRS.values())) == len(ALLOWLIST)
    assert sorted(e.syscall for e in ALLOWLIST) == sorted(set(e.syscall for e in ALLOWLIST))


def test_filter_uses_only_what_the_interpreter_knows():
    for nr in [*ENTRY_NRS.values(), 500, -1]:
        decide(nr)


def interesting(e: Entry) -> list[int]:
    """Argument values near the checks of an entry: each value, with bits flipped
    inside and outside the mask, and in the high half."""
    vals = {0, 1, 3, 4, CHANNEL_FD, LOW32, U64, 1 << 32, (1 << 32) | CHANNEL_FD, 1 << 63, 0x7FFF_FFFF, 0x8000_0000}
    for form in e.forms:
        for c in form:
            vals |= {c.value, c.value | (1 << 32), c.value | (1 << 63), c.value ^ 1, c.value | ~c.mask & U64,
                     c.value | (c.mask & -c.mask & U64) if c.mask else c.value}
            for bit in range(64):
                vals.add(c.value ^ (1 << bit))
    vals |= set(MADV_HARMLESS.values()) | {MMAP_HARMLESS_FLAGS | 0x22, 0x22, 0x21, 0x01, 0x7}
    return sorted(v & U64 for v in vals)


def args_for(e: Entry):
    one = st.one_of(st.integers(0, U64), st.sampled_from(interesting(e)),
                    st.integers(0, LOW32), st.integers(-(1 << 31), -1).map(lambda v: v & U64))
    return st.tuples(*[one] * 6)


@pytest.mark.parametrize("name", [e.syscall for e in ALLOWLIST])
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_filter_matches_the_allowlist(name, data):
    e = next(e for e in ALLOWLIST if e.syscall == name)
    args = data.draw(args_for(e))
    ip = data.draw(st.integers(0, U64))
    expected = ALLOW if e.allows(args) else TRAP
    assert decide(ENTRY_NRS[name], args, ip=ip) == expected
    assert decide(ENTRY_NRS[name], args, ip=0) == expected


@pytest.mark.parametrize("name", [e.syscall for e in ALLOWLIST])
def test_each_entry_allows_its_forms_and_traps_just_outside(name):
    """Deterministic corner cases for every entry: each form's own values allow;
    flipping any one bit of a checked argument allows exactly when Entry.allows says so
    (inside the mask: traps unless another form allows; outside: still allowed)."""
    e = next(e for e in ALLOWLIST if e.syscall == name)
    nr = ENTRY_NRS[name]
    for form in e.forms:
        args = [0] * 6
        for c in form:
            args[c.index] = c.value
        assert e.allows(tuple(args))
        assert decide(nr, args) == ALLOW
        for c in form:
            for bit in range(64):
                flipped = list(args)
                flipped[c.index] ^= 1 << bit
                assert decide(nr, flipped) == (ALLOW if e.allows(tuple(flipped)) else TRAP), (name, c, bit)
    if all(not form for form in e.forms):  # unconditional entries allow anything
        assert decide(nr, (U64,) * 6) == ALLOW


def test_read_and_write_only_on_the_channel():
    for name in ("read", "write"):
        nr = syscall_number(name)
        assert decide(nr, (CHANNEL_FD, 0, 10, 0, 0, 0)) == ALLOW
        assert decide(nr, ((1 << 32) | CHANNEL_FD, 0, 10, 0, 0, 0)) == ALLOW  # the kernel truncates the int fd
        for fd in (0, 1, 2, 4, -1, CHANNEL_FD | 0x100):
            assert decide(nr, (fd, 0, 10, 0, 0, 0)) == TRAP


def test_mmap_only_private_anonymous():
    nr = syscall_number("mmap")
    rw, priv_anon = 0x3, 0x22
    assert decide(nr, (0, 4096, rw, priv_anon, -1, 0)) == ALLOW
    assert decide(nr, (0, 4096, rw | 0x4, priv_anon | 0x10, 5, 0)) == ALLOW
    for prot, flags in ((rw, 0x21), (rw, 0x02), (rw, 0x20), (rw, 0x23), (rw | 0x8, priv_anon),
                        (rw | (1 << 32), priv_anon), (rw, priv_anon | (1 << 32)), (rw, priv_anon | 0x40000),
                        (rw, priv_anon | 0x2000), (rw, 0x03 | 0x20)):
        assert decide(nr, (0, 4096, prot, flags, 3, 0)) == TRAP, (hex(prot), hex(flags))


def test_mmap_of_the_image_fd_only_private():
    """The image fd may be mapped privately, with placement flags only; never shared,
    never with other flags or prot bits; no other fd but through MAP_ANONYMOUS."""
    nr = syscall_number("mmap")
    r, rw, rx, private = 0x1, 0x3, 0x5, 0x02
    for prot in (r, rw, rx, 0x7, 0):
        for flags in (private, private | 0x10, private | 0x100000, private | 0x4000, private | 0x8000):
            assert decide(nr, (0, 4096, prot, flags, IMAGE_FD, 4096)) == ALLOW, (prot, hex(flags))
    assert decide(nr, (0, 4096, r, private, IMAGE_FD | (0xdead << 32), 0)) == ALLOW  # the kernel truncates the int
    for prot, flags, fd in ((r, 0x01, IMAGE_FD), (rw, 0x01, IMAGE_FD), (r, 0x03, IMAGE_FD),  # shared, validate
                            (r, private | 0x0100, IMAGE_FD), (r, private | 0x20000, IMAGE_FD),  # growsdown, stack
                            (r, private | 0x40, IMAGE_FD), (r, private | 0x2000, IMAGE_FD),  # 32bit, locked
                            (r, private | 0x40000, IMAGE_FD), (r, private | (1 << 32), IMAGE_FD),  # hugetlb, junk
                            (r | 0x8, private, IMAGE_FD), (r | (1 << 32), private, IMAGE_FD),  # prot junk
                            (r, private, IMAGE_FD - 1), (r, private, IMAGE_FD + 1), (r, private, CHANNEL_FD),
                            (r, private, IMAGE_FD | 0x1000), (r, 0x00, IMAGE_FD)):
        assert decide(nr, (0, 4096, prot, flags, fd, 0)) == TRAP, (hex(prot), hex(flags), fd)


@settings(max_examples=300, deadline=None)
@given(nr=st.integers(-(1 << 31), (1 << 31) - 1), args=st.tuples(*[st.integers(0, U64)] * 6),
       ip=st.integers(0, U64))
def test_other_arches_are_killed_for_every_nr(nr, args, ip):
    for arch in (AUDIT_ARCH_I386, 0, 0x40000028, 0xC00000B7, AUDIT_ARCH_X86_64 ^ 1, AUDIT_ARCH_X86_64 | (1 << 31)):
        if arch == AUDIT_ARCH_X86_64:
            continue
        assert decide(nr, args, arch=arch, ip=ip) == KILL_PROCESS


def test_i386_numbers_of_allowed_calls_are_killed():
    for nr in [*ENTRY_NRS.values(), 0, 1, 3, 4, 11, 102, 252]:
        assert decide(nr, (CHANNEL_FD, 0, 0, 0x22, 0, 0), arch=AUDIT_ARCH_I386) == KILL_PROCESS


@settings(max_examples=300, deadline=None)
@given(low=st.integers(0, X32_SYSCALL_BIT - 1), top=st.booleans(), args=st.tuples(*[st.integers(0, U64)] * 6))
def test_x32_numbers_are_killed(low, top, args):
    nr = X32_SYSCALL_BIT | low | (0x8000_0000 if top else 0)
    assume(nr != 0xFFFF_FFFF)  # -1: see test_nr_minus_one_traps
    assert decide(nr, args) == KILL_PROCESS


def test_x32_numbers_of_allowed_calls_are_killed():
    for nr in ENTRY_NRS.values():
        assert decide(nr | X32_SYSCALL_BIT, (CHANNEL_FD, 0, 0x3, 0x22, 0, 0)) == KILL_PROCESS
        assert decide(nr + 512 | X32_SYSCALL_BIT, (CHANNEL_FD,) + (0,) * 5) == KILL_PROCESS


def test_nr_minus_one_traps():
    for args in ((0,) * 6, (CHANNEL_FD,) * 6, (U64,) * 6):
        assert decide(-1, args) == TRAP


def test_high_numbers_that_are_not_x32_trap_or_kill():
    # Above the x32 bit, no number ever reaches ALLOW.
    for nr in (0x7FFF_FFFF, -2, -(1 << 31), X32_SYSCALL_BIT | 1, 0x8000_0000 | ENTRY_NRS["read"]):
        assert decide(nr, (CHANNEL_FD,) + (0,) * 5) in (TRAP, KILL_PROCESS)


NOT_ALLOWED = ["open", "openat", "socket", "connect", "execve", "execveat", "clone3", "fork", "vfork",
               "tkill", "ptrace", "ioctl", "mremap", "pkey_mprotect", "prctl", "seccomp", "bpf",
               "process_vm_writev", "process_vm_readv", "rt_sigprocmask", "sigaltstack",
               "close", "dup", "dup2", "pread64", "pwrite64", "readv", "writev", "sendmsg", "recvmsg",
               "io_uring_setup", "io_uring_enter", "userfaultfd", "perf_event_open", "memfd_create",
               "shmget", "mbind", "set_mempolicy", "getpid", "uname", "nanosleep", "clock_settime",
               "clock_nanosleep", "gettimeofday", "time", "brk", "rseq", "set_tid_address", "personality",
               "modify_ldt", "iopl", "ioperm", "vmsplice", "splice", "tee", "fcntl", "restart_syscall"]


@pytest.mark.parametrize("name", NOT_ALLOWED)
@settings(max_examples=40, deadline=None)
@given(args=st.tuples(*[st.sampled_from([0, CHANNEL_FD, 1, U64, 0x22, 0x3, 1 << 32]) | st.integers(0, U64)] * 6),
       ip=st.integers(0, U64))
def test_syscalls_not_on_the_list_trap_for_all_args(name, args, ip):
    assert name not in ENTRY_NRS
    assert decide(syscall_number(name), args, ip=ip) == TRAP


NO_THREADS_PROG = decode(filter_bpf(threads=False))


@settings(max_examples=300, deadline=None)
@given(args=st.tuples(st.sampled_from([THREAD_CLONE_FLAGS, THREAD_CLONE_FLAGS | CLONE_DETACHED]) | st.integers(0, U64),
                      *[st.integers(0, U64)] * 5))
def test_without_threads_clone_traps_for_all_args(args):
    """A picoprocess limited to one thread gets a filter with no clone entry at all."""
    assert run_bpf(NO_THREADS_PROG, seccomp_data(syscall_number("clone"), args, AUDIT_ARCH_X86_64, 0)) == TRAP
    assert "clone" not in {e.syscall for e in allowlist_for(threads=False)}


@settings(max_examples=300, deadline=None)
@given(nr=st.integers(0, 1023), args=st.tuples(*[st.integers(0, U64)] * 6))
def test_unlisted_numbers_trap(nr, args):
    assume(nr not in ENTRY_NRS.values())
    assert decide(nr, args) == TRAP


@settings(max_examples=500, deadline=None)
@given(nr=st.one_of(st.sampled_from(sorted(ENTRY_NRS.values())), st.integers(-(1 << 31), (1 << 31) - 1)),
       arch=st.sampled_from([AUDIT_ARCH_X86_64, AUDIT_ARCH_I386]),
       args=st.tuples(*[st.sampled_from([0, 1, 2, 3, 0x22, 0x3, 1 << 32, U64]) | st.integers(0, U64)] * 6),
       ip1=st.integers(0, U64), ip2=st.integers(0, U64))
def test_instruction_pointer_never_changes_the_result(nr, arch, args, ip1, ip2):
    assert decide(nr, args, arch, ip1) == decide(nr, args, arch, ip2)


def test_filter_never_loads_the_instruction_pointer():
    loads = {k for code, _, _, k in PROG if code == BPF_LD | BPF_W | BPF_ABS}
    assert not loads & {8, 12}, "the filter reads instruction_pointer"
    assert loads <= {0, 4} | set(range(16, 64, 4))


def test_default_is_trap_and_allow_only_listed():
    actions = {k for code, _, _, k in PROG if code == BPF_RET | BPF_K}
    assert actions == {ALLOW, TRAP, KILL_PROCESS}


# -- the generated protocol header ----------------------------------------------------

def _gen_protocol():
    return load_tool("gen_protocol")


def test_protocol_header_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_protocol.py"), "--check"], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()


def test_protocol_check_detects_a_stale_header(tmp_path, monkeypatch):
    gen = _gen_protocol()
    stale = tmp_path / "xax_protocol.h"
    stale.write_text(gen.render().replace("#define XAX_MAX_PAYLOAD", "#define XAX_MAX_PAYLOAD 1 //"))
    monkeypatch.setattr(gen, "OUT", stale)
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    monkeypatch.setattr(sys, "argv", ["gen_protocol.py", "--check"])
    assert gen.main() == 1
    stale.unlink()
    assert gen.main() == 1
    stale.write_text(gen.render())
    assert gen.main() == 0


def test_protocol_header_carries_the_python_constants():
    from xax_emu import protocol as p
    text = (ROOT / "runtime_c" / "include" / "xax_protocol.h").read_text()
    assert f"#define XAX_MAX_PAYLOAD {p.MAX_PAYLOAD}\n" in text
    assert f"#define XAX_HEADER_SIZE {p.HEADER_SIZE}\n" in text
    for name, number, _, _ in p.MESSAGES:
        assert f"#define XAX_MSG_{name} {number} " in text


EXPORT_PROG = decode(filter_bpf(export_ram=True))


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from([0, 1, 5, 255, 0x100, 0x105, 0x1FF, 0xFFFF_FEFF, (0xBEEF << 32) | 0x105,
                               (0xBEEF << 32) | 5]) | st.integers(0, U64), ip=st.integers(0, U64))
def test_under_export_ram_exit_group_is_allowed_only_with_bit_8(status, ip):
    """run --export-ram: exit_group with bit 8 of its int status set (the runtime's own exits) reaches
    the kernel; without it (a program's own) it traps, so the layer can export first.  Everything else
    decides as in the default filter; without --export-ram exit_group is allowed for any status."""
    nr = syscall_number("exit_group")
    want = ALLOW if status & 0x100 else TRAP
    assert run_bpf(EXPORT_PROG, seccomp_data(nr, (status,) + (0,) * 5, AUDIT_ARCH_X86_64, ip)) == want
    assert decide(nr, (status,) + (0,) * 5, ip=ip) == ALLOW
    assert EXPORT_PROG != PROG and len(EXPORT_PROG) > 0
    for name in ("read", "mmap", "exit", "getpid"):
        args = (CHANNEL_FD, 0, 0, 0, 0, 0)
        assert run_bpf(EXPORT_PROG, seccomp_data(syscall_number(name), args)) == decide(syscall_number(name), args)
