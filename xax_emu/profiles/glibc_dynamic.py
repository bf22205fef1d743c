"""glibc-dynamic: Debian's dynamically linked programs, loaded by ld.so from the
image, on top of static-libc: the probes glibc and interpreters like python3 make
at start-up, answered failure-obliviously."""
import errno

from ..syscalls.profile import Profile, emulate, emulate_all, reject
from .static_libc import STATIC_LIBC

GLIBC_DYNAMIC = Profile(
    "glibc-dynamic",
    extends=[STATIC_LIBC],
    note="dynamically linked glibc programs: ld.so and its libraries come from the image",
    syscalls={
        **emulate_all("sockets", note="inside the picoprocess: its own connections, the browser's under serve, "
                                      "its origin; every other address unreachable"),
        "socket": emulate("sockets", note="AF_UNIX, AF_INET, AF_INET6 inside the picoprocess, never a host socket; "
                          "local daemons a library probes for are not running"),
        "connect": emulate("sockets", note="its own listeners, or its origin through the Monitor; elsewhere "
                           "ENETUNREACH, and as on a machine where no daemon listens"),
        "sched_getaffinity": reject(errno.ENOSYS, note="callers fall back to one CPU's worth of answers"),
    },
)
