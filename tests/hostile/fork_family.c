/* Hostile processes in a family (docs/processes.md).  argv[1] says which attack:
 *   bomb     fork until it fails: the Monitor's --processes limit answers EAGAIN
 *   outlive  fork a child that sleeps forever, and one made by a raw (tagged) clone that spins
 *            without a channel, then exit at once: nothing may outlive the entry program
 *   forge    a child writes a forged BORN (and a reply-shaped datagram) on its channel: the
 *            Monitor kills that child alone; the parent sees SIGKILL
 *   pipesize a child forges PIPE with a capacity no pipe has (argv[2]: "pipe"), or PIPE_SIZE
 *            with one ("size"): the Monitor kills that child alone
 *   reach    a child tries the world outside the family: kill of a host pid (argv[2]), a
 *            tagged wait4 of it, and KILL of a virtual pid nobody has
 *   tags     the runtime's tagged forms called by hostile code: recvmsg on the channel (nothing
 *            to take), prctl's death signal, waitid of everyone (no child), dup3 of the image
 *            onto the channel and close of the image: each harms only the caller, which then
 *            has no channel left and ends at its next request
 *   orphans  a child makes a grandchild by a raw (tagged) clone that exits at once, and exits
 *            without waiting for it: the grandchild's zombie goes to the Monitor (the family's
 *            subreaper), which must reap it while the family runs on (the entry sleeps 2 s) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostile.h"
#include "xax_protocol.h"

#define TAG (0x58415850UL << 32)

static void bomb(void)
{
    int made = 0;
    for (;;) {
        pid_t p = fork();
        if (p < 0) {
            printf("forks = %d, then %s\n", made, strerror(errno));
            break;
        }
        if (p == 0) {
            for (;;)
                sleep(100);
        }
        made++;
    }
}

static void outlive(void)
{
    if (fork() == 0)
        for (;;)
            sleep(100);
    long r = raw6(SYS_clone, TAG | SIGCHLD, 0, 0, 0, 0, 0);
    if (r == 0)
        for (;;)
            ;
    printf("raw clone = %s\n", r > 0 ? "a child" : strerror((int)-r));
}

static void orphans(void)
{
    pid_t p = fork();
    if (p == 0) {
        long r = raw6(SYS_clone, TAG | SIGCHLD, 0, 0, 0, 0, 0);
        if (r == 0)
            raw1(SYS_exit_group, 0); /* no channel of its own: straight to the kernel */
        _exit(r > 0 ? 0 : 1);
    }
    int status;
    waitpid(p, &status, 0);
    printf("child exited %d\n", WEXITSTATUS(status));
    fflush(stdout);
    sleep(2);
    printf("entry done\n");
}

/* A child writes one forged message on its own channel and waits to be killed for it: the
 * Monitor must kill that child alone; the parent reports how it ended. */
static void forge_in_child(struct xax_msg_hdr msg)
{
    pid_t p = fork();
    if (p == 0) {
        raw3(SYS_write, XAX_CHANNEL_FD, (long)&msg, sizeof msg);
        sleep(5);
        _exit(0);
    }
    int status;
    waitpid(p, &status, 0);
    printf("forger: signaled %d by %d\n", WIFSIGNALED(status), WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void forge(void)
{
    forge_in_child((struct xax_msg_hdr){XAX_MAGIC, XAX_VERSION, XAX_MSG_BORN, -1, 0, 0, 0});
}

static void forge_pipe_size(const char *which)
{
    if (!strcmp(which, "pipe")) /* a capacity past PIPE_MAX_SIZE */
        forge_in_child((struct xax_msg_hdr){XAX_MAGIC, XAX_VERSION, XAX_MSG_PIPE, -1, 1 << 30, 0, 0});
    else /* one that is no power of two */
        forge_in_child((struct xax_msg_hdr){XAX_MAGIC, XAX_VERSION, XAX_MSG_PIPE_SIZE, 0, 3, 0, 0});
}

static void reach(int host_pid)
{
    pid_t p = fork();
    if (p == 0) {
        printf("kill host pid = %s\n", kill(host_pid, 0) < 0 ? strerror(errno) : "sent");
        long r = raw4(SYS_wait4, (long)(TAG | (unsigned)host_pid), 0, WNOHANG, 0);
        printf("tagged wait4 of it = %s\n", r < 0 ? strerror((int)-r) : "waited");
        printf("kill vpid 4000 = %s\n", kill(4000, SIGKILL) < 0 ? strerror(errno) : "sent");
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(p, &status, 0);
    printf("child exited %d\n", WEXITSTATUS(status));
}

/* Bad pointers in the process calls, answered as Linux answers them (compared with the native run). */
static long rs(long n, long a, long b, long c, long d, long e)
{
    return raw6(n, a, b, c, d, e, 0);
}

static void efault(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(3);
    siginfo_t si;
    rs(SYS_waitid, P_PID, p, (long)&si, WEXITED | WNOWAIT, 0); /* until it has exited */
    printf("waitid_infop = %ld\n", rs(SYS_waitid, P_ALL, 0, 1, WEXITED | WNOWAIT, 0));
    printf("waitid_ru = %ld\n", rs(SYS_waitid, P_ALL, 0, (long)&si, WEXITED | WNOWAIT, 1));
    printf("wait4_ru = %ld\n", rs(SYS_wait4, p, 0, WNOHANG, 1, 0));
    printf("wait4_status = %ld\n", rs(SYS_wait4, p, 1, 0, 0, 0));
    printf("rt_sigsuspend_set = %ld\n", rs(SYS_rt_sigsuspend, 1, 8, 0, 0, 0));
    printf("execve_filename = %ld\n", rs(SYS_execve, 1, 0, 0, 0, 0));
    printf("execve_dir = %ld\n", rs(SYS_execve, (long)"/", 1, 1, 0, 0));
    printf("execve_missing = %ld\n", rs(SYS_execve, (long)"/nonexistent", 1, 1, 0, 0));
    printf("execveat_filename = %ld\n", rs(SYS_execveat, AT_FDCWD, 1, 0, 0, 0));
}

static void tags(void)
{
    char buf[64];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    printf("recvmsg = %s\n", strerror((int)-raw3(SYS_recvmsg, (long)(TAG | XAX_CHANNEL_FD), (long)&m, MSG_DONTWAIT)));
    printf("prctl = %ld\n", raw2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL));
    siginfo_t si;
    printf("waitid = %s\n", strerror((int)-raw6(SYS_waitid, (long)(TAG | P_ALL), 0, (long)&si, WEXITED | WNOHANG, 0, 0)));
    printf("close image = %ld\n", raw1(SYS_close, (long)(TAG | XAX_IMAGE_FD)));
    long r = raw3(SYS_dup3, 1, (long)(TAG | XAX_CHANNEL_FD), 0);
    raw1(SYS_exit_group, r == -EBADF ? 40 : 41); /* its channel is where it was or not: either way, it ends */
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "bomb"))
        bomb();
    else if (argc > 1 && !strcmp(argv[1], "outlive"))
        outlive();
    else if (argc > 1 && !strcmp(argv[1], "orphans"))
        orphans();
    else if (argc > 1 && !strcmp(argv[1], "forge"))
        forge();
    else if (argc > 2 && !strcmp(argv[1], "pipesize"))
        forge_pipe_size(argv[2]);
    else if (argc > 1 && !strcmp(argv[1], "efault"))
        efault();
    else if (argc > 1 && !strcmp(argv[1], "tags"))
        tags();
    else if (argc > 2 && !strcmp(argv[1], "reach"))
        reach(atoi(argv[2]));
    return 0;
}
