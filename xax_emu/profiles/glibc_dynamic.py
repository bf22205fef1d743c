"""glibc-dynamic: Debian's dynamically linked programs, loaded by ld.so from the
image, on top of static-libc: the probes glibc and interpreters like python3 make
at start-up, answered failure-obliviously."""
import errno

from ..syscalls.profile import Profile, reject
from .static_libc import STATIC_LIBC

GLIBC_DYNAMIC = Profile(
    "glibc-dynamic",
    extends=[STATIC_LIBC],
    note="dynamically linked glibc programs: ld.so and its libraries come from the image",
    syscalls={
        "socket": reject(errno.EAFNOSUPPORT, note="no sockets: the origin is reached through xabi_open_url"),
        "sched_getaffinity": reject(errno.ENOSYS, note="callers fall back to one CPU's worth of answers"),
    },
)
