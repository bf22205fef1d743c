/* The program's signal actions, and the three signals the PAL keeps for itself.
 *
 * Every action the program sets is installed for real through the one page the
 * filter lets rt_sigaction name (the sigaction buffer), with one exception:
 *
 * - SIGSYS is the seal's.  Its real handler is the PAL's for good (the filter
 *   refuses rt_sigaction of it) and no real SIGSYS other than seccomp's ever
 *   reaches the process (the filter refuses kill and tgkill of it): a pending
 *   one would swallow a trap's SIGSYS, whose call would then return its own
 *   number unanswered.  The program's SIGSYS is virtual: its action is kept here
 *   and a SIGSYS it sends itself is delivered here, in the thread that sent it.
 * - SIGSEGV and SIGBUS: their real handler is the PAL's (fault.c), so that a bad
 *   address handed to a system call comes back as -EFAULT (usercopy.S) instead
 *   of ending the process.  The program's action is kept here and honoured by
 *   fault.c for the program's own faults; one it sends itself is delivered here.
 *
 * Delivering here means what the kernel does when the signal arrives as the
 * trapped call returns: nothing (SIG_IGN), the default action (SIGSYS, SIGSEGV
 * and SIGBUS all end the process), or a signal frame on the program's stack
 * holding the interrupted context, and its handler entered with its mask. */
#include <asm/errno.h>
#include <linux/signal.h>

#include "xax_frame.h"

#include "../lib/lock.h"
#include "../lib/sys.h"
#include "rewrite_frame.h"
#include "user.h"
#include "xax_runtime.h"

#define BIT(sig) (1ULL << ((sig)-1))
#define XAX_NSIG 64 /* the kernel's _NSIG on x86-64: its sigset is 8 bytes */
enum { OWN_SYS, OWN_SEGV, OWN_BUS, OWNED };

static xax_lock lock; /* the buffer and the table */
static void *sigbuf;
static struct xax_k_sigaction owned[OWNED]; /* the program's, as it set them (SIG_DFL at first) */
/* While call sites are rewritten (rewrite.c), every other handler of the
 * program is entered through xax_signal_entry, which looks first whether the
 * signal interrupted a rewritten call inside the runtime; the program's actions
 * are kept here. */
static int wrapping;
static struct xax_k_sigaction wrapped[XAX_NSIG + 1];

static int slot(int sig)
{
    return sig == SIGSYS ? OWN_SYS : sig == SIGSEGV ? OWN_SEGV : sig == SIGBUS ? OWN_BUS : -1;
}

static long install(int sig, const struct xax_k_sigaction *a) /* lock held */
{
    if (!sigbuf)
        return -ENOSYS;
    memcpy(sigbuf, a, sizeof *a);
    return sys4(__NR_rt_sigaction, sig, (long)sigbuf, 0, 8);
}

/* The real action of SIGSEGV and SIGBUS: the PAL's handler, with the program's
 * mask (so its handler runs with it).  SA_NODEFER: neither is ever blocked, or a
 * bad address in a system call made from the program's handler would kill. */
static struct xax_k_sigaction fault_action(uint64_t mask)
{
    struct xax_k_sigaction a = {(void *)xax_fault_entry, SA_SIGINFO | SA_RESTORER | SA_NODEFER,
                                (void *)xax_sigreturn_restorer, mask};
    return a;
}

void pal_signals_init(void *sigaction_buffer)
{
    sigbuf = sigaction_buffer;
    struct xax_k_sigaction a = fault_action(0);
    xax_lock_take(&lock);
    long r = install(SIGSEGV, &a);
    if (r == 0)
        r = install(SIGBUS, &a);
    xax_lock_give(&lock);
    if (r < 0)
        pal_fail(XAX_FAILURE_START, "cannot install the fault handler");
}

