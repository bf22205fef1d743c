/* Signals: the mask, the program's handlers, its signal stack, and signals to itself.
 *
 * rt_sigprocmask is emulated on the signal frame: the mask the program sees and
 * sets is the one rt_sigreturn will restore, minus SIGSYS (blocking SIGSYS
 * would make the kernel kill the process at the next trapped call), SIGSEGV
 * and SIGBUS (a bad address handed to a system call faults in the PAL, which
 * turns the fault into -EFAULT only if it can take it: pal/fault.c), SIGKILL
 * and SIGSTOP.  The kernel's sigset is 8 bytes (glibc's is 128: write 8).
 *
 * @family sigmask: the signal mask, kept in the signal frame; SIGSYS, SIGSEGV and SIGBUS can never
 *     be blocked
 * @serves rt_sigprocmask
 *
 * @family sigaction: the program's handlers for its own signals, installed by the PAL (through the
 *     sigaction buffer; SIGSYS's, SIGSEGV's and SIGBUS's it keeps and honours itself) with those
 *     three out of their masks; the real SIGSYS stays the seal's
 * @serves rt_sigaction
 *
 * @family kill: signals to the picoprocess itself (its virtual pid, its group, its threads)
 *     through kill and tgkill at its host pid, the only ones the filter allows; SIGSYS, SIGSEGV
 *     and SIGBUS delivered by the PAL, never sent; with processes, other processes and groups
 *     of the family (0, -pgid, -1) through the Monitor (KILL); every other pid ESRCH
 * @serves kill tkill tgkill
 *
 * @family sigaltstack: the program's signal stack, recorded and reported but not installed (the
 *     only real one is the layer's; handlers run on the program's stack)
 * @serves sigaltstack
 */
#include <linux/signal.h>

#include "xax_frame.h"

#include "../lib/sys.h"
#include "layer.h"
#include "user.h"

#define BIT(sig) (1ULL << ((sig)-1))
#define NEVER_BLOCKED (BIT(SIGSYS) | BIT(SIGSEGV) | BIT(SIGBUS) | BIT(SIGKILL) | BIT(SIGSTOP))

/* The new set is copied in first; the old one out last, after the new mask is set
 * (a bad old pointer leaves it set and answers -EFAULT, as in Linux). */
long layer_rt_sigprocmask(struct layer_call *c)
{
    int how = (int)c->a[0];
    if (c->a[3] != 8)
        return -EINVAL;
    struct ucontext *uc = c->uc;
    uint64_t prev, cur;
    memcpy(&prev, &uc->uc_sigmask, 8);
    cur = prev;
    if (c->a[1]) {
        uint64_t s;
        if (user_in(&s, c->a[1], 8) < 0)
            return -EFAULT;
        if (how == SIG_BLOCK)
            cur |= s;
        else if (how == SIG_UNBLOCK)
            cur &= ~s;
        else if (how == SIG_SETMASK)
            cur = s;
        else
            return -EINVAL;
    }
    cur &= ~NEVER_BLOCKED;
    memcpy(&uc->uc_sigmask, &cur, 8);
    return c->a[2] ? user_out(c->a[2], &prev, 8) : 0;
}

/* rt_sigaction: the program's handlers for its own signals are installed by the
 * PAL (for real, through the one buffer the filter allows, or for SIGSEGV and
 * SIGBUS kept by the PAL, whose own handler stays: pal/signals.c), with the
 * never-blocked signals taken out of their masks (a handler running with SIGSYS
 * blocked would be killed at its first trapped call) and without SA_ONSTACK (the
 * only signal stack is the layer's).  The program's SIGSYS is kept by the PAL
 * too, never installed: the real one is the seal's.  The program reads back what
 * it set (a shadow table), not the sanitized copy.  In Linux's order: the new
 * action is copied in before the signal is checked, the old one copied out after
 * the new one is set. */
long layer_rt_sigaction(struct layer_call *c)
{
    int sig = (int)c->a[0];
    if (c->a[3] != 8)
        return -EINVAL;
    struct xax_k_sigaction want;
    if (c->a[1] && user_in(&want, c->a[1], sizeof want) < 0)
        return -EFAULT;
    if (sig < 1 || sig > LAYER_SIG_MAX || (c->a[1] && (sig == SIGKILL || sig == SIGSTOP)))
        return -EINVAL;
    struct xax_k_sigaction prev = layer.sigactions[sig];
    if (c->a[1]) {
        struct xax_k_sigaction real = want;
        real.mask &= ~NEVER_BLOCKED;
        real.flags &= ~(unsigned long)SA_ONSTACK;
        long r = layer_host->sigaction(sig, &real);
        if (r < 0)
            return r;
        layer.sigactions[sig] = want;
    }
    return c->a[2] ? user_out(c->a[2], &prev, sizeof prev) : 0;
}

/* sigaltstack: the only real signal stack is the layer's (SIGSYS runs there),
 * so the program's is recorded and reported back but not installed — its
 * handlers run on its own stack (rt_sigaction drops SA_ONSTACK).  Checked as
 * Linux checks it. */
