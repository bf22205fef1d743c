/* The floor under an emulated system call, measured natively: close(-1) as a plain
 * system call; getppid() before and after a seccomp filter is installed (what the
 * filter costs an allowed call); close(-1) trapped by the filter (SECCOMP_RET_TRAP)
 * into a SIGSYS handler that only sets the return value -- a signal delivery and a
 * rt_sigreturn, with no dispatch behind them.  Also table1.c's SHA-1 before and
 * after the filter: what a seccomp filter alone does to code that makes no calls.
 * Prints "name ns" lines (medians). */
#define _GNU_SOURCE /* REG_RAX */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "bench.h"
#include "sha1.h"

enum { RUNS = 31, CALLS = 20000 };

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)si;
    ((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RAX] = -EBADF;
}

static double per_call(long nr, long arg)
{
    double v[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t = now();
        for (int i = 0; i < CALLS; i++)
            syscall(nr, arg);
        v[r] = (now() - t) / CALLS;
    }
    return median(v, RUNS);
}

static volatile uint32_t sink; /* keeps the SHA-1 from being optimized away */

static double compute(void)
{
    static unsigned char text[340 * 1024];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "the war of the worlds "[i % 22];
    double v[RUNS];
    uint32_t h[5];
    for (int r = 0; r < RUNS; r++) {
        double t = now();
        sha1(text, sizeof text, h);
        v[r] = now() - t;
        sink ^= h[0];
    }
    return median(v, RUNS);
}

int main(void)
{
    compute(); /* a warm-up: the first pass pays for faulting in the text */
    printf("compute_native %.0f\n", compute());
    printf("close_native %.1f\n", per_call(SYS_close, -1));
    printf("getppid_native %.1f\n", per_call(SYS_getppid, 0));
    struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
    sigaction(SIGSYS, &sa, 0);
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
        perror("trapfloor: seccomp");
        return 1;
    }
    printf("compute_filtered %.0f\n", compute());
    printf("getppid_filtered %.1f\n", per_call(SYS_getppid, 0));
    printf("close_trapped %.1f\n", per_call(SYS_close, -1));
    return 0;
}
