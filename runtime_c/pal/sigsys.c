/* The SIGSYS handler: every system call the seccomp filter does not allow
 * arrives here (SECCOMP_RET_TRAP), on the signal stack, with all signals blocked
 * but SIGSEGV and SIGBUS (pal/fault.c).  It runs on the program's TLS, so it
 * uses no libc and no thread pointer.
 *
 * The shared forms of the futex operations the filter allows privately are the
 * PAL's (futex.c: they are how the seal closes a covert channel, whatever the
 * profile says); every other call goes to the layer. */
#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/audit.h>

#include "xax_frame.h"

#include "futex.h"
#include "rewrite.h"
#include "rewrite_frame.h"
#include "xax_layer.h"
#include "xax_protocol.h"
#include "xax_runtime.h"

static long pal_answer(struct layer_call *c)
{
    long r = pal_futex_shared(c->a);
    if (xax_boot->flags & XAX_BOOT_FLAG_TRACE)
        pal_trace((int)c->nr, r < 0 && r > -4096 ? XAX_TRACE_EMULATED_FAILED : XAX_TRACE_EMULATED);
    return r;
}

long pal_syscall(struct layer_call *c)
{
    if (c->nr == __NR_futex && pal_futex_is_shared((long)c->a[1]))
        return pal_answer(c);
    return xax_layer ? xax_layer->dispatch(c) : -ENOSYS;
}

void xax_sigsys_handler(int sig, void *info, void *context)
{
    siginfo_t *si = info;
    struct ucontext *uc = context;
    struct sigcontext *mc = &uc->uc_mcontext;
    /* Only seccomp's: no other SIGSYS can reach the process from inside it (the
     * filter refuses kill and tgkill of SIGSYS); one from outside is ignored. */
    if (sig != SIGSYS || si->si_code != 1 /* SYS_SECCOMP */)
        return;
    /* The filter kills every other ABI before it can trap; should that ever
     * change, a foreign call must not be read with x86-64 numbers. */
    if (si->si_arch != AUDIT_ARCH_X86_64) {
        mc->rax = (uint64_t)-ENOSYS;
        return;
    }
    struct layer_call c = {
        .nr = si->si_syscall,
        .a = {mc->rdi, mc->rsi, mc->rdx, mc->r10, mc->r8, mc->r9},
        .uc = uc,
    };
    /* A rewritten call returning with signals held back (rewrite.c): not a call. */
    if (mc->rip == (uint64_t)xax_direct_trap_ret && pal_rewrite_enabled()) {
        pal_deliver_deferred(uc, (struct pal_direct_frame *)mc->rdi);
        return;
    }
    uint64_t rax = mc->rax;
    mc->rax = (uint64_t)pal_syscall(&c);
    pal_rewrite_site(c.nr, mc->rip, rax);
}
