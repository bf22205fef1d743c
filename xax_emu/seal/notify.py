"""The Monitor's end of the kernel-counting filter: a seccomp notification listener.

Trace mode only.  The boot block installs the filter of `notify_filter_bpf()`
with SECCOMP_FILTER_FLAG_NEW_LISTENER and sends the listener to the Monitor;
each allowlisted system call of the picoprocess then waits in the kernel until
the Monitor has received it (SECCOMP_IOCTL_NOTIF_RECV) and answered it with
SECCOMP_USER_NOTIF_FLAG_CONTINUE (SECCOMP_IOCTL_NOTIF_SEND): the call then runs
as if no filter had asked.  The answer is always CONTINUE: the seal, not this
filter, decides what runs, and the Monitor reads no memory of the picoprocess.

SECCOMP_IOCTL_NOTIF_RECV blocks while nothing is pending, so `receive` polls
first: when poll says POLLIN a notification was queued, and if its caller died
since, RECV fails with ENOENT instead of blocking.  Structures and ioctl
numbers follow <linux/seccomp.h>; the numbers are computed from the structure
sizes, as the kernel's _IOWR does.
"""
from __future__ import annotations

import errno
import os
import select
from dataclasses import dataclass

from cffi import FFI

from ..errors import SealError

ffi = FFI()
ffi.cdef(
    """
    struct seccomp_data { int nr; uint32_t arch; uint64_t instruction_pointer; uint64_t args[6]; };
    struct seccomp_notif { uint64_t id; uint32_t pid; uint32_t flags; struct seccomp_data data; };
    struct seccomp_notif_resp { uint64_t id; int64_t val; int32_t error; uint32_t flags; };
    int ioctl(int fd, unsigned long request, ...);
    """
)

AUDIT_ARCH_X86_64 = 0xC000003E       # <linux/audit.h>
USER_NOTIF_FLAG_CONTINUE = 1         # <linux/seccomp.h> SECCOMP_USER_NOTIF_FLAG_CONTINUE
LISTENER_LINK = "anon_inode:seccomp notify"  # what /proc/self/fd/N shows for a listener


def _iowr(nr: int, size: int) -> int:
    """_IOWR(SECCOMP_IOC_MAGIC '!', nr, size) of <asm-generic/ioctl.h>."""
    return (3 << 30) | (size << 16) | (ord("!") << 8) | nr


IOCTL_NOTIF_RECV = _iowr(0, ffi.sizeof("struct seccomp_notif"))
IOCTL_NOTIF_SEND = _iowr(1, ffi.sizeof("struct seccomp_notif_resp"))

_libc = None


def _lib():
    global _libc
    if _libc is None:
        _libc = ffi.dlopen(None)
    return _libc


@dataclass(frozen=True)
class Notification:
    """One system call waiting for the Monitor: copied out of the kernel's structure."""

    id: int
    pid: int
    nr: int
    arch: int
    ip: int


class Listener:
    """A seccomp notification listener fd, owned (and closed) by this object."""

    def __init__(self, fd: int):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError as e:
            os.close(fd)
            raise SealError(f"the notification listener fd {fd} cannot be checked: {e}") from None
        if link != LISTENER_LINK:
            os.close(fd)
            raise SealError(f"fd {fd} is {link!r}, not a seccomp notification listener")
        self.fd = fd
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)
        self._notif = ffi.new("struct seccomp_notif *")
        self._notif_bytes = ffi.buffer(self._notif)
        self._resp = ffi.new("struct seccomp_notif_resp *")

    def fileno(self) -> int:
        return self.fd

    def state(self) -> str:
        """"pending" (a notification waits), "idle", or "gone" (no process uses the filter)."""
        events = 0
        for _, ev in self._poll.poll(0):
            events |= ev
        if events & select.POLLIN:
            return "pending"
        return "gone" if events & (select.POLLHUP | select.POLLERR | select.POLLNVAL) else "idle"

    def receive(self) -> Notification | None:
        """The next notification, or None when none is pending (never blocks)."""
        if self.state() != "pending":
            return None
        self._notif_bytes[:] = bytes(len(self._notif_bytes))  # RECV wants it zeroed
        if _lib().ioctl(self.fd, IOCTL_NOTIF_RECV, self._notif) < 0:
            err = ffi.errno
            if err in (errno.ENOENT, errno.EINTR):  # its caller died or was interrupted meanwhile
                return None
            raise SealError(f"SECCOMP_IOCTL_NOTIF_RECV failed: {os.strerror(err)}")
        n = self._notif
        return Notification(int(n.id), int(n.pid), int(n.data.nr), int(n.data.arch),
                            int(n.data.instruction_pointer))

    def let_continue(self, notification_id: int) -> bool:
        """Let the call run as if unfiltered.  False if it no longer waits (its caller
        died, or a signal interrupted the wait: the call did not run, and is made again
        if it restarts)."""
        r = self._resp
        r.id, r.val, r.error, r.flags = notification_id, 0, 0, USER_NOTIF_FLAG_CONTINUE
        while _lib().ioctl(self.fd, IOCTL_NOTIF_SEND, r) < 0:
            err = ffi.errno
            if err == errno.EINTR:  # a signal to the Monitor: the call still waits for its answer
                continue
            if err == errno.ENOENT:
                return False
            raise SealError(f"SECCOMP_IOCTL_NOTIF_SEND failed: {os.strerror(err)}")
        return True

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
