/* The SIGSYS handler: every system call the seccomp filter does not allow
 * arrives here (SECCOMP_RET_TRAP), on the signal stack, with all signals blocked.
 * It runs on the program's TLS, so it uses no libc and no thread pointer. */
#include <asm/errno.h>
#include <linux/audit.h>

#include "xax_frame.h"

#include "xax_layer.h"
#include "xax_runtime.h"

void xax_sigsys_handler(int sig, void *info, void *context)
{
    siginfo_t *si = info;
    struct ucontext *uc = context;
    struct sigcontext *mc = &uc->uc_mcontext;
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
    mc->rax = xax_layer ? (uint64_t)xax_layer->dispatch(&c) : (uint64_t)-ENOSYS;
}
