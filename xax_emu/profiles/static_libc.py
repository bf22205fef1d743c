"""static-libc: the start-up probes of static musl and glibc programs, answered
the way a minimal kernel would, on top of posix-core."""
import errno

from ..syscalls.profile import Profile, reject
from .posix_core import POSIX_CORE

STATIC_LIBC = Profile(
    "static-libc",
    extends=[POSIX_CORE],
    note="static musl and glibc programs: the default for `xax-emu run PROGRAM`",
    syscalls={
        "rseq": reject(errno.ENOSYS, note="glibc registers rseq if it can; without it, it does without"),
        "set_robust_list": reject(errno.ENOSYS, note="no robust futexes (a dying thread's locks released by the kernel): "
                                   "libcs go on without them"),
    },
)
