/* SIGSEGV and SIGBUS: the PAL's handler (entered through xax_fault_entry,
 * usercopy.S), installed by signals.c with the program's mask.
 *
 * - A fault of a usercopy.S routine (a bad address the program handed to a
 *   system call): resume at its fixup (xax_user_table), which makes the routine
 *   return what it did so far, or -EFAULT.  This
 *   happens inside the SIGSYS handler, whose mask leaves both signals
 *   deliverable (boot.c), so it never holds a lock of its own here; the routines
 *   hold none either.
 * - A fault of any other runtime code (the PAL's or the layer's) is a fault of
 *   the runtime, never the program's to catch: the process ends with it.
 * - The program's own fault, or one sent to it while it runs its own code: the
 *   program's action, as the kernel would take it — its handler entered on this
 *   very frame, or the default action (a fault cannot be ignored).
 * - One sent while it is inside a trapped call (only kill or tgkill at its host
 *   pid by hand can do that: the layer delivers SIGSEGV and SIGBUS itself) cannot
 *   run the program's handler in the middle of the runtime: the default action
 *   still ends the process; a handled or ignored one is dropped.
 * - The Monitor's SIGBUS that ends a thread at an exec (xax_emu/monitor/threads.py: si_code
 *   SI_QUEUE, the value XAX_EXEC_END_THREAD): a thread running the program's code ends here, as
 *   the kernel's exec would end it; one inside the runtime lets it pass (the thread that execs,
 *   and threads the layer holds back, which end themselves: layer/dispatch.c).  Hostile code can
 *   queue one only to its own threads (rt_tgsigqueueinfo traps), ending only its own thread. */
#include <linux/signal.h>

#include "xax_frame.h"

#include "../lib/sys.h"
#include "user.h"
#include "xax_protocol.h"
#include "xax_runtime.h"

void *pal_fault(int sig, siginfo_t *si, struct ucontext *uc)
{
    uintptr_t ip = uc->uc_mcontext.rip;
    int by_cpu = si->si_code > 0; /* raised by the kernel for an instruction, not sent by anyone */
    if (sig != SIGSEGV && sig != SIGBUS)
        return 0;
    for (const struct xax_user_fixup *e = xax_user_table; by_cpu && e < xax_user_table_end; e++)
        if (ip == e->insn) {
            uc->uc_mcontext.rip = e->fixup;
            return 0;
        }
    int in_runtime = pal_in_runtime(ip);
    if (sig == SIGBUS && si->si_code == SI_QUEUE && (uint32_t)si->si_int == XAX_EXEC_END_THREAD) {
        if (!in_runtime)
            sys1(__NR_exit, 0);
        return 0;
    }
    if (by_cpu && in_runtime)
        pal_die_by(sig);
    struct xax_k_sigaction a = pal_action(sig, !in_runtime);
    if (a.handler == SIG_DFL || (a.handler == SIG_IGN && by_cpu))
        pal_die_by(sig);
    if (a.handler == SIG_IGN || in_runtime)
        return 0;
    if (!(a.flags & SA_RESTORER)) /* the kernel could not have delivered it either */
        pal_die_by(SIGSEGV);
    ((void **)uc)[-1] = a.restorer; /* the frame's return address (rt_sigframe.pretcode) */
    return a.handler;
}
