/* Attack: rt_sigprocmask blocking SIGSYS (alone, and with SIG_SETMASK of every
 * bit).  The layer emulates the call on the signal frame and must drop SIGSYS
 * from the mask: trapped calls keep reaching the layer afterwards, and the
 * mask read back never shows SIGSYS blocked. */
#include <fcntl.h>
#include <signal.h>
#include "hostile.h"

#define BIT(sig) (1ULL << ((sig)-1))

static uint64_t current(void)
{
    uint64_t old = 0xdeadbeef;
    raw4(SYS_rt_sigprocmask, SIG_BLOCK, 0, (long)&old, 8);
    return old;
}

int main(int argc, char **argv)
{
    uint64_t set = BIT(SIGSYS) | BIT(SIGUSR1), old = 0xdeadbeef;
    report("block", raw4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&set, (long)&old, 8));
    report("old", (long)old);
    report("getppid", raw0(SYS_getppid));
    report("getpid", raw0(SYS_getpid));
    uint64_t now = current();
    report("sigsys_blocked", !!(now & BIT(SIGSYS)));
    report("sigusr1_blocked", !!(now & BIT(SIGUSR1)));
    set = ~0ULL;
    report("setmask_all", raw4(SYS_rt_sigprocmask, SIG_SETMASK, (long)&set, 0, 8));
    report("getpid_after_all", raw0(SYS_getpid));
    now = current();
    report("mask_all_but", (long)~now); /* the bits that stayed unblocked */
    report("openat", raw4(SYS_openat, AT_FDCWD, (long)argv[1], O_RDONLY, 0));
    (void)argc;
    return 0;
}
