/* The rt_sigaction allowlist entry: the act pointer must be the sigaction
 * buffer (argv[3], its address; the test fixes it) and the signal must not be
 * SIGSYS, SIGKILL or SIGSTOP.  Writes SIG_IGN into the buffer itself and tries
 * to take SIGSYS with it, directly, with junk above the signal number, and for
 * SIGKILL; then uses the allowed form for SIGSEGV.  (The layer takes SIGSYS as
 * the program's own virtual action: the real one stays the PAL's, which the
 * trapped getpid after it shows.) */
#include <signal.h>
#include <stdlib.h>
#include "hostile.h"

struct k_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

int main(int argc, char **argv)
{
    (void)argc;
    struct k_sigaction *buf = (struct k_sigaction *)strtoul(argv[3], 0, 16);
    buf->handler = SIG_IGN;
    buf->flags = 0x04000000; /* SA_RESTORER */
    buf->restorer = 0;
    buf->mask = ~0UL;
    report("sigsys_via_buffer", raw4(SYS_rt_sigaction, SIGSYS, (long)buf, 0, 8));
    report("sigsys_junk_high", raw4(SYS_rt_sigaction, SIGSYS | (1L << 32), (long)buf, 0, 8));
    report("sigkill_via_buffer", raw4(SYS_rt_sigaction, SIGKILL, (long)buf, 0, 8));
    report("getpid_after", raw0(SYS_getpid)); /* a trapped call still reaches the layer */
    report("segv_via_buffer", raw4(SYS_rt_sigaction, SIGSEGV, (long)buf, 0, 8));
    struct k_sigaction own = {SIG_DFL, 0x04000000, 0, 0};
    report("segv_own_struct", raw4(SYS_rt_sigaction, SIGSEGV, (long)&own, 0, 8));
    report("openat", raw4(SYS_openat, -100, (long)argv[1], 0, 0));
    return 0;
}
