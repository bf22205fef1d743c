/* close_range and the pipe sizes (F_GETPIPE_SZ, F_SETPIPE_SZ) as Linux answers them: each line
 * the call and its result (or errno's name), the same natively and inside.  The pipe sizes are
 * asked of a pipe of the process's own, then of one that crossed a fork (the family's): its
 * size is carried over, both processes see one size, and more bytes than one message holds
 * cross the fork in a pipe made larger.  Sizes above pipe-max-size are left out: the tests run
 * as root natively, which may grow a pipe past it (a picoprocess may not: EPERM). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void say(const char *what, long r)
{
    if (r < 0)
        printf("%s = -1 errno %d\n", what, errno);
    else
        printf("%s = %ld\n", what, r);
    fflush(stdout);
}

static long cr(unsigned a, unsigned b, unsigned flags) { return syscall(SYS_close_range, a, b, flags); }

static void open_fds(int from, int to)
{
    for (int fd = from; fd <= to; fd++)
        dup2(0, fd);
}

static void show_open(const char *when, int from, int to)
{
    printf("%s:", when);
    for (int fd = from; fd <= to; fd++) {
        int fl = fcntl(fd, F_GETFD);
        printf(" %d%s", fd, fl < 0 ? "-" : (fl & FD_CLOEXEC) ? "c" : "o");
    }
    printf("\n");
}

int main(void)
{
    open_fds(20, 29);
    say("close_range(25, 22, 0)", cr(25, 22, 0));
    say("close_range(20, 29, 1)", cr(20, 29, 1));
    say("close_range(20, 29, 8)", cr(20, 29, 8));
    say("close_range(22, 23, 0)", cr(22, 23, 0));
    show_open("after 22..23", 20, 29);
    say("close_range(26, 27, CLOEXEC)", cr(26, 27, CLOSE_RANGE_CLOEXEC));
    show_open("after CLOEXEC 26..27", 20, 29);
    say("close_range(28, ~0, UNSHARE)", cr(28, ~0U, CLOSE_RANGE_UNSHARE));
    show_open("after UNSHARE 28..", 20, 29);
    say("close_range(5000, 6000, 0)", cr(5000, 6000, 0));
    say("close_range(21, 21, 0)", cr(21, 21, 0));
    say("close_range(21, ~0, CLOEXEC|UNSHARE)", cr(21, ~0U, CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE));
    show_open("after all", 20, 29);
    say("close_range(20, ~0, 0)", cr(20, ~0U, 0));
    show_open("at the end", 20, 29);

    int p[2];
    pipe(p);
    say("F_GETPIPE_SZ", fcntl(p[1], F_GETPIPE_SZ));
    say("F_GETPIPE_SZ read end", fcntl(p[0], F_GETPIPE_SZ));
    say("F_SETPIPE_SZ 0", fcntl(p[1], F_SETPIPE_SZ, 0));
    say("F_SETPIPE_SZ 1", fcntl(p[1], F_SETPIPE_SZ, 1));
    say("F_SETPIPE_SZ 5000", fcntl(p[1], F_SETPIPE_SZ, 5000));
    say("F_GETPIPE_SZ read end", fcntl(p[0], F_GETPIPE_SZ));
    say("F_SETPIPE_SZ 2^31+1", fcntl(p[1], F_SETPIPE_SZ, (1U << 31) + 1));
    char buf[20000];
    memset(buf, 'x', sizeof buf);
    say("write 6000", write(p[1], buf, 6000));
    say("F_SETPIPE_SZ 4096 holding 6000", fcntl(p[1], F_SETPIPE_SZ, 4096));
    say("F_SETPIPE_SZ 32768 holding 6000", fcntl(p[0], F_SETPIPE_SZ, 32768));
    say("read", read(p[0], buf, sizeof buf));
    say("F_GETPIPE_SZ of stdin's dup of /dev/null", fcntl(open("/dev/null", O_RDONLY), F_GETPIPE_SZ));
    say("F_GETPIPE_SZ of a closed fd", fcntl(999, F_GETPIPE_SZ));

    /* across a fork: 1 MiB capacity, 100,000 bytes in it before the fork */
    int q[2];
    pipe(q);
    say("F_SETPIPE_SZ 1 MiB", fcntl(q[1], F_SETPIPE_SZ, 1 << 20));
    static char big[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    say("write 100000", write(q[1], big, sizeof big));
    pid_t c = fork();
    if (c == 0) {
        say("child F_GETPIPE_SZ", fcntl(q[0], F_GETPIPE_SZ));
        say("child F_SETPIPE_SZ 65536 holding 100000", fcntl(q[0], F_SETPIPE_SZ, 65536));
        static char got[100000];
        size_t n = 0;
        while (n < sizeof got) {
            ssize_t k = read(q[0], got + n, sizeof got - n);
            if (k <= 0)
                break;
            n += (size_t)k;
        }
        printf("child read %zu bytes, %s\n", n, memcmp(got, big, sizeof big) ? "different" : "the same");
        say("child F_SETPIPE_SZ 8192", fcntl(q[1], F_SETPIPE_SZ, 8192));
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    say("parent F_GETPIPE_SZ after the child's", fcntl(q[1], F_GETPIPE_SZ));
    return 0;
}
