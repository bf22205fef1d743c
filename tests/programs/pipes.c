/* Pipes, compared with the native run line by line: flags, fstat, ESPIPE,
 * non-blocking EAGAIN, a full pipe (64 KiB), end of file, EPIPE (SIGPIPE
 * ignored), dup'ed ends, and a producer thread feeding a blocking reader. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char big[200000];

static void *producer(void *arg)
{
    int fd = (int)(long)arg;
    for (size_t off = 0; off < sizeof big;) {
        size_t n = sizeof big - off < 7000 ? sizeof big - off : 7000;
        ssize_t w = write(fd, big + off, n);
        if (w <= 0)
            return (void *)1;
        off += (size_t)w;
    }
    close(fd);
    return 0;
}

static const char *err(long r)
{
    static char b[64];
    if (r >= 0)
        snprintf(b, sizeof b, "%ld", r);
    else
        snprintf(b, sizeof b, "%s", strerror(errno));
    return b;
}

int main(void)
{
    int p[2];
    char buf[70000];
    printf("pipe2 %d\n", pipe2(p, O_CLOEXEC));
    printf("getfl %o %o getfd %d %d\n", fcntl(p[0], F_GETFL), fcntl(p[1], F_GETFL), fcntl(p[0], F_GETFD),
           fcntl(p[1], F_GETFD));
    struct stat st;
    fstat(p[0], &st);
    printf("fifo %d mode %o nlink %ld size %ld\n", S_ISFIFO(st.st_mode), st.st_mode & 07777, (long)st.st_nlink,
           (long)st.st_size);
    printf("write %s\n", err(write(p[1], "hello", 5)));
    printf("read %s ", err(read(p[0], buf, sizeof buf)));
    printf("%.5s\n", buf);
    printf("lseek %s\n", err(lseek(p[0], 0, SEEK_SET)));
    printf("pread %s\n", err(pread(p[0], buf, 1, 0)));
    printf("read wrong end %s\n", err(read(p[1], buf, 1)));
    printf("write wrong end %s\n", err(write(p[0], "x", 1)));
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    printf("getfl nb %o %o\n", fcntl(p[0], F_GETFL), fcntl(p[1], F_GETFL));
    printf("read empty %s\n", err(read(p[0], buf, 10)));
    memset(big, 'a', sizeof big);
    printf("write 100000 %s\n", err(write(p[1], big, 100000)));
    printf("write full %s\n", err(write(p[1], "x", 1)));
    long total = 0, r;
    while ((r = read(p[0], buf, 3000)) > 0)
        total += r;
    printf("drained %ld then %s\n", total, err(r));
    int d = dup(p[1]);
    close(p[1]);
    printf("write via dup %s\n", err(write(d, "xyz", 3)));
    close(d);
    printf("read %s ", err(read(p[0], buf, 10)));
    printf("then eof %s\n", err(read(p[0], buf, 10)));
    close(p[0]);

    signal(SIGPIPE, SIG_IGN);
    pipe(p);
    close(p[0]);
    printf("write no reader %s\n", err(write(p[1], "x", 1)));
    close(p[1]);

    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 + i / 251);
    pipe(p);
    pthread_t t;
    pthread_create(&t, 0, producer, (void *)(long)p[1]);
    unsigned long sum = 0;
    total = 0;
    while ((r = read(p[0], buf, sizeof buf)) > 0) {
        for (long i = 0; i < r; i++)
            sum = sum * 31 + (unsigned char)buf[i];
        total += r;
    }
    void *res;
    pthread_join(t, &res);
    printf("threaded %ld bytes sum %lu producer %ld ", total, sum, (long)res);
    printf("end %s\n", err(r));
    return 0;
}
