/* O_NONBLOCK on pipes that crossed a fork (the family's, docs/processes.md): EAGAIN when empty
 * or full as Linux answers, F_SETFL and FIONBIO to turn it on and off, end of file once the
 * writer is gone, a blocking read after turning it off.  Compared with the native run. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *res(long r)
{
    static char buf[64];
    if (r < 0)
        return strerror(errno);
    snprintf(buf, sizeof buf, "%ld", r);
    return buf;
}

int main(void)
{
    int data[2], go[2];
    pipe(data);
    pipe(go);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(data[0]);
        close(go[1]);
        char b;
        read(go[0], &b, 1); /* blocking: until the parent has seen the pipe empty */
        write(data[1], "hello", 5);
        read(go[0], &b, 1);
        _exit(0); /* the writer gone: end of file */
    }
    close(data[1]);
    close(go[0]);
    char buf[65536];
    printf("F_SETFL O_NONBLOCK = %s\n", res(fcntl(data[0], F_SETFL, O_NONBLOCK)));
    printf("F_GETFL has O_NONBLOCK: %d\n", (fcntl(data[0], F_GETFL) & O_NONBLOCK) != 0);
    printf("read empty = %s\n", res(read(data[0], buf, sizeof buf)));
    write(go[1], "g", 1);
    long n;
    while ((n = read(data[0], buf, sizeof buf)) < 0 && errno == EAGAIN)
        usleep(1000);
    printf("read after the write = %ld: %.*s\n", n, (int)n, buf);
    printf("read empty again = %s\n", res(read(data[0], buf, sizeof buf)));
    int off = 0;
    printf("FIONBIO off = %s\n", res(ioctl(data[0], FIONBIO, &off)));
    write(go[1], "g", 1);
    printf("blocking read to end of file = %s\n", res(read(data[0], buf, sizeof buf)));
    waitpid(c, 0, 0);

    /* a full pipe, non-blocking from pipe2 on, shared with a child that fills it */
    int full[2];
    pipe2(full, O_NONBLOCK);
    fflush(stdout);
    c = fork();
    if (c == 0) {
        long total = 0;
        memset(buf, 'x', sizeof buf);
        while ((n = write(full[1], buf, 4096)) > 0)
            total += n;
        printf("child filled %ld, then %s\n", total, strerror(errno));
        printf("child write 1 to the full pipe = %s\n", res(write(full[1], buf, 1)));
        printf("child write 100000 to the full pipe = %s\n", res(write(full[1], buf, 100000)));
        struct pollfd p = {full[1], POLLOUT, 0};
        printf("poll POLLOUT when full = %d\n", poll(&p, 1, 0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, 0, 0);
    printf("parent reads 4096 = %s\n", res(read(full[0], buf, 4096)));
    struct pollfd p = {full[1], POLLOUT, 0};
    printf("poll POLLOUT after a page is read = %d\n", poll(&p, 1, 0));
    printf("write 4096 = %s\n", res(write(full[1], buf, 4096)));
    printf("write 4096 again = %s\n", res(write(full[1], buf, 4096)));
    close(full[1]);
    long total = 0;
    while ((n = read(full[0], buf, sizeof buf)) > 0)
        total += n;
    printf("drained %ld, then %s\n", total, res(n));
    return 0;
}
