/* Attack: take SIGSYS away from the layer with rt_sigaction: SIGSYS ignored,
 * SIGSYS sent to a program handler, and reading the layer's action.  The layer
 * keeps them as the program's own (virtual) SIGSYS action; the real one must
 * stay the PAL's: trapped calls must still reach the layer after each. */
#include <fcntl.h>
#include <signal.h>
#include "hostile.h"

struct ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

static void handler(int sig)
{
    (void)sig;
    raw1(SYS_exit_group, 99); /* never: the layer owns SIGSYS */
}

int main(int argc, char **argv)
{
    struct ksigaction ign = {SIG_IGN, 0, 0, 0}, own = {(void *)handler, 0x04000000 /* SA_RESTORER */, (void *)handler, ~0ULL};
    struct ksigaction old;
    memset(&old, 0x55, sizeof old);
    report("sigaction_ign", raw4(SYS_rt_sigaction, SIGSYS, (long)&ign, 0, 8));
    report("getpid_after_ign", raw0(SYS_getpid));
    report("sigaction_handler", raw4(SYS_rt_sigaction, SIGSYS, (long)&own, 0, 8));
    report("getpid_after_handler", raw0(SYS_getpid));
    report("sigaction_read", raw4(SYS_rt_sigaction, SIGSYS, 0, (long)&old, 8));
    report("old_untouched", old.flags == 0x5555555555555555UL);
    report("openat", raw4(SYS_openat, AT_FDCWD, (long)argv[1], O_RDONLY, 0));
    (void)argc;
    return 0;
}
