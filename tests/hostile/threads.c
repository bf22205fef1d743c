/* Attack through the one widening threads need: clone with pthread_create's
 * exact flags reaches the kernel.
 *
 * 1. A real thread (raw clone, glibc's flags) inherits the seal: it tries to
 *    open the canary and to connect to the listener with raw system calls, and
 *    reports what it got through shared memory.
 * 2. The thread flags plus anything else (a new namespace, a pidfd, vfork,
 *    CLONE_PARENT, an exit signal, a bit above 32) are not the allowed form:
 *    they trap, the layer refuses them, and no child ran (the shared flag).
 * 3. A thread bomb: raw clones with the allowed flags until the kernel says no;
 *    each child parks on a futex.  The count must stop at the Monitor's limit.
 * argv[3]: the thread limit the test set. */
#include <linux/futex.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <fcntl.h>
#include "hostile.h"

#define GLIBC_THREAD (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | \
                      CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

static volatile long child_ran, child_open, child_connect, child_done;
static int park_word; /* children of the bomb wait here forever */
static char *canary;
static int port;

/* Runs on the new thread's own stack with no TLS of its own: raw calls only. */
static void child_body(long what)
{
    child_ran = 1;
    if (what == 1) {
        child_open = raw4(SYS_openat, AT_FDCWD, (long)canary, O_RDONLY, 0);
        long s = raw3(SYS_socket, AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = {htonl(0x7f000001)}};
        child_connect = s < 0 ? s : raw3(SYS_connect, s, (long)&a, sizeof a);
        child_done = 1;
        raw6(SYS_futex, (long)&child_done, FUTEX_WAKE, 1, 0, 0, 0);
    } else {
        for (;;)
            raw6(SYS_futex, (long)&park_word, FUTEX_WAIT, 0, 0, 0, 0);
    }
    for (;;)
        raw1(SYS_exit, 0);
}

/* clone on a fresh stack; in the child, call child_body(what). */
static long spawn(long flags, long what, long tid_word)
{
    char *stack = malloc(65536);
    if (!stack)
        return -12;
    long *top = (long *)(stack + 65536 - 64);
    long r;
    register long r10 __asm__("r10") = tid_word;        /* child_tid */
    register long r8 __asm__("r8") = (long)stack + 32;  /* tls: somewhere harmless */
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "mov %[what], %%rdi\n\t"
                     "call *%[body]\n\t"
                     "1:"
                     : "=a"(r)
                     : "a"(SYS_clone), "D"(flags), "S"(top), "d"(tid_word), "r"(r10), "r"(r8),
                       [what] "r"(what), [body] "r"(child_body)
                     : "rcx", "r11", "memory");
    return r;
}

static long wait_for(volatile long *word, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    if (*word)
        return 0;
    return raw4(SYS_futex, (long)word, FUTEX_WAIT, 0, (long)&ts);
}

int main(int argc, char **argv)
{
    canary = argv[1];
    port = atoi(argv[2]);
    int limit = atoi(argv[3]);
    static int tid_words[4096];

    /* 1. a sealed thread */
    long r = spawn(GLIBC_THREAD, 1, (long)&tid_words[0]);
    report("thread", r > 0);
    wait_for(&child_done, 5000);
    report("thread_done", child_done);
    report("thread_open", child_open);
    report("thread_connect", child_connect);
    /* CLONE_CHILD_CLEARTID: the kernel zeroes the word when the thread is gone */
    while (tid_words[0])
        raw4(SYS_futex, (long)&tid_words[0], FUTEX_WAIT, tid_words[0], 0);

    /* 2. the allowed flags plus one more: never a child */
    child_ran = 0;
    static const struct { const char *name; long extra; } extras[] = {
        {"plus_newuser", CLONE_NEWUSER}, {"plus_newns", CLONE_NEWNS}, {"plus_newnet", CLONE_NEWNET},
        {"plus_newpid", CLONE_NEWPID}, {"plus_pidfd", CLONE_PIDFD}, {"plus_vfork", CLONE_VFORK},
        {"plus_parent", CLONE_PARENT}, {"plus_ptrace", CLONE_PTRACE}, {"plus_untraced", CLONE_UNTRACED},
        {"plus_io", CLONE_IO}, {"plus_sigchld", SIGCHLD}, {"plus_bit32", 1L << 32},
        {"minus_thread", -1}, {"minus_vm", -2},
    };
    for (unsigned i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        long flags = extras[i].extra == -1 ? GLIBC_THREAD & ~CLONE_THREAD
                   : extras[i].extra == -2 ? (GLIBC_THREAD & ~(CLONE_VM | CLONE_THREAD | CLONE_SIGHAND)) | SIGCHLD
                   : GLIBC_THREAD | extras[i].extra;
        long got = spawn(flags, 2, (long)&tid_words[1]);
        report(extras[i].name, got > 0 ? 1 : got);
    }
    struct timespec ts = {0, 200 * 1000 * 1000};
    raw4(SYS_futex, (long)&child_ran, FUTEX_WAIT, 0, (long)&ts);
    report("ran", child_ran);

    /* 3. a thread bomb: the first thread above has exited (or not: count it) */
    long made = 0, last = 0;
    for (int i = 2; i < 4096; i++) {
        last = spawn(GLIBC_THREAD, 2, (long)&tid_words[i]);
        if (last <= 0)
            break;
        made++;
    }
    report("bomb_made", made);
    report("bomb_stopped_by", last);
    report("limit", limit);
    raw1(SYS_exit_group, 0);
    return 0;
}
