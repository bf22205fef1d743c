"""The seccomp allowlist: the only system calls a picoprocess makes to the host kernel.

This is the one place the allowlist lives.  Every entry says why it is harmless
when hostile code calls it directly, with any arguments; every entry has a
hostile test in tests/test_hostile*.py.  Everything not listed here traps
(SECCOMP_RET_TRAP) to the SIGSYS handler inside the picoprocess, which may
emulate it or refuse it.  A system call of another architecture (i386 through
int 0x80 or from 32-bit mode) or an x32 number kills the process.

Argument checks compare what the kernel will use: an `int` argument is
compared on its low 32 bits (the kernel truncates it), an `unsigned long`
argument on all 64.  Nothing is ever allowed by instruction pointer.

Two calls never reach the filter at all: since Linux 6.11 the kernel runs
`uretprobe` (and on newer kernels `uprobe`) without consulting seccomp.  They
act only on the kernel's own uprobe trampoline: called from anywhere else they
kill the caller (SIGILL) or fail, so they are harmless; tests/hostile/
kernel_passthrough.c checks that they never succeed.

Flag values come from the kernel's uapi headers (<asm-generic/mman-common.h>,
<linux/futex.h>, <asm/prctl.h>, <linux/time.h>); syscall numbers are resolved
by libseccomp from its own tables, never typed here.
"""
from __future__ import annotations

import signal
from dataclasses import dataclass, field

from ..protocol import CHANNEL_FD, EXIT_STATUS_OWN, IMAGE_FD, PROC_TAG

LOW32 = 0xFFFF_FFFF
ALL64 = 0xFFFF_FFFF_FFFF_FFFF

# <asm-generic/mman-common.h>, <asm/mman.h>
PROT_READ, PROT_WRITE, PROT_EXEC = 0x1, 0x2, 0x4
MAP_PRIVATE = 0x02
MAP_FIXED = 0x10
MAP_ANONYMOUS = 0x20
MAP_32BIT = 0x40
MAP_GROWSDOWN = 0x0100
MAP_DENYWRITE = 0x0800
MAP_EXECUTABLE = 0x1000
MAP_NORESERVE = 0x4000
MAP_POPULATE = 0x8000
MAP_NONBLOCK = 0x10000
MAP_STACK = 0x20000
MAP_FIXED_NOREPLACE = 0x100000
# Flags an anonymous private mapping may carry: they place or pre-fault the
# mapping, nothing more.  Not here (so they trap): MAP_SHARED and
# MAP_SHARED_VALIDATE, MAP_HUGETLB and its size bits, MAP_LOCKED, MAP_SYNC,
# MAP_UNINITIALIZED, and every bit the kernel does not define yet.
MMAP_HARMLESS_FLAGS = (MAP_FIXED | MAP_32BIT | MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE
                       | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_FIXED_NOREPLACE)
# Flags a private mapping of the image fd may carry: placement and pre-faulting,
# the flags the layer passes on (no MAP_GROWSDOWN, MAP_STACK or MAP_32BIT: a file
# mapping has no use for them).
MMAP_IMAGE_FLAGS = MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_NORESERVE | MAP_POPULATE

# <asm-generic/mman-common.h>: advice that only changes how the process's own
# pages are paged.  Not here: MADV_HWPOISON and MADV_SOFT_OFFLINE (they act on
# physical pages for a privileged caller), MADV_MERGEABLE (KSM merging across
# processes is a side channel), and the rest.
MADV_HARMLESS = {
    "MADV_NORMAL": 0, "MADV_RANDOM": 1, "MADV_SEQUENTIAL": 2, "MADV_WILLNEED": 3,
    "MADV_DONTNEED": 4, "MADV_FREE": 8, "MADV_HUGEPAGE": 14, "MADV_NOHUGEPAGE": 15,
    "MADV_DONTDUMP": 16, "MADV_DODUMP": 17,
}

