/* The program's own faults reach its handlers as natively, while the PAL keeps the
 * real SIGSEGV and SIGBUS handlers for itself (a bad pointer in a system call is
 * -EFAULT, never the program's signal).  A SIGSEGV handler sees the faulting
 * address and code and recovers with siglongjmp; meanwhile a write() from a bad
 * buffer is -EFAULT without running the handler; the handler may make system
 * calls with bad pointers too; a SIGBUS (an unaligned load with the alignment
 * check on) reaches its handler, which turns the check off in the interrupted
 * context and returns; with the default action restored, the last fault ends
 * the program (SIGSEGV). */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ucontext.h>
#include <unistd.h>

static sigjmp_buf back;
static volatile sig_atomic_t handled;
static void *volatile fault_addr;
static volatile int fault_code, in_handler_write;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    handled = sig;
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    char *bad = (char *)16;
    in_handler_write = write(1, bad, 4) < 0 ? errno : 0; /* a bad pointer, in the handler */
    if (sig == SIGBUS) { /* the alignment check off: the load runs again, and passes */
        ((ucontext_t *)uc)->uc_mcontext.gregs[REG_EFL] &= ~0x40000L;
        return;
    }
    siglongjmp(back, 1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGBUS, &sa, 0);

    char *page = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    errno = 0;
    long w = write(1, page - 4096 * 16, 8); /* almost surely unmapped */
    printf("bad write: %ld errno %d handled %d\n", w, errno, (int)handled);
    fflush(stdout);

    for (int round = 0; round < 3; round++) {
        handled = 0;
        if (!sigsetjmp(back, 1))
            page[round] = 1; /* read-only: SEGV_ACCERR */
        printf("store %d: signal %d at page+%ld code %d, write in handler errno %d\n", round, (int)handled,
               (long)((char *)fault_addr - page), fault_code, in_handler_write);
    }

    static char word[8] __attribute__((aligned(8)));
    handled = 0;
    int got;
    __asm__ volatile("pushf; orl $0x40000, (%%rsp); popf; movl 1(%1), %0; pushf; andl $~0x40000, (%%rsp); popf"
                     : "=r"(got) : "r"(word) : "memory", "cc");
    printf("unaligned: signal %d code %d, write in handler errno %d, loaded %d\n", (int)handled, fault_code,
           in_handler_write, got);
    fflush(stdout);

    signal(SIGSEGV, SIG_DFL);
    page[0] = 1;
    printf("still here\n");
    return 0;
}
