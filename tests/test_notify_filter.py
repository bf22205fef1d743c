"""The kernel-counting filter of trace mode, run by test_seal's BPF interpreter: it
notifies exactly the allowlisted system calls, allows every other one, and stacked
in front of the seal (the kernel takes the most restrictive answer of all filters)
it changes no decision of the seal but "allow" into "ask the Monitor first"."""
import subprocess

from hypothesis import given, settings, strategies as st

from xax_emu.seal import (allowed_names, filter_bpf, notified_numbers, notify_filter_bpf, notify_filter_pfc,
                          syscall_number)
from xax_emu.seal.notify import IOCTL_NOTIF_RECV, IOCTL_NOTIF_SEND, ffi

from test_seal import (ALLOW, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, BPF_ABS, BPF_K, BPF_LD, BPF_RET, BPF_W, KILL_PROCESS,
                       TRAP, U64, X32_SYSCALL_BIT, decode, decide, run_bpf, seccomp_data)

USER_NOTIF = 0x7FC00000
NOTIFY = decode(notify_filter_bpf())
ALLOWED_NRS = {syscall_number(name) for name in allowed_names()}

# <linux/seccomp.h>: the kernel runs every filter and keeps the action that comes first here.
PRECEDENCE = [KILL_PROCESS, 0x00000000, TRAP, 0x00050000, USER_NOTIF, 0x7FF00000, 0x7FFC0000, ALLOW]


def notify_decides(nr: int, args=(0,) * 6, arch: int = AUDIT_ARCH_X86_64, ip: int = 0) -> int:
    return run_bpf(NOTIFY, seccomp_data(nr, args, arch, ip))


def stacked(nr: int, args, arch: int = AUDIT_ARCH_X86_64, ip: int = 0) -> int:
    actions = (decide(nr, args, arch, ip), notify_decides(nr, args, arch, ip))
    return min(actions, key=PRECEDENCE.index)


def test_the_notified_set_is_the_allowlist():
    assert notified_numbers() == ALLOWED_NRS and len(ALLOWED_NRS) == len(allowed_names())


def test_every_number_notifies_iff_allowlisted():
    for nr in range(1024):
        for args in ((0,) * 6, (3, 0, 0, 0x22, 0, 0), (U64,) * 6):
            assert notify_decides(nr, args) == (USER_NOTIF if nr in ALLOWED_NRS else ALLOW), nr


def test_other_arches_are_killed_by_the_notify_filter_too():
    for nr in [*ALLOWED_NRS, 2, 59, 1023]:
        assert notify_decides(nr, arch=AUDIT_ARCH_I386) == KILL_PROCESS


def test_notify_filter_never_loads_the_instruction_pointer_or_arguments():
    loads = {k for code, _, _, k in NOTIFY if code == BPF_LD | BPF_W | BPF_ABS}
    assert loads <= {0, 4}
    assert {k for code, _, _, k in NOTIFY if code == BPF_RET | BPF_K} == {USER_NOTIF, ALLOW, KILL_PROCESS}


@settings(max_examples=3000, deadline=None)
@given(nr=st.one_of(st.sampled_from(sorted(ALLOWED_NRS)), st.integers(0, 1023), st.integers(-(1 << 31), (1 << 31) - 1),
                    st.integers(0, X32_SYSCALL_BIT - 1).map(lambda n: n | X32_SYSCALL_BIT)),
       arch=st.sampled_from([AUDIT_ARCH_X86_64, AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, 0]),
       args=st.tuples(*[st.sampled_from([0, 1, 3, 4, 0x22, 0x3, 0x1002, 1 << 32, U64]) | st.integers(0, U64)] * 6),
       ip=st.integers(0, U64))
def test_stacked_filters_never_widen_the_seal(nr, arch, args, ip):
    """What the seal kills or traps stays killed or trapped; only what it allows is
    turned into a notification (which the Monitor answers with CONTINUE: allowed)."""
    seal = decide(nr, args, arch, ip)
    assert stacked(nr, args, arch, ip) == (USER_NOTIF if seal == ALLOW else seal)


def test_notify_filter_is_small_and_readable():
    assert 0 < len(NOTIFY) <= 64 and len(NOTIFY) * 8 == len(notify_filter_bpf())
    pfc = notify_filter_pfc()
    assert pfc.count("action 0x7fc00000;") == len(ALLOWED_NRS) and "default action\n  action ALLOW;" in pfc
    assert notify_filter_bpf() != filter_bpf()


def test_ioctl_numbers_and_structures_match_the_kernel_headers(tmp_path):
    """The binding's structure sizes and ioctl numbers, against <linux/seccomp.h> compiled by gcc."""
    src = tmp_path / "sizes.c"
    src.write_text("#include <sys/ioctl.h>\n#include <linux/seccomp.h>\n#include <stdio.h>\n#include <stddef.h>\n"
                   "int main(void) {\n"
                   "printf(\"%lu %lu %zu %zu %zu\\n\", (unsigned long)SECCOMP_IOCTL_NOTIF_RECV,\n"
                   "(unsigned long)SECCOMP_IOCTL_NOTIF_SEND, sizeof(struct seccomp_notif),\n"
                   "sizeof(struct seccomp_notif_resp), offsetof(struct seccomp_notif, data));\n"
                   "return 0; }\n")
    subprocess.run(["gcc", "-o", str(tmp_path / "sizes"), str(src)], check=True)
    recv, send, notif, resp, data = map(int, subprocess.run([str(tmp_path / "sizes")], capture_output=True,
                                                             check=True).stdout.split())
    assert (IOCTL_NOTIF_RECV, IOCTL_NOTIF_SEND) == (recv, send)
    assert (ffi.sizeof("struct seccomp_notif"), ffi.sizeof("struct seccomp_notif_resp")) == (notif, resp)
    assert ffi.offsetof("struct seccomp_notif", "data") == data
