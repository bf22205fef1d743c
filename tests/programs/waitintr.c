/* A signal ends a wait for readiness with EINTR, its handler run, as on Linux: poll, select and
 * epoll_wait with no timeout, over a pipe nobody writes, while a child exits (SIGCHLD), with the
 * handler's SA_RESTART and without (these three are never restarted after a handler).  The pipe
 * made before the fork is the family's (the wait asks the Monitor); the one made after, the
 * process's own (the wait sleeps inside it).  Each call is made as glibc makes it (mov $nr,
 * %eax; syscall) from one site used once with no wait first: a rewritten site, as a program's
 * event loop's is after its first call (a site that still traps waits with every signal
 * blocked, in the SIGSYS handler: docs/processes.md says so).  musl's own poll goes through
 * its cancellation-point syscall, a site never rewritten: hence the calls of its own here. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_child(int sig)
{
    (void)sig;
    handled++;
}

/* one call, its own site: `nop; mov $nr, %eax; syscall` at a 16-byte boundary (the nop: no prefix
 * byte before the mov; the boundary: the mov lies whole in one aligned block, which pal/rewrite.c
 * needs to patch it) */
#define SITE(name, nr)                                                                              \
    static long name(long a, long b, long c, long d, long e)                                       \
    {                                                                                               \
        long r;                                                                                     \
        register long r10 __asm__("r10") = d;                                                       \
        register long r8 __asm__("r8") = e;                                                         \
        __asm__ volatile(".p2align 4\n\tnop\n\tmov $" #nr ", %%eax\n\tsyscall"                     \
                         : "=a"(r)                                                                  \
                         : "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)                                \
                         : "rcx", "r11", "memory");                                                 \
        if (r < 0 && r > -4096) {                                                                   \
            errno = (int)-r;                                                                        \
            return -1;                                                                              \
        }                                                                                           \
        return r;                                                                                   \
    }
SITE(sys_poll, 7)
SITE(sys_select, 23)
SITE(sys_epoll_wait, 232)

static int wait_on(int how, int fd, int forever)
{
    if (how == 0) {
        struct pollfd p = {fd, POLLIN, 0};
        return (int)sys_poll((long)&p, 1, forever ? -1 : 0, 0, 0);
    }
    if (how == 1) {
        fd_set in;
        FD_ZERO(&in);
        FD_SET(fd, &in);
        struct timeval zero = {0, 0};
        return (int)sys_select(fd + 1, (long)&in, 0, 0, forever ? 0 : (long)&zero);
    }
    static int ep = -1;
    if (ep < 0)
        ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    int r = (int)sys_epoll_wait(ep, (long)&out, 1, forever ? -1 : 0, 0);
    int e = errno;
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, &ev);
    errno = e;
    return r;
}

static void one(int how, int restart, int family)
{
    static const char *names[] = {"poll", "select", "epoll_wait"};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_child;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGCHLD, &sa, 0);
    int p[2];
    if (family)
        pipe(p);
    pid_t c = fork();
    if (c == 0) {
        usleep(200000);
        _exit(0);
    }
    if (!family)
        pipe(p);
    handled = 0;
    wait_on(how, p[0], 0);
    int r = wait_on(how, p[0], 1);
    int e = errno;
    printf("%s%s, %s pipe: %d %s, handler ran %d\n", names[how], restart ? " (SA_RESTART)" : "",
           family ? "the family's" : "its own", r, r < 0 ? strerror(e) : "", (int)handled);
    fflush(stdout);
    waitpid(c, 0, 0);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    for (int how = 0; how < 3; how++)
        for (int restart = 0; restart < 2; restart++)
            for (int family = 0; family < 2; family++)
                one(how, restart, family);
    return 0;
}