long pal_sigaction(int sig, const struct xax_k_sigaction *act)
{
    int s = slot(sig);
    long r = 0;
    /* SIGCHLD's handler is entered through pal_signal too, which names the child by its
     * virtual pid (the kernel's siginfo holds the host's) */
    int wrap = wrapping || (sig == SIGCHLD && xax_layer && xax_layer->vpid_of);
    xax_lock_take(&lock);
    if (s < 0 && wrap && sig > 0 && sig <= XAX_NSIG)
        wrapped[sig] = *act; /* SIG_DFL and SIG_IGN too: a signal held back meanwhile finds them */
    if (s < 0 && wrap && sig > 0 && sig <= XAX_NSIG && act->handler != SIG_DFL && act->handler != SIG_IGN) {
        struct xax_k_sigaction real = *act;
        real.handler = (void *)xax_signal_entry;
        real.flags |= SA_SIGINFO;
        r = install(sig, &real);
    } else if (s < 0) {
        r = install(sig, act);
    } else {
        if (s != OWN_SYS) {
            struct xax_k_sigaction real = fault_action(act->mask);
            r = install(sig, &real);
        }
        if (r == 0)
            owned[s] = *act;
    }
    xax_lock_give(&lock);
    return r;
}

struct xax_k_sigaction pal_action(int sig, int delivering)
{
    int s = slot(sig);
    xax_lock_take(&lock);
    struct xax_k_sigaction a = owned[s];
    if (delivering && (a.flags & SA_RESETHAND) && a.handler != SIG_DFL && a.handler != SIG_IGN)
        owned[s].handler = SIG_DFL, owned[s].flags &= ~(unsigned long)SA_SIGINFO;
    xax_lock_give(&lock);
    return a;
}

/* -- the default action: the end ---------------------------------------------- */

/* An x32 system call: the filter kills the process for it, with SIGSYS. */
static __attribute__((noreturn)) void die_by_sigsys(void)
{
    for (;;)
        sys0(0x40000000 | __NR_getpid);
}

/* SIGSEGV and SIGBUS cannot be sent (kill and tgkill of them are the program's
 * business, and the filter may refuse them): with the default action installed,
 * the CPU raises them.  A non-canonical address faults as SIGSEGV; an unaligned
 * load with the alignment check flag set, as SIGBUS.  Neither lies in
 * usercopy.S, so fault.c does not catch them; should either not fault (no
 * alignment checks on this CPU), SIGSYS ends the process. */
__attribute__((noreturn)) void pal_die_by(int sig)
{
    if (sig == SIGSEGV || sig == SIGBUS) {
        struct xax_k_sigaction dfl = {SIG_DFL, 0, 0, 0};
        xax_lock_take(&lock);
        install(sig, &dfl);
        xax_lock_give(&lock);
        static char word[8] __attribute__((aligned(8)));
        if (sig == SIGSEGV)
            __asm__ volatile("movb (%0), %%al" : : "r"(0x8000000000000000UL) : "rax", "memory");
        else
            __asm__ volatile("pushf; orl $0x40000, (%%rsp); popf; movl 1(%0), %%eax; pushf; andl $~0x40000, (%%rsp); popf"
                             : : "r"(word) : "rax", "memory", "cc");
    }
    die_by_sigsys();
}

/* -- a handler entered as a trapped call returns ------------------------------ */

/* The kernel's x86-64 signal frame; its FPU state lies above it, 64-byte aligned. */
struct rt_frame {
    void *pretcode; /* the handler returns here: the program's restorer */
    struct ucontext uc;
    siginfo_t info;
};

static size_t fpu_size(const struct _fpstate *fp)
{
    if (!fp)
        return 0;
    return fp->sw_reserved.magic1 == FP_XSTATE_MAGIC1 ? fp->sw_reserved.extended_size : sizeof *fp;
}

#define EFLAGS_TF 0x100
#define EFLAGS_DF 0x400
#define EFLAGS_RF 0x10000

/* Build the frame as the kernel's setup_rt_frame does: below the red zone, the
 * FPU state and then the frame, the stack aligned for the handler's entry.  The
 * context saved is the trapped call's, returning `result`; the FPU state is the
 * one the kernel saved in the SIGSYS frame, so rt_sigreturn accepts it.  A stack
 * the frame cannot be written to ends the process with SIGSEGV, as in the kernel. */
