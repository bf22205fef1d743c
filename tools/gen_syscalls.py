#!/usr/bin/env python3
"""Generate xax_emu/syscalls/_x86_64.py, the x86-64 syscall catalogue, from the kernel's headers.

Numbers and names come from <asm/unistd_64.h> (Debian's linux-libc-dev); argument
names and C types from the kernel's include/linux/syscalls.h (Debian's
linux-headers-*-common).  A handful of calls are defined only in the kernel's
arch/x86 sources, not in any header: ARCH_PROTOTYPES gives their arguments
(never their numbers).  Calls the kernel lists but does not implement
(sys_ni_syscall) get no arguments and `implemented=False`.

Usage: python3 tools/gen_syscalls.py [--check] [--unistd PATH] [--syscalls-h PATH]
"""
from __future__ import annotations

import argparse
import glob
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "xax_emu" / "syscalls" / "_x86_64.py"
UNISTD = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
SYSCALLS_H_GLOB = "/usr/src/linux-headers-*-common/include/linux/syscalls.h"

# Defined with SYSCALL_DEFINE in arch/x86 or fs sources, absent from syscalls.h.
ARCH_PROTOTYPES = {
    "mmap": "unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags, "
            "unsigned long fd, unsigned long off",
    "rt_sigreturn": "void",
    "modify_ldt": "int func, void __user *ptr, unsigned long bytecount",
    "arch_prctl": "int option, unsigned long arg2",
    "iopl": "unsigned int level",
    "set_thread_area": "struct user_desc __user *u_info",
    "get_thread_area": "struct user_desc __user *u_info",
}
# Table entries that reach another name's implementation.
ALIASES = {"umount2": "umount"}
# In the x86-64 table, but sys_ni_syscall: Linux itself answers -ENOSYS.
NOT_IMPLEMENTED = {"_sysctl", "create_module", "get_kernel_syms", "query_module", "nfsservctl", "getpmsg",
                   "putpmsg", "afs_syscall", "tuxcall", "security", "epoll_ctl_old", "epoll_wait_old", "vserver"}

INT32 = {"int", "unsigned int", "unsigned", "u32", "__u32", "s32", "pid_t", "uid_t", "gid_t", "old_uid_t",
         "old_gid_t", "clockid_t", "timer_t", "mqd_t", "qid_t", "umode_t", "key_serial_t", "rwf_t", "key_t",
         "__s32", "unsigned short", "short", "u16", "char", "unsigned char"}
FD_NAME = re.compile(r"^(fd|dfd|\w+fd|fd_\w+|fd\d)$")
PATH_NAME = re.compile(r"(name|path|file|dir|special|library)")


def kind_of(ctype: str, name: str) -> str:
    """One word for what an argument is, as the layer and `trace` care about it."""
    t = " ".join(ctype.replace("__user", "").split())
    if "*" in t:
        if t.count("*") == 1 and t.replace("const ", "").startswith("char"):
            if PATH_NAME.search(name):
                return "path"
            return "str" if t.startswith("const") else "ptr"  # a string in, or a buffer out
        return "ptr"
    if FD_NAME.match(name) and t in INT32 | {"unsigned long", "long"}:
        return "fd"
    return "int" if t in INT32 else "long"


TYPE_WORDS = {"int", "long", "short", "char", "unsigned", "signed", "void"}
# Socket calls are declared without parameter names; their first argument is the socket.
UNNAMED_FIRST_FD = {"bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername", "sendto",
                    "recvfrom", "setsockopt", "getsockopt", "shutdown", "sendmsg", "recvmsg", "sendmmsg",
                    "recvmmsg"}


def _normal_type(t: str) -> str:
    return " ".join(t.replace("*", " * ").split()).replace(" *", "*").replace("*", " *").strip()


def split_params(name: str, params: str) -> list[tuple[str, str]]:
    params = " ".join(params.split())
    if params in ("void", ""):
        return []
    out = []
    for i, p in enumerate(params.split(",")):
        p = p.strip()
        last = p.split()[-1]
        if p.endswith("*") or last in TYPE_WORDS or last.endswith("_t") or len(p.split()) == 1:
            pname = "fd" if i == 0 and name in UNNAMED_FIRST_FD else f"arg{i}"
            out.append((_normal_type(p), pname))
            continue
        m = re.match(r"^(.*?)([A-Za-z_]\w*)$", p)
        if not m or not m.group(1).strip():
            raise SystemExit(f"cannot parse parameter {p!r} of {name}")
        out.append((_normal_type(m.group(1)), m.group(2)))
    return out


def parse(unistd: str, syscalls_h: str) -> list[tuple[int, str, bool, list[tuple[str, str, str]]]]:
    numbers = [(int(m.group(2)), m.group(1))
               for m in re.finditer(r"^#define __NR_(\w+)\s+(\d+)\s*$", Path(unistd).read_text(), re.M)]
    text = Path(syscalls_h).read_text()
    protos = {m.group(1): m.group(2) for m in re.finditer(r"asmlinkage long sys_(\w+)\(([^)]*)\)", text)}
    protos.update(ARCH_PROTOTYPES)
    table = []
    for nr, name in sorted(numbers):
        if name in NOT_IMPLEMENTED:
            table.append((nr, name, False, []))
            continue
        proto = protos.get(ALIASES.get(name, name))
        if proto is None:
            raise SystemExit(f"no prototype for {name} ({nr}): add it to ARCH_PROTOTYPES or NOT_IMPLEMENTED")
        args = [(ctype, pname, kind_of(ctype, pname)) for ctype, pname in split_params(name, proto)]
        table.append((nr, name, True, args))
    return table


def render(table, unistd: str, syscalls_h: str) -> str:
    lines = [
        "# AUTOGENERATED by tools/gen_syscalls.py from the kernel's headers — ALL EDITS WILL BE LOST.",
        f"# numbers: {unistd}",
        f"# arguments: include/linux/syscalls.h of {Path(syscalls_h).parents[2].name}",
        '"""The x86-64 system calls: (number, name, implemented by Linux, ((C type, name, kind), ...))."""',
        "",
        "SYSCALLS = (",
    ]
    for nr, name, implemented, args in table:
        arg_text = "".join(f"({c!r}, {n!r}, {k!r}), " for c, n, k in args)
        lines.append(f"    ({nr}, {name!r}, {implemented}, ({arg_text})),")
    lines += [")", ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--unistd", default=UNISTD)
    ap.add_argument("--syscalls-h")
    ns = ap.parse_args()
    syscalls_h = ns.syscalls_h or (sorted(glob.glob(SYSCALLS_H_GLOB)) or [None])[-1]
    if syscalls_h is None:
        print("no kernel headers: install Debian's linux-headers-*-common (bootstrap.sh does)", file=sys.stderr)
        return 2
    text = render(parse(ns.unistd, syscalls_h), ns.unistd, syscalls_h)
    if ns.check:
        current = OUT.read_text() if OUT.exists() else ""
        # The headers' version line may differ between machines; the table must not.
        strip = lambda s: "\n".join(line for line in s.splitlines() if not line.startswith("# arguments:"))
        if strip(current) != strip(text):
            print(f"{OUT.relative_to(ROOT)} is stale: run python3 tools/gen_syscalls.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