long layer_sigaltstack(struct layer_call *c)
{
    struct k_stack prev = layer.sigaltstack;
    if (c->a[0]) {
        struct k_stack want;
        if (user_in(&want, c->a[0], sizeof want) < 0)
            return -EFAULT;
        int mode = want.ss_flags & ~SS_AUTODISARM;
        if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK)
            return -EINVAL;
        if (mode == SS_DISABLE) {
            want.ss_sp = 0;
            want.ss_size = 0;
        } else if (want.ss_size < MINSIGSTKSZ) {
            return -ENOMEM;
        }
        want.ss_flags = mode == SS_DISABLE ? SS_DISABLE : (want.ss_flags & SS_AUTODISARM);
        layer.sigaltstack = want;
    }
    return c->a[1] ? user_out(c->a[1], &prev, sizeof prev) : 0;
}

/* kill, tkill, tgkill: a picoprocess can signal itself and nothing else.  The
 * program names itself by its virtual pid (and glibc's threads by their real
 * tids, which the kernel wrote into its pthread structs); the filter allows
 * kill and tgkill only at the host pid (xax_emu/seal/allowlist.py).  A
 * process-directed signal stands for one to the thread that raised it (the
 * layer does not know that thread's host tid).
 *
 * SIGSYS, SIGSEGV and SIGBUS are never sent for real: their real handlers are
 * the PAL's, and a real SIGSYS pending when a call traps would swallow the
 * trap's (the filter refuses kill and tgkill of SIGSYS).  The PAL delivers them
 * to the program's action as this call returns, in the thread that sent them,
 * whichever of its threads they were meant for (pal/signals.c). */
static int kept_by_the_pal(long sig)
{
    return sig == SIGSYS || sig == SIGSEGV || sig == SIGBUS;
}

static long deliver_here(struct layer_call *c, long sig, int code)
{
    struct xax_signal s = {(int)sig, code, (uint32_t)layer_vpid(), layer_knobs.identity.uid};
    return layer_host->raise(c->uc, 0, &s);
}

/* Another process of the family (or a forked child itself, whose host pid is not the one its
 * inherited filter lets kill name): the Monitor signals it through its pidfd (KILL). */
static long signal_member(int32_t vpid, long sig)
{
    return layer_host->xaxcall(XAX_MSG_KILL, vpid, (int32_t)sig, 0, 0, 0, 0, 0);
}

static long signal_self(struct layer_call *c, long sig, int code)
{
    if (kept_by_the_pal(sig))
        return deliver_here(c, sig, code);
    if (layer_vpid() != XAX_VIRTUAL_PID)
        return signal_member(layer_vpid(), sig);
    return sys2(__NR_kill, layer_host->host_pid, sig);
}

/* Another of its threads, by real tid. */
static long signal_thread(struct layer_call *c, int tid, long sig)
{
    if (layer_vpid() != XAX_VIRTUAL_PID) /* a forked child: its filter names its parent's pid, not its own */
        return -ESRCH;
    if (!kept_by_the_pal(sig))
        return sys3(__NR_tgkill, layer_host->host_pid, tid, sig);
    long r = sys3(__NR_tgkill, layer_host->host_pid, tid, 0); /* is there such a thread? */
    return r < 0 ? r : deliver_here(c, sig, SI_TKILL);
}

long layer_kill(struct layer_call *c)
{
    int pid = (int)c->a[0];
    long sig = (int)c->a[1];
    if (sig < 0 || sig > LAYER_SIG_MAX)
        return -EINVAL;
    if (pid == layer_vpid())
        return signal_self(c, sig, SI_USER);
    if (!layer_processes_enabled()) /* a family of one: its own group (0, or by number) is itself */
        return pid == 0 || pid == -XAX_VIRTUAL_PID ? signal_self(c, sig, SI_USER) : -ESRCH;
    if (pid > 0)
        return pid <= XAX_VIRTUAL_PID + XAX_VIRTUAL_PIDS_MAX ? signal_member(pid, sig) : -ESRCH;
    if (pid == INT32_MIN)
        return -ESRCH; /* Linux: its group number cannot be negated */
    /* a group of the family (0: its own; -1: every other process): the Monitor signals the
     * others, and says whether the caller is in it too, to be signalled last, here */
    long r = signal_member(pid, sig);
    return r == XAX_KILL_SELF_TOO ? signal_self(c, sig, SI_USER) : r;
}

long layer_tgkill(struct layer_call *c)
{
    int tgid = (int)c->a[0], tid = (int)c->a[1];
    long sig = (int)c->a[2];
    if (sig < 0 || sig > LAYER_SIG_MAX || tgid <= 0 || tid <= 0)
        return -EINVAL;
    if (tgid != layer_vpid())
        return -ESRCH;
    if (tid == layer_vpid())
        return signal_self(c, sig, SI_TKILL);
    return signal_thread(c, tid, sig);
}

long layer_tkill(struct layer_call *c)
{
    int tid = (int)c->a[0];
    long sig = (int)c->a[1];
    if (sig < 0 || sig > LAYER_SIG_MAX || tid <= 0)
        return -EINVAL;
    if (tid == layer_vpid())
        return signal_self(c, sig, SI_TKILL);
    return signal_thread(c, tid, sig);
}
