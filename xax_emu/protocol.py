"""The channel protocol between a picoprocess and the Monitor, defined once.

This module is the single source of the wire format: `tools/gen_protocol.py`
turns it into `runtime_c/include/xax_protocol.h`, and a test checks that the
committed header is current.  The Python side encodes and decodes with
`struct` from the same table.

Every message is one SOCK_SEQPACKET datagram: a fixed 24-byte header followed by
`len` payload bytes.  Requests carry a sequence number that the reply echoes;
replies have `type | REPLY` and the result in `arg`.  Nothing the picoprocess
sends is trusted: `decode_request` checks every field and raises
`ProtocolViolation` naming what was wrong.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import BootError, ProtocolViolation

MAGIC = 0x31584158  # b"XAX1" little-endian
VERSION = 2
REPLY = 0x8000

# Limits shared by both sides.  A datagram larger than HEADER_SIZE + MAX_PAYLOAD
# is a violation (the Monitor reads with MSG_TRUNC detection).
MAX_PAYLOAD = 65536
# A READ may ask for more, and its reply carry more: a download then crosses the channel in
# a sixteenth of the round trips.  The Monitor sends less where its end of a channel cannot
# carry a datagram that large (limits.channel_for_replies), which a READ's reply may always do.
MAX_READ = 1 << 20
MAX_POLL_FDS = 256
POLL_NOW, POLL_BLOCK, POLL_SLICED, POLL_TIMED = 0, 1, 2, 3
POLL_SLICE = 0.05  # seconds: how long a sliced poll may wait (threads waiting for input let others at the channel)
POLL_TIMEOUT_MAX = 0x7FFFFFFF  # POLL_TIMED: the timeout in milliseconds, in the header's chan field
MAX_URL = 4096
MAX_BOOT = 1 << 20

# (name, C type, struct code) in wire order.
HEADER_FIELDS = (
    ("magic", "uint32_t", "I"),
    ("version", "uint16_t", "H"),
    ("type", "uint16_t", "H"),
    ("chan", "int32_t", "i"),
    ("arg", "int32_t", "i"),
    ("len", "uint32_t", "I"),
    ("seq", "uint32_t", "I"),
)
HEADER = struct.Struct("<" + "".join(code for _, _, code in HEADER_FIELDS))
HEADER_SIZE = HEADER.size

# Message types: (name, number, direction, meaning).
MESSAGES = (
    ("BOOT", 1, "monitor->boot", "boot configuration, read by the trusted boot block before the seal"),
    ("OPEN_URL", 2, "pico->monitor", "payload 'method\\0url\\0'; reply arg = channel or -1"),
    ("READ", 3, "pico->monitor", "arg = max bytes (at most MAX_READ); reply arg = n (payload), 0 not ready, "
                                 "-1 closed/failed (a POLL then says which: POLLERR failed, POLLHUP ended)"),
    ("WRITE", 4, "pico->monitor", "payload = bytes; reply arg = n accepted, 0 not ready, -1 closed/failed"),
    ("POLL", 5, "pico->monitor", "arg = 0: answer now, 1: when one is ready, 2: when one is ready or POLL_SLICE "
                                 "has passed, 3: when one is ready or chan milliseconds have passed; a WAKE answers "
                                 "1, 2 and 3 at once; payload = poll entries; reply arg = ready count, payload = "
                                 "entries"),
    ("CLOSE", 6, "pico->monitor", "arg = 0: close; 1: the picoprocess writes no more on it (its reading goes on); "
                                  "reply arg = 0 or -1"),
    ("ACCEPT", 7, "pico->monitor", "reply arg = channel of an incoming connection, or -1"),
    ("TRACE", 8, "pico->monitor", "one-way: arg = syscall number, chan = disposition; no reply"),
    ("NULL", 9, "pico->monitor", "null xaxcall; reply arg = 0"),
    ("FORWARD", 10, "pico->monitor", "a system call the profile forwards: payload = struct xax_forward; "
                                      "reply arg = 0, payload = int64 result + bytes for the call's out argument"),
    ("LISTENER", 11, "boot->monitor", "kernel counting only, sent once by the trusted boot block before the seal: "
                                      "no payload, SCM_RIGHTS carries the seccomp notification listener; no reply"),
    ("RUNTIME_CODE", 12, "pico->monitor", "kernel counting only, once, just before the program starts: payload = "
                                          "up to MAX_RUNTIME_RANGES struct xax_range, where the PAL's and the "
                                          "layer's code lie; reply arg = 0"),
    ("FATAL", 13, "pico->monitor", "one-way, the PAL's last message before it exits with EXIT_RUNTIME_FAILED: "
                                   "arg = the failure (FAILURES), payload = why, at most MAX_FATAL_REASON bytes "
                                   "of text; no reply"),
    # Host directories the user granted (run --mount, docs/mounts.md): chan = the mount's number
    # (its place among the PAL settings "mount=MODE:GUEST"); a path is relative to the mount's root
    # ("" is the root itself), its components joined by one '/', none empty, ".", ".." or over
    # MOUNT_NAME_MAX bytes, no NUL, at most MOUNT_PATH_MAX bytes.  Replies: arg = -errno on failure.
    ("MOUNT_STAT", 14, "pico->monitor", "payload = path; reply arg = 0, payload = struct xax_mount_stat "
                                        "+ a symlink's target (lstat: a symlink is never followed)"),
    ("MOUNT_LIST", 15, "pico->monitor", "arg = the first entry wanted (its place in the listing sorted by "
                                        "name); payload = a directory's path; reply arg = 0, payload = struct "
                                        "xax_mount_list (count, next: where to ask from for the rest, 0 if "
                                        "none) + count entries, each struct xax_mount_entry, struct "
                                        "xax_mount_stat, the name, a symlink's target, 0-padded to 8"),
    ("MOUNT_READ", 16, "pico->monitor", "payload = struct xax_mount_io (off, len <= MAX_PAYLOAD, pathlen) + "
                                        "path of a regular file; reply arg = bytes read, payload = them"),
    ("MOUNT_WRITE", 17, "pico->monitor", "a rw mount's: payload = struct xax_mount_io (off, len, pathlen) + "
                                         "path + len bytes; reply arg = bytes written, payload = struct "
                                         "xax_mount_stat of the file after"),
    ("MOUNT_TRUNCATE", 18, "pico->monitor", "a rw mount's: payload = struct xax_mount_io (off = the new size, "
                                            "len 0, pathlen) + path; reply arg = 0, payload = struct "
                                            "xax_mount_stat of the file after"),
    ("MOUNT_CREATE", 19, "pico->monitor", "a rw mount's: arg = mode; payload = path of a regular file to make "
                                          "(it must not exist); reply arg = 0, payload = struct xax_mount_stat "
                                          "of the file, then of its directory"),
    ("MOUNT_MKDIR", 20, "pico->monitor", "a rw mount's: arg = mode; payload = path of a directory to make; "
                                         "reply arg = 0, payload = struct xax_mount_stat of the directory, then "
                                         "of the one holding it"),
    ("MOUNT_REMOVE", 21, "pico->monitor", "a rw mount's: arg = MOUNT_REMOVE_FILE (a file or symlink) or "
                                          "MOUNT_REMOVE_DIR (an empty directory); payload = path; reply arg = 0, "
                                          "payload = struct xax_mount_stat of the directory that held it"),
    ("MOUNT_RENAME", 22, "pico->monitor", "a rw mount's: arg = RENAME_NOREPLACE or RENAME_EXCHANGE or 0; "
                                          "payload = struct xax_mount_rename + old path + new path (both in "
                                          "this mount); reply arg = 0, payload = struct xax_mount_stat of the "
                                          "old path's directory, then of the new path's"),
    ("EXPORT_RAM", 23, "pico->monitor", "at exit, when the PAL setting export_ram=1 asked for it: payload = "
                                        "the next bytes of a tar of the RAM disks; arg = EXPORT_MORE, "
                                        "EXPORT_LAST on the last piece, or EXPORT_FAILED (the layer could not "
                                        "write the tar: nothing is exported); reply arg = 0, or -1 refused "
                                        "(not asked, over the limit, or after the last piece)"),
    ("WAKE", 24, "pico->monitor", "one-way, may come while a POLL waits: answer the waiting POLL now (another "
                                  "thread needs the channel, or something inside the picoprocess changed), or "
                                  "the next one that would wait; no payload, no reply"),
    ("TRACE_PATH", 25, "pico->monitor", "one-way, only with BOOT_FLAG_TRACE_PATHS: a path the program failed to "
                                        "open or look at (one of TRACE_PATH_CALLS answered an error): arg = the "
                                        "syscall number, chan = the errno (1 .. MAX_ERRNO), payload = the path "
                                        "as the program named it, made absolute against its directory where "
                                        "the layer can name that directory: 1 .. TRACE_PATH_MAX bytes, no NUL; "
                                        "no reply"),
    # Processes (docs/processes.md): a family of sealed processes, each with a channel of its own.
    ("SPAWN", 26, "pico->monitor", "before a fork: no payload (the Monitor knows which channels the process "
                                   "holds: its child holds them too); reply arg = the child's virtual pid, SCM_RIGHTS carrying "
                                   "the child's channel, or -errno (EAGAIN: the family's process limit; ENOSYS: "
                                   "processes are not enabled)"),
    ("BORN", 27, "pico->monitor", "a child's first message, on the channel SPAWN made for it (the kernel's "
                                  "SCM_CREDENTIALS say which process sent it); reply arg = 0"),
    ("KILL", 28, "pico->monitor", "chan = a virtual pid of the family, or a group of it: 0 the caller's "
                                  "group, -1 every member but the caller, -pgid that group; arg = a signal "
                                  "(0: does it exist); reply arg = 0, KILL_SELF_TOO when the caller is in the "
                                  "group (every other member is signalled, the caller signals itself), or "
                                  "-errno (ESRCH: nobody of the family)"),
    ("PIPE", 29, "pico->monitor", "before a fork, for each pipe the process holds: arg = its capacity (a power "
                                  "of two, PIPE_MIN_SIZE .. PIPE_MAX_SIZE); payload = the bytes buffered in it (at "
                                  "most its capacity); reply arg = the read end's channel or -1, payload = int32 "
                                  "the write end's"),
    ("PGRP", 30, "pico->monitor", "process groups and sessions, the family's own (the host's never change): "
                                  "arg = PGRP_GETPGID, PGRP_GETSID, PGRP_SETPGID or PGRP_SETSID; chan = a "
                                  "virtual pid (0: the caller); payload = int32 the group for PGRP_SETPGID "
                                  "(0: the pid's own), none otherwise; reply arg = the group or session, 0 "
                                  "(PGRP_SETPGID), or -errno as Linux's (ESRCH, EPERM, EACCES, EINVAL)"),
    ("EXEC", 31, "pico->monitor", "the process is about to run another program in place (the layer has "
                                  "loaded it): arg 0, payload = its path, 1 .. EXEC_PATH_MAX bytes; or arg "
                                  "EXEC_AGAIN, no payload: the same exec, its other threads not ended yet.  "
                                  "The Monitor sends each of the process's threads SIGBUS with the value "
                                  "EXEC_END_THREAD (docs/processes.md); reply arg = how many threads it had, "
                                  "the caller included"),
    ("PIPE_SIZE", 32, "pico->monitor", "F_GETPIPE_SZ and F_SETPIPE_SZ of a pipe of the family: chan = one of its "
                                       "ends; arg = 0 (what is it) or the new capacity (a power of two, "
                                       "PIPE_MIN_SIZE .. PIPE_MAX_SIZE); no payload; reply arg = the capacity, or "
                                       "-errno (EBUSY: more is buffered than it holds; EBADF: chan is no pipe's)"),
)
TYPES = {name: number for name, number, _, _ in MESSAGES}
TYPE_NAMES = {number: name for name, number, _, _ in MESSAGES}

# FORWARD request payload: the syscall number and its six arguments as the program passed them.
FORWARD_FIELDS = (
    ("nr", "int64_t", "q"),
    ("args", "uint64_t", "6Q"),
)
FORWARD = struct.Struct("<q6Q")
FORWARD_RESULT = struct.Struct("<q")

# RUNTIME_CODE payload: [start, end) address ranges.  The Monitor counts an allowed
# call whose instruction pointer lies in one of them as the runtime's, not the program's.
RANGE_FIELDS = (
    ("start", "uint64_t", "Q"),
    ("end", "uint64_t", "Q"),
)
RANGE = struct.Struct("<QQ")
MAX_RUNTIME_RANGES = 4

# Host directories (MOUNT_* messages).
MAX_MOUNTS = 16               # grants in one run: mount numbers 0 .. MAX_MOUNTS - 1
MOUNT_PATH_MAX = 4095         # bytes of a path relative to a mount (PATH_MAX less its NUL)
MOUNT_NAME_MAX = 255          # bytes of one component (NAME_MAX)
MOUNT_REMOVE_FILE, MOUNT_REMOVE_DIR = 0, 1
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2   # <linux/fs.h>: the renameat2 flags a MOUNT_RENAME may carry
# What lstat tells of a host file: its type and permission bits, link count, size, 512-byte
# blocks and times (never its owner, device or inode number: the picoprocess's own are shown).
MOUNT_STAT_FIELDS = (
    ("mode", "uint32_t", "I"),
    ("nlink", "uint32_t", "I"),
    ("size", "uint64_t", "Q"),
    ("blocks", "uint64_t", "Q"),
    ("atime", "int64_t", "q"),
    ("mtime", "int64_t", "q"),
    ("ctime", "int64_t", "q"),
    ("atime_nsec", "uint32_t", "I"),
    ("mtime_nsec", "uint32_t", "I"),
    ("ctime_nsec", "uint32_t", "I"),
    ("reserved", "uint32_t", "I"),
)
MOUNT_STAT = struct.Struct("<IIQQqqqIIII")
MOUNT_LIST_FIELDS = (
    ("count", "uint32_t", "I"),   # entries in this reply
    ("next", "uint32_t", "I"),    # where to ask from for the entries after these; 0: there are none
)
MOUNT_LIST = struct.Struct("<II")
MOUNT_ENTRY_FIELDS = (
    ("namelen", "uint16_t", "H"),
    ("linklen", "uint16_t", "H"),  # a symlink's target (0 for anything else)
    ("reserved", "uint32_t", "I"),
)
MOUNT_ENTRY = struct.Struct("<HHI")
MOUNT_IO_FIELDS = (
    ("off", "uint64_t", "Q"),
    ("len", "uint32_t", "I"),
    ("pathlen", "uint32_t", "I"),
)
MOUNT_IO = struct.Struct("<QII")
MOUNT_RENAME_FIELDS = (
    ("oldlen", "uint32_t", "I"),
    ("newlen", "uint32_t", "I"),
)
MOUNT_RENAME = struct.Struct("<II")
# (C struct name, fields, struct) for tools/gen_protocol.py
MOUNT_STRUCTS = (
    ("xax_mount_stat", MOUNT_STAT_FIELDS, MOUNT_STAT),
    ("xax_mount_list", MOUNT_LIST_FIELDS, MOUNT_LIST),
    ("xax_mount_entry", MOUNT_ENTRY_FIELDS, MOUNT_ENTRY),
    ("xax_mount_io", MOUNT_IO_FIELDS, MOUNT_IO),
    ("xax_mount_rename", MOUNT_RENAME_FIELDS, MOUNT_RENAME),
)

# EXPORT_RAM's arg
EXPORT_MORE, EXPORT_LAST, EXPORT_FAILED = 0, 1, 2

# PGRP's arg: which question or change.
PGRP_GETPGID, PGRP_GETSID, PGRP_SETPGID, PGRP_SETSID = 0, 1, 2, 3
# KILL's reply arg when the caller is in the group it signalled: it signals itself.
KILL_SELF_TOO = 1
# EXEC's payload: a path, as PATH_MAX bounds it.
EXEC_PATH_MAX = 4096
# EXEC's arg: the path was sent already; end the threads again.
EXEC_AGAIN = 1
# The value (si_value) of the SIGBUS by which the Monitor ends a thread at an exec ("xaxE").
EXEC_END_THREAD = 0x78617845

# Poll entry: struct xabi_poll_fd from the ABI header (chan, events, revents).
POLL_FIELDS = (
    ("chan", "int32_t", "i"),
    ("events", "int16_t", "h"),
    ("revents", "int16_t", "h"),
)
POLL_ENTRY = struct.Struct("<" + "".join(code for _, _, code in POLL_FIELDS))
POLLIN = 0x1
POLLOUT = 0x4
POLLERR = 0x8
POLLHUP = 0x10

# Trace dispositions carried in TRACE.chan.
TRACE_KINDS = (
    ("MISSING", 0, "no disposition: -ENOSYS"),
    ("EMULATED", 1, "handled inside the layer"),
    ("REJECTED", 2, "failed with a fixed errno or value"),
    ("FORWARDED", 3, "turned into an xaxcall"),
    ("EMULATED_FAILED", 4, "handled inside the layer, which answered an error (failure-oblivious)"),
)
TRACE_KIND_NUMBERS = frozenset(number for _, number, _ in TRACE_KINDS)
# Not a class: sent after a call's class event when that call arrived through a rewritten
# site (runtime_c/pal/rewrite.c) instead of a trap; the Monitor counts it apart.
TRACE_DIRECT = 16
# Not a class either: a site making this call was just rewritten (its read-only page probed
# for writing first: one SIGSEGV the PAL's fault handler catches, and its rt_sigreturn).
TRACE_REWRITTEN = 17
TRACE_NOT_CLASSES = frozenset((TRACE_DIRECT, TRACE_REWRITTEN))
_TRACE = {name: number for name, number, _ in TRACE_KINDS}
TRACE_MISSING = _TRACE["MISSING"]
TRACE_EMULATED = _TRACE["EMULATED"]
TRACE_REJECTED = _TRACE["REJECTED"]
TRACE_FORWARDED = _TRACE["FORWARDED"]
TRACE_EMULATED_FAILED = _TRACE["EMULATED_FAILED"]

# TRACE_PATH: the calls whose failures the layer reports with their path (runtime_c/layer/sys_fs.c
# calls layer_failed_path in exactly these handlers; tests/test_failed_paths.py checks it), the
# longest path it sends (PATH_MAX less the NUL: a longer one is cut there, and says so by its
# length), and the largest errno (the kernel's MAX_ERRNO).  Not every error is a path that
# failed: EFAULT (the program's own buffer), EBADF (its fd), EINVAL (its flags, or readlink of
# something that is not a link) and EEXIST (O_EXCL found what it should not) are not reported.
TRACE_PATH_CALLS = ("open", "openat", "creat", "stat", "lstat", "newfstatat", "statx", "access", "faccessat",
                    "faccessat2", "readlink", "readlinkat", "chdir")
TRACE_PATH_MAX = 4095
TRACE_PATH_UNREPORTED = ("EFAULT", "EBADF", "EINVAL", "EEXIST")
MAX_ERRNO = 4095

# Boot configuration: fixed part, then `nbpf` 8-byte BPF instructions (the seal),
# then `nnotify` more (the kernel-counting filter, with BOOT_FLAG_COUNT_KERNEL only),
# then `strings_len` bytes holding `nargs` argument strings, `nenv` environment
# strings and `npal` PAL settings ("key=value": where the layer is, ...), each
# NUL-terminated.
BOOT_FIELDS = (
    ("monitor_pid", "uint64_t", "Q"),
    ("limit_as", "uint64_t", "Q"),
    ("limit_cpu", "uint64_t", "Q"),
    ("limit_threads", "uint64_t", "Q"),
    ("flags", "uint32_t", "I"),
    ("nbpf", "uint32_t", "I"),
    ("nargs", "uint32_t", "I"),
    ("nenv", "uint32_t", "I"),
    ("strings_len", "uint32_t", "I"),
    ("npal", "uint32_t", "I"),
    ("nnotify", "uint32_t", "I"),
    ("reserved", "uint32_t", "I"),  # 0; keeps the struct a multiple of 8 bytes
    ("random", "uint8_t", "32s"),
)
BOOT = struct.Struct("<" + "".join(code for _, _, code in BOOT_FIELDS))
BOOT_FLAG_STDIO = 0x1  # channels 0, 1, 2 are the program's stdin, stdout, stderr
BOOT_FLAG_TRACE = 0x2  # the layer reports every call it handles, not only missing ones
# Trace mode: before the seal the boot block installs the `nnotify` filter
# (SECCOMP_RET_USER_NOTIF for the allowlisted calls) and sends its listener
# (LISTENER); the PAL sends RUNTIME_CODE before starting the program.
BOOT_FLAG_COUNT_KERNEL = 0x4
# The Monitor offers this picoprocess connections (serve's instances that serve HTTP): the
# layer's first listening internet socket takes them with ACCEPT.
BOOT_FLAG_ACCEPT = 0x8
# The layer reports the paths the program failed to open or look at (TRACE_PATH): trace mode,
# and run --report json.
BOOT_FLAG_TRACE_PATHS = 0x10

STDIN_CHAN, STDOUT_CHAN, STDERR_CHAN = 0, 1, 2
# Not a channel: a poll entry naming it is ready (POLLIN) while an incoming
# connection waits for ACCEPT, so a program can sleep in poll until one comes
# (the article's xabi_accept itself never blocks).  xabi.h: XABI_ACCEPT_CHNL.
ACCEPT_CHAN = -2

# The image fd.  The Monitor hands an app's image (or a bare program's filesystem
# tar) to the boot block as one read-only fd, which the boot block moves to this
# number and maps privately before the seal; the filter lets the layer map it
# privately too (seal/allowlist.py), so that file-backed mmaps of the image's
# members become mappings of the image, not copies.  Like the channel's, the number
# lies above every fd the program can have (its RLIMIT_NOFILE is 1024: fds 0..1023,
# the layer's virtual ones), so that it takes none of the program's numbers; the
# boot block raises its own soft RLIMIT_NOFILE to place it there.
IMAGE_FD = 1025

# -- facts of the runtime that the Monitor, the compiler and the tests know too ---------

# The channel's fd: the one real fd a sealed picoprocess has besides the image.  The
# boot block moves the channel here; the filter allows read and write on it (seal/
# allowlist.py).  It lies above every fd the program can have (its RLIMIT_NOFILE is
# 1024: fds 0..1023, the layer's virtual ones; a read or write on this number reaches
# the kernel directly), so that every number the program may use is its own: a shell's
# `exec 3>file` gets fd 3, as on Linux.
CHANNEL_FD = 1024

# Where the boot block asks for the family's arena when processes are enabled (docs/
# processes.md), the kernel's choice if that is taken: in the open, as any member can find
# and write it anyway (tests/hostile/arena.c).
FAMILY_ARENA_HINT = 0x7E0000000000

# The layer's table has one entry per syscall number below this; the profile compiler
# refuses a system call beyond it.
LAYER_NR_MAX = 512

# The picoprocess's pid as the program sees it (getpid, /proc/self, kill, prlimit64): the
# entry program's; the processes it forks get the next ones (the Monitor hands them out).
VIRTUAL_PID = 100
# Most virtual pids a family hands out (its children's, VIRTUAL_PID + 1 on): the layer's table
# of children and the Monitor's, both bounded.
VIRTUAL_PIDS_MAX = 4096

# The runtime's own forms of the calls the seal allows for processes carry this tag in the
# high 32 bits of an int argument the kernel truncates to 32 bits (an fd, a pid, an option):
# the kernel never sees it, and a program's own call (whose int argument has no high bits)
# never matches the form, so it traps to the layer as before (seal/allowlist.py).
PROC_TAG = 0x58415850  # "PXAX"
# Bytes a pipe holds (the layer's and the family's, PIPE): a Linux pipe's default; F_SETPIPE_SZ
# sets a power of two from a page to Linux's pipe-max-size default (the most an unprivileged
# process may ask for: a picoprocess has no CAP_SYS_RESOURCE).
PIPE_CAPACITY = 65536
PIPE_MIN_SIZE = 4096
PIPE_MAX_SIZE = 1 << 20

# Exit statuses of the runtime's own failures: (name, status, who exits with it, why).
# A program may exit with the same numbers: the Monitor never reads a status alone as
# the runtime's.  A boot failure is one before anything came on the channel; a runtime
# failure is announced by a FATAL message first, which names it.
EXITS = (
    ("RUNTIME_FAILED", 124, "the PAL", "it cannot start or go on; its FATAL message said why"),
    ("BOOT_FAILED", 125, "the boot block", "a step before the seal failed (it says which on stderr)"),
    ("SEAL_FAILED", 126, "the boot block", "the kernel refused the seccomp filter"),
    ("MONITOR_GONE", 137, "the PAL", "end of file on the channel: the Monitor is gone (there is no one to tell)"),
)
_EXIT = {name: status for name, status, _, _ in EXITS}
EXIT_RUNTIME_FAILED = _EXIT["RUNTIME_FAILED"]
EXIT_BOOT_FAILED = _EXIT["BOOT_FAILED"]
EXIT_SEAL_FAILED = _EXIT["SEAL_FAILED"]
EXIT_MONITOR_GONE = _EXIT["MONITOR_GONE"]

# Bit 8 of exit_group's status.  The kernel keeps only the status's low 8 bits (do_group_exit
# takes (status & 0xff) << 8), so the bit changes nothing of how the process ends; the
# runtime's own exits set it.  Under run --export-ram the seal allows exit_group only with
# the bit set (seal/allowlist.py), so the program's own exit_group traps to the layer, which
# exports the RAM disks before it exits with the bit set.
EXIT_STATUS_OWN = 0x100

# The runtime's failures, FATAL.arg: (name, number, what failed).
FAILURES = (
    ("START", 1, "the PAL could not start the layer or the program"),
    ("CHANNEL", 2, "the channel to the Monitor failed, or a reply on it was malformed"),
    ("MEMORY", 3, "the PAL could not allocate what the program needs to start"),
    ("RUNTIME", 4, "the runtime found its own state broken while the program ran"),
)
FAILURE_NAMES = {number: name for name, number, _ in FAILURES}
MAX_FATAL_REASON = 256


@dataclass(frozen=True)
class Message:
    type: int
    chan: int
    arg: int
    seq: int
    payload: bytes

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.type, f"#{self.type}")


def encode(type_: int, chan: int = -1, arg: int = 0, payload: bytes = b"", seq: int = 0) -> bytes:
    """One datagram; used for replies and for BOOT."""
    if len(payload) > MAX_BOOT:
        raise ValueError(f"payload of {len(payload)} bytes is over the protocol limit")
    return HEADER.pack(MAGIC, VERSION, type_, chan, arg, len(payload), seq) + payload


def reply(request: Message, arg: int, payload: bytes = b"") -> bytes:
    return encode(request.type | REPLY, request.chan, arg, payload, request.seq)


MAX_REPLY_PARTS = 512  # buffers of one gathered reply, its header apart (sendmsg takes 1024 at most)


def reply_parts(request: Message, arg: int, parts: list) -> list:
    """A reply as buffers to send as one datagram (sendmsg gathers them): its header, then the
    payload's pieces as they are, never joined (a READ's megabyte is copied once, by the kernel)."""
    length = sum(len(part) for part in parts)
    if length > MAX_READ or len(parts) > MAX_REPLY_PARTS:
        raise ValueError(f"a reply of {length} bytes in {len(parts)} parts is over the protocol limit")
    return [HEADER.pack(MAGIC, VERSION, request.type | REPLY, request.chan, arg, length, request.seq), *parts]


def decode_request(datagram: bytes) -> Message:
    """Parse one datagram from a picoprocess; every field is checked."""
    if len(datagram) < HEADER_SIZE:
        raise ProtocolViolation(f"message of {len(datagram)} bytes is shorter than the {HEADER_SIZE}-byte header")
    magic, version, type_, chan, arg, length, seq = HEADER.unpack_from(datagram)
    if magic != MAGIC:
        raise ProtocolViolation(f"bad magic 0x{magic:08x}")
    if version != VERSION:
        raise ProtocolViolation(f"protocol version {version}, expected {VERSION}")
    if type_ not in TYPE_NAMES or type_ == TYPES["BOOT"]:
        raise ProtocolViolation(f"unknown or forbidden message type {type_}")
    if length != len(datagram) - HEADER_SIZE:
        raise ProtocolViolation(
            f"{TYPE_NAMES[type_]}: header says {length} payload bytes, datagram holds {len(datagram) - HEADER_SIZE}"
        )
    if length > MAX_PAYLOAD:
        raise ProtocolViolation(f"{TYPE_NAMES[type_]}: payload of {length} bytes exceeds {MAX_PAYLOAD}")
    return Message(type_, chan, arg, seq, bytes(datagram[HEADER_SIZE:]))


def decode_runtime_code(payload: bytes) -> list[tuple[int, int]]:
    """RUNTIME_CODE's ranges: whole entries, at most MAX_RUNTIME_RANGES, each non-empty
    and inside the user half of the address space."""
    if len(payload) % RANGE.size or not 0 < len(payload) // RANGE.size <= MAX_RUNTIME_RANGES:
        raise ProtocolViolation(f"RUNTIME_CODE: payload of {len(payload)} bytes is not 1..{MAX_RUNTIME_RANGES} ranges")
    ranges = list(RANGE.iter_unpack(payload))
    for start, end in ranges:
        if not start < end <= 1 << 47:
            raise ProtocolViolation(f"RUNTIME_CODE: range [{start:#x}, {end:#x}) is empty or outside user space")
    return ranges


def decode_poll_entries(payload: bytes) -> list[tuple[int, int]]:
    if len(payload) % POLL_ENTRY.size:
        raise ProtocolViolation(f"POLL: payload of {len(payload)} bytes is not a whole number of entries")
    count = len(payload) // POLL_ENTRY.size
    if count > MAX_POLL_FDS:
        raise ProtocolViolation(f"POLL: {count} entries exceed {MAX_POLL_FDS}")
    return [(chan, events) for chan, events, _ in POLL_ENTRY.iter_unpack(payload)]


def encode_poll_entries(entries: list[tuple[int, int, int]]) -> bytes:
    return b"".join(POLL_ENTRY.pack(chan, events, revents) for chan, events, revents in entries)


def split_open_url(payload: bytes) -> tuple[str, str]:
    parts = payload.split(b"\0")
    if len(parts) != 3 or parts[2] != b"":
        raise ProtocolViolation("OPEN_URL: payload must be 'method\\0url\\0'")
    method, url = parts[0], parts[1]
    if len(url) > MAX_URL:
        raise ProtocolViolation(f"OPEN_URL: URL of {len(url)} bytes exceeds {MAX_URL}")
    try:
        return method.decode("ascii"), url.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolViolation("OPEN_URL: method and URL must be ASCII") from None


def encode_boot(*, monitor_pid: int, limit_as: int, limit_cpu: int, limit_threads: int, flags: int, bpf: bytes,
                args: list[bytes], env: list[bytes], random: bytes, pal: list[bytes] = (),
                notify_bpf: bytes = b"") -> bytes:
    """The BOOT datagram (Monitor -> trusted boot block).  BootError (one line, naming
    the field) for what cannot travel in it; xax_emu/limits.py checks the limits and
    the strings before a picoprocess is started, so a user never meets it there."""
    if len(bpf) % 8 or len(notify_bpf) % 8:
        raise ValueError("BPF program length is not a multiple of 8")
    if bool(notify_bpf) != bool(flags & BOOT_FLAG_COUNT_KERNEL):
        raise ValueError("the kernel-counting filter goes with BOOT_FLAG_COUNT_KERNEL, and only with it")
    for name, value in (("limit_as", limit_as), ("limit_cpu", limit_cpu), ("limit_threads", limit_threads)):
        if not isinstance(value, int) or not 0 <= value < 1 << 64:
            raise BootError(f"BOOT: {name} {value!r} is not a uint64")
    for s in (*args, *env, *pal):
        if b"\0" in s:
            raise BootError(f"BOOT: an argument or environment string contains NUL: {s[:40]!r}")
    strings = b"".join(s + b"\0" for s in (*args, *env, *pal))
    fixed = BOOT.pack(monitor_pid, limit_as, limit_cpu, limit_threads, flags, len(bpf) // 8, len(args), len(env),
                      len(strings), len(pal), len(notify_bpf) // 8, 0, random)
    payload = fixed + bpf + notify_bpf + strings
    if len(payload) > MAX_BOOT:
        raise BootError(f"BOOT: {len(payload)} bytes, over {MAX_BOOT}: too many arguments or environment")
    return encode(TYPES["BOOT"], -1, 0, payload)