static void enter_handler(struct ucontext *uc, long result, const siginfo_t *info,
                          const struct xax_k_sigaction *a)
{
    struct sigcontext *mc = &uc->uc_mcontext;
    const struct _fpstate *fp = (const struct _fpstate *)mc->fpstate;
    size_t fpsize = fpu_size(fp);
    uintptr_t sp = mc->rsp - 128, fp_at = 0;
    /* A thread without a signal stack (Linux gives none to a clone with CLONE_VM: the
     * program's threads) got its SIGSYS frame right below the interrupted rsp, and this
     * handler runs below that: build the handler's frame below both, never over the
     * frame rt_sigreturn has yet to read (over it, the handler's return restored the
     * handler's own entry, again and again: a thread's sleep through a rewritten site
     * interrupted by a signal never returned). */
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (here < sp && sp - here < PAL_RUNTIME_STACK_DEPTH)
        sp = here - 16384;
    if (fpsize)
        sp = fp_at = (sp - fpsize) & ~63UL;
    sp = ((sp - sizeof(struct rt_frame)) & ~15UL) - 8;

    struct rt_frame f;
    memset(&f, 0, sizeof f);
    f.pretcode = a->restorer;
    f.uc = *uc;
    f.uc.uc_mcontext.rax = (uint64_t)result;
    f.uc.uc_mcontext.fpstate = (void *)fp_at;
    f.info = *info;
    if (!(a->flags & SA_RESTORER) || (fpsize && pal_copy_out((void *)fp_at, fp, fpsize)) ||
        pal_copy_out((void *)sp, &f, sizeof f))
        pal_die_by(SIGSEGV);

    mc->rip = (uint64_t)a->handler;
    mc->rsp = sp;
    mc->rdi = (uint64_t)info->si_signo;
    mc->rsi = sp + __builtin_offsetof(struct rt_frame, info);
    mc->rdx = sp + __builtin_offsetof(struct rt_frame, uc);
    mc->eflags &= ~(uint64_t)(EFLAGS_TF | EFLAGS_DF | EFLAGS_RF);
    /* The handler's mask (never SIGSYS, SIGSEGV or SIGBUS, which are never blocked
     * for real: so a second one sent from the handler is delivered at once). */
    uint64_t mask;
    memcpy(&mask, &uc->uc_sigmask, 8);
    uint64_t add = a->mask;
    if (!(a->flags & SA_NODEFER)) /* as the kernel does: the signal itself, during its handler */
        add |= BIT(info->si_signo);
    mask |= add & ~(BIT(SIGSYS) | BIT(SIGSEGV) | BIT(SIGBUS) | BIT(SIGKILL) | BIT(SIGSTOP));
    memcpy(&uc->uc_sigmask, &mask, 8);
}

long pal_raise(void *uc, long result, const struct xax_signal *s)
{
    if (slot(s->sig) < 0)
        return -EINVAL;
    struct xax_k_sigaction a = pal_action(s->sig, 1);
    if (a.handler == SIG_IGN)
        return result;
    if (a.handler == SIG_DFL)
        pal_die_by(s->sig);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = s->sig;
    info.si_code = s->code;
    info.si_pid = (int)s->pid;
    info.si_uid = s->uid;
    enter_handler(uc, result, &info, &a);
    return 0; /* in rax as the handler starts, as the kernel sets it */
}

/* -- signals that interrupt a rewritten call ---------------------------------- */

void pal_signals_wrap(void)
{
    wrapping = 1;
}

/* The program's action for a signal being delivered now (a one-shot handler,
 * SA_RESETHAND, reset as the kernel reset the real action when it arrived). */
static struct xax_k_sigaction wrapped_action(int sig)
{
    xax_lock_take(&lock);
    struct xax_k_sigaction a = wrapped[sig];
    if ((a.flags & SA_RESETHAND) && a.handler != SIG_DFL && a.handler != SIG_IGN)
        wrapped[sig].handler = SIG_DFL, wrapped[sig].flags &= ~(unsigned long)SA_SIGINFO;
    xax_lock_give(&lock);
    return a;
}

