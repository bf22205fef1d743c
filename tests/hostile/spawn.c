/* Attack: make a second process or thread.  fork, vfork, clone (a process,
 * and a thread with CLONE_THREAD), clone3 (both).  A child, had one appeared,
 * runs only the few instructions below: it sets `flag` (seen by the parent when
 * memory is shared) and writes a TRACE message for syscall number 1000+i to the
 * channel (counted by the Monitor in any case), then exits its thread. */
#include <linux/sched.h>
#include <signal.h>
#include <stdlib.h>
#include "xax_protocol.h"
#include "hostile.h"

static volatile int flag;
static struct xax_msg_hdr marks[8];

/* The syscall; in a child (rax == 0): flag = 1, write(the channel, mark, 24), exit(0). */
static long spawn(long nr, long a, long b, long c, long d, long e, int i)
{
    struct xax_msg_hdr *m = &marks[i];
    *m = (struct xax_msg_hdr){XAX_MAGIC, XAX_VERSION, XAX_MSG_TRACE, 0, 1000 + i, 0, 0};
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "movl $1, (%[flag])\n\t"
                     "mov %[wr], %%eax\n\t"
                     "mov %[chan], %%edi\n\t"
                     "mov %[m], %%rsi\n\t"
                     "mov %[len], %%edx\n\t"
                     "syscall\n\t"
                     "mov %[ex], %%eax\n\t"
                     "xor %%edi, %%edi\n\t"
                     "syscall\n\t"
                     "1:"
                     : "=a"(r), "+D"(a), "+S"(b), "+d"(c), "+r"(r10), "+r"(r8)
                     : "a"(nr), [flag] "r"(&flag), [m] "r"(m), [wr] "i"(SYS_write), [ex] "i"(SYS_exit),
                       [len] "i"(sizeof *m), [chan] "i"(XAX_CHANNEL_FD)
                     : "rcx", "r11", "memory");
    return r;
}

int main(int argc, char **argv)
{
    char *stack = malloc(65536) + 65536;
    const long thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    struct clone_args proc = {.exit_signal = SIGCHLD};
    struct clone_args thr = {.flags = thread, .stack = (long)stack - 65536, .stack_size = 65536};
    report("fork", spawn(SYS_fork, 0, 0, 0, 0, 0, 0));
    report("vfork", spawn(SYS_vfork, 0, 0, 0, 0, 0, 1));
    report("clone_process", spawn(SYS_clone, SIGCHLD, 0, 0, 0, 0, 2));
    report("clone_vm_process", spawn(SYS_clone, CLONE_VM | SIGCHLD, (long)stack, 0, 0, 0, 3));
    report("clone_thread", spawn(SYS_clone, thread, (long)stack, 0, 0, 0, 4));
    report("clone3_process", spawn(SYS_clone3, (long)&proc, sizeof proc, 0, 0, 0, 5));
    report("clone3_thread", spawn(SYS_clone3, (long)&thr, sizeof thr, 0, 0, 0, 6));
    report("fork_junk", spawn(SYS_fork | (1L << 32), 0, 0, 0, 0, 0, 7));
    /* Give a child 200 ms to show itself: FUTEX_WAIT on flag == 0 (allowed). */
    struct timespec ts = {0, 200 * 1000 * 1000};
    report("wait", raw4(SYS_futex, (long)&flag, 0 /* FUTEX_WAIT */, 0, (long)&ts));
    report("flag", flag);
    (void)argc;
    (void)argv;
    return 0;
}
