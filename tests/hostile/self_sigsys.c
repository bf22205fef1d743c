/* Attack: make trapped calls go unanswered with a SIGSYS of the program's own.
 * The kernel queues one of each classic signal: while a SIGSYS sent to a
 * thread is pending, the SIGSYS of that thread's next trapped call is dropped,
 * the call is skipped and returns its own number, and the handler then runs for
 * the program's SIGSYS instead (which says nothing of the call).
 *
 * A raw thread (clone with pthread_create's flags; no TLS) makes trapped
 * getpid calls, each of which the layer answers with the virtual pid, and counts the other
 * answers in `wrong`.  Meanwhile the main thread sends it SIGSYS: through the
 * layer (tgkill and kill with the virtual pid, tkill), and by hand at the host
 * pid, found as the one pid below the thread's own for which kill(pid, 0)
 * reaches the kernel and answers 0.  The program ignores SIGSYS (SIG_IGN), so
 * natively every one of these is harmless. */
#include <linux/sched.h>
#include <signal.h>
#include <stdlib.h>
#include "hostile.h"
#include "xax_protocol.h"

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | \
                      CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)
#define CALLS 100000

static volatile long wrong, made, done;
static int tid_word;

static void child_body(void)
{
    for (long i = 0; i < CALLS; i++) {
        if (raw0(SYS_getpid) != XAX_VIRTUAL_PID)
            wrong++;
        made++;
    }
    done = 1;
    for (;;)
        raw1(SYS_exit, 0);
}

static long spawn(void)
{
    char *stack = malloc(1 << 20);
    long *top = (long *)(stack + (1 << 20) - 64);
    long r;
    register long r10 __asm__("r10") = (long)&tid_word;
    register long r8 __asm__("r8") = (long)stack + 32; /* tls: somewhere harmless */
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "call *%[body]\n\t"
                     "1:"
                     : "=a"(r)
                     : "a"(SYS_clone), "D"(THREAD_FLAGS), "S"(top), "d"(&tid_word), "r"(r10), "r"(r8),
                       [body] "r"(child_body)
                     : "rcx", "r11", "memory");
    return r;
}

int main(void)
{
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    report("ignore", sigaction(SIGSYS, &ign, 0) == 0 ? 0 : -1);
    long tid = spawn();
    if (tid <= 0) {
        report("clone", tid);
        return 1;
    }
    long host = 0;
    for (long p = tid - 1; p > 0 && p > tid - 100000 && !host; p--)
        if (p != XAX_VIRTUAL_PID && raw2(SYS_kill, p, 0) == 0)
            host = p;
    report("host_pid_found", host != 0);
    /* The answers are the first round's, while the thread surely lives (it ends on its own). */
    long direct_tgkill = raw3(SYS_tgkill, host, tid, SIGSYS), direct_kill = raw2(SYS_kill, host, SIGSYS);
    long layer_tgkill = raw3(SYS_tgkill, XAX_VIRTUAL_PID, tid, SIGSYS), layer_tkill = raw2(SYS_tkill, tid, SIGSYS);
    long layer_kill = raw2(SYS_kill, XAX_VIRTUAL_PID, SIGSYS);
    for (long i = 0; !done; i++) {
        raw3(SYS_tgkill, host, tid, SIGSYS);
        raw3(SYS_tgkill, XAX_VIRTUAL_PID, tid, SIGSYS);
        raw2(SYS_tkill, tid, SIGSYS);
        if (i % 64 == 0) {
            raw2(SYS_kill, host, SIGSYS);
            raw2(SYS_kill, XAX_VIRTUAL_PID, SIGSYS);
        }
    }
    report("direct_tgkill", direct_tgkill);
    report("direct_kill", direct_kill);
    report("layer_tgkill", layer_tgkill);
    report("layer_tkill", layer_tkill);
    report("layer_kill", layer_kill);
    report("made", made);
    report("wrong", wrong);
    return 0;
}
