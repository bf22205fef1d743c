/* rt_sigprocmask, emulated on the signal frame: the mask the program sees and
 * sets is the one rt_sigreturn will restore, minus SIGSYS (blocking SIGSYS
 * would make the kernel kill the process at the next trapped call), SIGKILL
 * and SIGSTOP.  The kernel's sigset is 8 bytes (glibc's is 128: write 8). */
#include "xax_frame.h"

#include "../lib/sys.h"
#include "layer.h"

#define BIT(sig) (1ULL << ((sig)-1))
#define NEVER_BLOCKED (BIT(SIGSYS) | BIT(SIGKILL) | BIT(SIGSTOP))

long layer_rt_sigprocmask(struct layer_call *c)
{
    int how = (int)c->a[0];
    const uint64_t *set = (const uint64_t *)c->a[1];
    uint64_t *old = (uint64_t *)c->a[2];
    if (c->a[3] != 8)
        return -EINVAL;
    struct ucontext *uc = c->uc;
    uint64_t cur;
    memcpy(&cur, &uc->uc_sigmask, 8);
    if (set) {
        uint64_t s;
        memcpy(&s, set, 8);
        if (how == SIG_BLOCK)
            cur |= s;
        else if (how == SIG_UNBLOCK)
            cur &= ~s;
        else if (how == SIG_SETMASK)
            cur = s;
        else
            return -EINVAL;
    }
    if (old)
        memcpy(old, &uc->uc_sigmask, 8);
    cur &= ~NEVER_BLOCKED;
    memcpy(&uc->uc_sigmask, &cur, 8);
    return 0;
}
