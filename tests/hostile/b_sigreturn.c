/* Attack: a forged rt_sigreturn frame whose uc_sigmask blocks SIGSYS (argv[3]
 * "sigsys"), or every signal ("all"), then a trapped call (openat of the
 * canary): the kernel must kill the process with SIGSYS before the call does
 * anything.  "none" forges a frame with an empty mask: the same openat then
 * reaches the layer (-ENOSYS), which proves the forged frame itself works. */
#include <fcntl.h>
#include "b_frame.h"

static const char *canary;

static void after_sigreturn(void)
{
    long r = raw4(SYS_openat, AT_FDCWD, (long)canary, O_RDONLY, 0);
    report("openat", r);
    raw1(SYS_exit_group, 0);
}

int main(int argc, char **argv)
{
    const char *mode = argv[3];
    canary = argv[1];
    uint64_t mask;
    if (!strcmp(mode, "sigsys"))
        mask = B_BIT(SIGSYS);
    else if (!strcmp(mode, "all"))
        mask = ~0ULL;
    else if (!strcmp(mode, "none"))
        mask = 0;
    else
        return 2;
    printf("forging %s\n", mode);
    fflush(stdout);
    (void)argc;
    b_sigreturn_to(after_sigreturn, mask);
}
