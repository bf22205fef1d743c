/* Attack (limits): spin on the CPU forever, either plainly ("plain") or with
 * every signal but SIGSYS blocked through a forged rt_sigreturn frame
 * ("masked"), so that SIGXCPU at the soft limit cannot end it: only the hard
 * limit's SIGKILL can.  Prints "spinning" first; never prints anything else. */
#include <signal.h>
#include "b_frame.h"

static void spin(void)
{
    for (;;)
        __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    const char *mode = argv[3];
    puts("spinning");
    fflush(stdout);
    if (!strcmp(mode, "plain"))
        spin();
    if (!strcmp(mode, "masked"))
        b_sigreturn_to(spin, ~B_BIT(SIGSYS));
    (void)argc;
    return 2;
}