# <linux/futex.h>
FUTEX_PRIVATE_FLAG = 128
FUTEX_CLOCK_REALTIME = 256
# Requeue and wake-op move waiters between, or store into, words of the caller's
# own memory (musl's condition variables requeue).  Only their private forms reach
# the kernel: a private futex is keyed by the process's own address space, a
# shared one on a file-backed page by the file's inode and offset, which two
# picoprocesses mapping one file would share.  runtime_c/pal/futex.c answers the
# shared forms of exactly these operations.  Not here: the priority-inheritance
# ops, which make the kernel look up the task whose tid is in the word and boost it.
FUTEX_OPS_HARMLESS = {"FUTEX_WAIT": 0, "FUTEX_WAKE": 1, "FUTEX_REQUEUE": 3, "FUTEX_CMP_REQUEUE": 4,
                      "FUTEX_WAKE_OP": 5, "FUTEX_WAIT_BITSET": 9, "FUTEX_WAKE_BITSET": 10}

# <asm/prctl.h>
ARCH_PRCTL_HARMLESS = {"ARCH_SET_GS": 0x1001, "ARCH_SET_FS": 0x1002, "ARCH_GET_FS": 0x1003, "ARCH_GET_GS": 0x1004}

# <linux/time.h>: CLOCK_REALTIME (0) .. CLOCK_BOOTTIME (7) are the caller's own
# clocks; negative ids name another process's or thread's CPU clock.
OWN_CLOCKS_MASK = LOW32 & ~0x7


@dataclass(frozen=True)
class ArgCheck:
    """(argument `index` & `mask`) == `value`, as the seccomp filter evaluates it."""

    index: int
    mask: int
    value: int

    def matches(self, args: tuple[int, ...]) -> bool:
        return (args[self.index] & self.mask) == self.value


@dataclass(frozen=True)
class Rule:
    """One allowed form of a system call: all of `checks` must hold."""

    syscall: str
    checks: tuple[ArgCheck, ...] = ()


@dataclass(frozen=True)
class Entry:
    syscall: str
    reason: str
    forms: tuple[tuple[ArgCheck, ...], ...] = field(default=((),))  # any one form allows the call

    def rules(self) -> list[Rule]:
        return [Rule(self.syscall, form) for form in self.forms]

    def allows(self, args: tuple[int, ...]) -> bool:
        """What the filter decides for these six argument values (for tests and docs)."""
        return any(all(c.matches(args) for c in form) for form in self.forms)


def _fd_is_channel() -> tuple[tuple[ArgCheck, ...], ...]:
    return ((ArgCheck(0, LOW32, CHANNEL_FD),),)


# rt_sigaction is allowed only from one page whose address the Monitor picks at
# random for each picoprocess (the layer copies the program's sanitized action
# there); this fixed example stands in for it in the docs and the filter tests.
EXAMPLE_SIGACTION_BUFFER = 0x5A5A_0000_0000
# Signals a program may handle: all but SIGSYS (the layer's), SIGKILL and SIGSTOP.
HANDLED_SIGNALS = tuple(n for n in range(1, 65) if n not in (signal.SIGSYS, signal.SIGKILL, signal.SIGSTOP))