/* The runtime's code with nothing of the runtime held: the program's handler
 * may run there at once, as it would just before or after a system call. */
static int holds_nothing(uintptr_t ip)
{
    return !pal_in_runtime(ip) || (ip >= (uintptr_t)xax_direct_entry && ip < (uintptr_t)xax_direct_marked) ||
           (ip >= (uintptr_t)xax_direct_unmarked && ip < (uintptr_t)xax_direct_end);
}

/* The rewritten call's frame the interrupted runtime code runs above: the
 * nearest marked pal_direct_frame up the stack from the interrupted rsp, within
 * the depth the runtime may use (its SIGSYS stack's size). */
static struct pal_direct_frame *interrupted_call(uintptr_t sp)
{
    sp = (sp + 15) & ~15UL;
    for (uintptr_t at = sp; at < sp + PAL_RUNTIME_STACK_DEPTH; at += 16)
        if (*(const uint64_t *)at == (xax_direct_secret ^ at))
            return (struct pal_direct_frame *)at;
    return 0;
}

/* The real handler of every signal the program handles, while sites are
 * rewritten (xax_signal_entry).  Outside the runtime, its handler runs now.
 * Inside it — a rewritten call is running the layer on this thread, which may
 * hold the layer's lock or be in the middle of a channel exchange, and the
 * handler's own system calls would need both — the signal is held in the call's
 * frame and delivered as the call returns (pal_direct_deliver), just as the
 * trap path, whose handler runs with every signal blocked, delivers it when the
 * SIGSYS handler returns. */
void *pal_signal(int sig, siginfo_t *si, struct ucontext *uc)
{
    if (sig < 1 || sig > XAX_NSIG)
        return 0;
    if (sig == SIGCHLD && si->si_code > 0 && xax_layer && xax_layer->vpid_of) { /* the kernel's: CLD_* */
        si->si_pid = xax_layer->vpid_of(si->si_pid);
        si->si_uid = xax_layer->identity->uid;
    }
    if (holds_nothing(uc->uc_mcontext.rip)) {
        struct xax_k_sigaction a = wrapped_action(sig);
        if (a.handler == SIG_DFL) /* changed meanwhile by another thread, and installed for real */
            sys2(__NR_kill, (long)xax_boot->host_pid, sig);
        return a.handler == SIG_DFL || a.handler == SIG_IGN ? 0 : a.handler;
    }
    struct pal_direct_frame *f = interrupted_call(uc->uc_mcontext.rsp);
    if (!f)
        pal_fail(XAX_FAILURE_RUNTIME, "a signal interrupted the runtime outside any call");
    int classic = sig < 32; /* the kernel keeps one of each pending; real-time ones queue */
    for (uint64_t i = 0; classic && i < f->ndeferred; i++)
        if (f->deferred[i].si_signo == sig)
            return 0;
    if (f->ndeferred < PAL_DIRECT_DEFERRED)
        f->deferred[f->ndeferred++] = *si;
    return 0;
}

/* rip == xax_direct_trap_ret: enter the handler of the first signal f holds
 * back, on this SIGSYS frame (the call has returned; it goes on when the
 * handler returns).  Its action is read now, as the kernel reads it at delivery. */
void pal_deliver_deferred(struct ucontext *uc, struct pal_direct_frame *f)
{
    if (f->ndeferred == 0 || f->ndeferred > PAL_DIRECT_DEFERRED)
        return;
    siginfo_t info = f->deferred[0];
    for (uint64_t i = 1; i < f->ndeferred; i++)
        f->deferred[i - 1] = f->deferred[i];
    f->ndeferred--;
    int sig = info.si_signo;
    if (sig < 1 || sig > XAX_NSIG)
        return;
    struct xax_k_sigaction a = wrapped_action(sig);
    if (a.handler == SIG_IGN)
        return;
    if (a.handler == SIG_DFL) { /* changed meanwhile (now installed for real): the kernel's default action */
        sys2(__NR_kill, (long)xax_boot->host_pid, sig);
        return;
    }
    enter_handler(uc, (long)uc->uc_mcontext.rax, &info, &a);
}