# <linux/sched.h>: the flags glibc's and musl's pthread_create pass to clone: a
# thread of this process, sharing its memory, files and signal handlers, with
# its own TLS and tid words.  musl adds CLONE_DETACHED, which the kernel ignores.
CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND = 0x100, 0x200, 0x400, 0x800
CLONE_THREAD, CLONE_SYSVSEM, CLONE_SETTLS = 0x10000, 0x40000, 0x80000
CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_DETACHED = 0x100000, 0x200000, 0x400000
THREAD_CLONE_FLAGS = (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM
                      | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

THREADS_ENTRY = Entry(
    "clone",
    "Only when the picoprocess may have threads (the Monitor's thread limit is above 1), and only "
    "with exactly the flags glibc's or musl's pthread_create passes (all 64 bits compared; exit "
    "signal 0): a new thread of this same process — same memory, files and signal handlers, the "
    "same seccomp filter (the kernel copies it to every new thread).  No new process, no namespace, "
    "no vfork, no pidfd.  The boot block puts the picoprocess alone in a user namespace of its own "
    "and sets RLIMIT_NPROC there to the thread limit (as uid 65534 when started by root, because "
    "the kernel never applies that limit to uid 0), so more threads than the limit get EAGAIN.",
    ((ArgCheck(0, ALL64, THREAD_CLONE_FLAGS),), (ArgCheck(0, ALL64, THREAD_CLONE_FLAGS | CLONE_DETACHED),)))


# kill and tgkill are allowed only at the picoprocess's own pid (the Monitor knows it before it
# builds the filter); this fixed example stands in for it in the docs and the filter tests.
EXAMPLE_PID = 0x5A5A


# Signals a picoprocess may send itself for real: all but SIGSYS (0 asks whether the pid exists).
# A real SIGSYS pending when a system call traps swallows the trap's own SIGSYS (the kernel queues
# one of each classic signal): the call would be skipped, unanswered, returning its own number.
# The layer delivers the program's SIGSYS itself (runtime_c/pal/signals.c).
SELF_SIGNALS = tuple(n for n in range(0, 65) if n != signal.SIGSYS)


def signal_self_entries(own_pid: int) -> tuple["Entry", ...]:
    return (
        Entry("kill",
              "Only with the pid equal to the picoprocess's own (host) pid (the pid is an int: low 32 bits "
              "compared; the Monitor builds each picoprocess's filter after the process exists): a signal to "
              "itself — raise() and abort() through the layer, which translates the program's virtual pid. "
              "Process groups (0, negative pids), -1 and every other pid trap.  Never SIGSYS (the signal is "
              "an int: low 32 bits compared): a real SIGSYS pending when a call traps would swallow the "
              "trap's, and the call would return unanswered; the layer delivers the program's SIGSYS itself.",
              tuple((ArgCheck(0, LOW32, own_pid), ArgCheck(1, LOW32, sig)) for sig in SELF_SIGNALS)),
        Entry("tgkill",
              "Only with the thread group equal to the picoprocess's own pid (low 32 bits compared): the kernel "
              "then signals only a thread of this very process (a tid outside it is ESRCH).  Never SIGSYS, "
              "as for kill.",
              tuple((ArgCheck(0, LOW32, own_pid), ArgCheck(2, LOW32, sig)) for sig in SELF_SIGNALS)),
    )


# Processes (docs/processes.md): only when the Monitor's process limit is above 1.  The runtime's
# own calls carry PROC_TAG in the high 32 bits of an int argument the kernel truncates to 32
# bits (a fd, a pid, an idtype): the kernel acts on the low 32 bits only, and a program's call
# never has those bits set, so the program's own close, dup3, wait4, recvmsg and clone still
# trap to the layer (which keeps its fds, pids and children virtual).  The tag is no secret and
# no boundary: hostile code may use it, and each reason below holds for any low 32 bits.
TAG_HIGH = PROC_TAG << 32
HIGH32 = ALL64 & ~LOW32
SIGCHLD_ = int(signal.SIGCHLD)
PR_SET_PDEATHSIG = 1
P_ALL, P_PID = 0, 1  # <linux/wait.h>: the waitid idtypes the layer uses

PROCESS_ENTRIES: tuple[Entry, ...] = (
    Entry("clone",
          "Only with flags exactly PROC_TAG << 32 | SIGCHLD (all 64 bits compared; the kernel reads only the "
          "low 32 bits of the clone syscall's flags: a plain fork) and a stack, parent-tid, child-tid and tls "
          "of 0: a child process that shares nothing with its parent (copies of its memory and fds: the "
          "channel, the image), sealed by this same filter (the kernel copies it), in the same user "
          "namespace, whose RLIMIT_NPROC (the thread limit) bounds threads and processes of the whole "
          "family together, and in the same session, by which the Monitor finds and kills every process "
          "of the family at its end.  The Monitor's own count (--processes) applies to the forks the layer "
          "makes; a raw clone from hostile code makes a child with no channel of its own, sharing its "
          "parent's (it can confuse only its own family), still under RLIMIT_NPROC.",
          ((ArgCheck(0, ALL64, TAG_HIGH | SIGCHLD_), ArgCheck(1, ALL64, 0), ArgCheck(2, ALL64, 0),
            ArgCheck(3, ALL64, 0), ArgCheck(4, ALL64, 0)),)),
    Entry("recvmsg",
          f"Only on the channel, fd {CHANNEL_FD}, tagged (all 64 bits compared): the one call that can take "
          "the fd the Monitor passes with SPAWN's reply.  Only the Monitor writes to the channel, so the fds "
          "it can receive are the ones the Monitor chose: a new channel of the family.",
          ((ArgCheck(0, ALL64, TAG_HIGH | CHANNEL_FD),),)),
    Entry("dup3",
          f"Only onto the channel's number ({CHANNEL_FD}, tagged, all 64 bits of newfd compared) with flags "
          "0: the forked child moves its own channel there.  Any oldfd: the process holds only channels "
          "the Monitor gave it and the image, so the worst hostile code can do is put the image or its "
          f"own channel at fd {CHANNEL_FD} and lose its channel.",
          ((ArgCheck(1, ALL64, TAG_HIGH | CHANNEL_FD), ArgCheck(2, ALL64, 0)),)),
    Entry("close",
          "Only tagged (the high 32 bits of fd equal PROC_TAG; the kernel closes the fd in the low 32): "
          "the parent closes its child's channel end, the child the spare copy of its own.  Closing one "
          "of its own fds only ever takes something from the caller.",
          ((ArgCheck(0, HIGH32, TAG_HIGH),),)),
    Entry("wait4",
          "Only tagged (the high 32 bits of the pid equal PROC_TAG): waits for, and reaps, the caller's own "
          "children only (the kernel's rule); their statuses and rusage are of the family.",
          ((ArgCheck(0, HIGH32, TAG_HIGH),),)),
    Entry("waitid",
          "Only tagged (the high 32 bits of the idtype equal PROC_TAG): as wait4, the caller's own children "
          "only.",
          ((ArgCheck(0, HIGH32, TAG_HIGH),),)),
    Entry("prctl",
          "Only PR_SET_PDEATHSIG with SIGKILL (option an int: low 32 bits; the signal all 64): the caller "
          "dies when the thread that forked it ends.  It can only end the caller.",
          ((ArgCheck(0, LOW32, PR_SET_PDEATHSIG), ArgCheck(1, ALL64, int(signal.SIGKILL))),)),
)


EXPORT_EXIT_ENTRY = Entry(
    "exit_group",
    "Only with bit 8 of the status set (the status is an int: low 32 bits "
    "compared; the kernel keeps the low 8 bits, so the bit changes nothing), which the runtime's own "
    "exits set.  The program's exit_group traps instead, so that the layer first hands the Monitor its "
    "RAM disks and then exits with the bit set.  Hostile code that sets the bit itself only ends "
    "itself without its export.",
    ((ArgCheck(0, EXIT_STATUS_OWN, EXIT_STATUS_OWN),),))


def allowlist_for(sigaction_buffer: int = EXAMPLE_SIGACTION_BUFFER, threads: bool = True,
                  own_pid: int = EXAMPLE_PID, export_ram: bool = False,
                  processes: bool = False) -> tuple["Entry", ...]:
    """The allowlist for one picoprocess (its sigaction buffer's address; whether it may start
    threads; its own pid, the only one it may signal; whether its RAM disks are exported at exit,
    which makes the program's own exit_group trap: EXPORT_EXIT_ENTRY; whether it may fork:
    PROCESS_ENTRIES)."""
    base = tuple(EXPORT_EXIT_ENTRY if export_ram and e.syscall == "exit_group" else e for e in _ENTRIES)
    return base + ((THREADS_ENTRY,) if threads else ()) + (PROCESS_ENTRIES if processes else ()) + \
        signal_self_entries(own_pid) + (
        Entry("rt_sigaction",
              "Only with the act pointer equal to the picoprocess's sigaction buffer (a page at a random "
              "address the Monitor chose; all 64 bits compared) and only for signals other than SIGSYS, "
              "SIGKILL and SIGSTOP (the signal is an int: low 32 bits compared).  The layer copies the "
              "program's action there with SIGSYS taken out of its mask.  Hostile code that writes the "
              "buffer itself can only change its own handlers for its own signals: SIGSYS stays the "
              "layer's.",
              tuple((ArgCheck(0, LOW32, sig), ArgCheck(1, ALL64, sigaction_buffer)) for sig in HANDLED_SIGNALS)),
    )


_ENTRIES: tuple[Entry, ...] = (
    Entry("read",
          f"Only on fd {CHANNEL_FD}, the channel to the Monitor (the fd is an int: low 32 bits compared). "
          "Reading the channel can only take the picoprocess's own replies into its own memory.",
          _fd_is_channel()),
    Entry("write",
          f"Only on fd {CHANNEL_FD}, the channel.  Every byte written there is checked by the Monitor, "
          "which kills the picoprocess on any violation.",
          _fd_is_channel()),
    Entry("mmap",
          "Private anonymous memory (MAP_PRIVATE|MAP_ANONYMOUS with placement flags; "
          "PROT_READ/WRITE/EXEC only; all 64 bits of flags and prot checked).  With "
          "MAP_ANONYMOUS the fd is ignored, so no file, device or shared memory is reached.  "
          f"And private mappings of the image fd, {IMAGE_FD} (the fd is an int: low 32 bits "
          "compared; MAP_PRIVATE with MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_NORESERVE or "
          "MAP_POPULATE only, never MAP_SHARED; PROT_READ/WRITE/EXEC only): the fd is the app's "
          "own image, read-only, which the Monitor sealed or which only ever changes by rename, "
          "and a private mapping's writes stay in the picoprocess's own copy-on-write pages.  "
          "Only the boot block can put a file at that number: no call that makes an fd is "
          "allowed.  RLIMIT_AS bounds the total.",
          ((ArgCheck(2, ALL64 & ~(PROT_READ | PROT_WRITE | PROT_EXEC), 0),
            ArgCheck(3, ALL64 & ~MMAP_HARMLESS_FLAGS, MAP_PRIVATE | MAP_ANONYMOUS)),
           (ArgCheck(2, ALL64 & ~(PROT_READ | PROT_WRITE | PROT_EXEC), 0),
            ArgCheck(3, ALL64 & ~MMAP_IMAGE_FLAGS, MAP_PRIVATE),
            ArgCheck(4, LOW32, IMAGE_FD)))),
    Entry("munmap", "Unmaps the picoprocess's own memory; at worst it crashes itself."),
    Entry("mprotect", "Changes protections of the picoprocess's own memory; at worst it crashes itself.  The "
                      "PAL uses it to make a page of the program's text writable for the one store that "
                      "rewrites a system call site (runtime_c/pal/rewrite.c): every mapping the filter "
                      "allows is private, so a written page is the process's own copy and the image file "
                      "it came from never changes (tests/test_hostile_rewrite.py)."),
    Entry("madvise",
          "Only paging advice about its own pages: "
          + ", ".join(MADV_HARMLESS) + " (the advice is an int).",
          tuple((ArgCheck(2, LOW32, v),) for v in MADV_HARMLESS.values())),
    Entry("futex",
          "Only the private forms (FUTEX_PRIVATE_FLAG set) of wait and wake (plain and bitset, either "
          "clock), requeue, compare-and-requeue and wake-op.  A private futex is keyed by the caller's "
          "own address space: these block on, wake, move waiters between or store into words of this "
          "picoprocess only.  The shared forms trap, and the PAL makes them as private ones (the same "
          "words, for a process that is one address space): the kernel keys a shared futex on a "
          "file-backed page by the file's inode and offset, and two picoprocesses map common files (the "
          "PAL's code; an image from the HTTP cache), so a shared wait in one could be woken by another "
          "— a covert channel.  No priority-inheritance ops: those make the kernel look up the task whose "
          "tid is in the word (the op is an int; its CLOCK_REALTIME bit is ignored by the check).",
          tuple((ArgCheck(1, LOW32 & ~FUTEX_CLOCK_REALTIME, v | FUTEX_PRIVATE_FLAG),)
                for v in FUTEX_OPS_HARMLESS.values())),
    Entry("arch_prctl",
          "Only getting and setting the FS and GS bases: the program's own thread pointer, which "
          "static libcs set at start-up and which rt_sigreturn does not restore (so the layer "
          "could not emulate it).",
          tuple((ArgCheck(0, LOW32, v),) for v in ARCH_PRCTL_HARMLESS.values())),
    Entry("clock_gettime",
          "Only the caller's own clocks (ids 0-7, compared on 32 bits): reading the time, as the "
          "vDSO does without a system call; other processes' CPU clocks trap.",
          ((ArgCheck(0, OWN_CLOCKS_MASK, 0),),)),
    Entry("rt_sigreturn", "Returns from a signal handler (the SIGSYS handler needs it).  A forged "
          "frame can only change this process's own registers and mask; a mask blocking SIGSYS "
          "makes the kernel kill the process at its next trapped call."),
    Entry("exit", "Ends the calling thread (the last one's exit ends the picoprocess)."),
    Entry("exit_group", "Ends the picoprocess."),
)

ALLOWLIST: tuple[Entry, ...] = allowlist_for()

# What two picoprocesses can and cannot share (docs/seal.md renders it).
SHARING = f"""\
Nothing the calls above can name leads to a kernel object that another picoprocess can name too
(DESIGN.md, invariant 8: picoprocesses share nothing).  Call by call:

- **Memory** (`mmap`, `munmap`, `mprotect`, `madvise`): private anonymous memory, and private
  mappings of its own image fd.  Writes to a private mapping land in copy-on-write pages of its
  own.  No shared mapping, no shared-memory object, no KSM merging (`MADV_MERGEABLE` traps).
- **Futexes**: only the private forms, which the kernel keys by the caller's address space.  A
  shared futex on a file-backed page is keyed by the file's inode and offset, and picoprocesses
  do map common files: every one maps the PAL's code from the one file `xax-pico`, and two runs
  of one image from the HTTP cache map the cache's one body file (so does any private file
  mapping before it is written).  A shared wait in one would be woken by a shared wake in the
  other: a covert channel (`tests/test_hostile_shared.py` runs both under two Monitors).  So the
  shared forms trap, and the PAL makes each as the private operation
  (`runtime_c/pal/futex.c`), which in one address space names the same words.  The one shared
  wake left, the kernel's when a thread exits (`CLONE_CHILD_CLEARTID`, whatever word the program
  named), finds no shared waiter anywhere: there are none.  The PAL's waits look at their word
  every 2 ms instead, which is how `pthread_join` still sees its thread end.
- **Files and fds**: no call that opens, creates, duplicates or receives an fd is allowed.
  `read` and `write` reach only fd {CHANNEL_FD}, the picoprocess's own channel to the Monitor (a socket pair
  made for it alone); the image fd can only be mapped privately.  Every other file operation is
  the layer's, on its own VFS.
- **Processes and signals**: `clone` makes only threads of the same process; `kill` and `tgkill`
  name only its own pid (and never send SIGSYS, which stays the seal's alone).
- **Clocks**: only its own (`clock_gettime` of ids 0-7); other processes' CPU clocks trap.

What they do share, and why none of it is a kernel object one of them can name:

- **The machine**: CPUs, caches, memory bandwidth, the kernel itself.  Timing through them is
  beyond what a system call filter can close, as between any two processes on one host; the
  limits (CPU, memory, threads) bound what one can take from the others.
- **The page cache of a common file** (`xax-pico`, an image from the cache): the same physical
  pages, mapped read-only or copy-on-write.  A picoprocess cannot write them, nor drop them
  (`MADV_PAGEOUT`, `MADV_COLD`, `MADV_REMOVE` and `fadvise` trap).  Whether a page is resident
  shows only in how long a first access takes, and any access brings it in: a timing channel
  of one bit per page until memory pressure evicts it, as between any two processes that use
  one shared library.  Closing it would take a private copy of every image per picoprocess.
- **The Monitor and its HTTP cache**: every xaxcall is served for the asking picoprocess alone,
  under its own origin (the Same Origin Policy); cache entries are keyed by URL, so only
  picoprocesses of one origin fetch the same ones (a cached answer comes sooner: timing again).
"""


def allowed_names() -> list[str]:
    return [e.syscall for e in ALLOWLIST]


def entry(name: str) -> Entry:
    for e in ALLOWLIST:
        if e.syscall == name:
            return e
    raise KeyError(name)
