/* execve from a multithreaded process: Linux ends every other thread before the new program
 * runs.  Before the exec, threads of four kinds are busy: one writes to a pipe for ever (and
 * blocks when it is full), one spins without a system call, one sleeps, one waits on a condition
 * variable.  The exec'd program (this one, "after") drains the pipe, waits, and reports whether
 * anything was written after the exec: a thread left running would write, or crash in code the
 * exec unmapped.  With "fromthread" a thread execs while the main thread waits to join it.
 * Only the exec'd program writes to stdout, so the output is the same on every run. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int pipefd[2];
static char *self;
static volatile unsigned long spins;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void nap_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, 0);
}

static void *writer(void *arg)
{
    (void)arg;
    for (;;)
        if (write(pipefd[1], "stray write\n", 12) < 0)
            return 0;
}

static void *spinner(void *arg)
{
    (void)arg;
    for (;;)
        spins++;
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        nap_ms(1000);
}

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;)
        pthread_cond_wait(&never, &mu);
}

static void do_exec(void)
{
    char r[16], w[16];
    snprintf(r, sizeof r, "%d", pipefd[0]);
    snprintf(w, sizeof w, "%d", pipefd[1]);
    char *args[] = {self, "after", r, w, 0};
    char *env[] = {0};
    execve(self, args, env);
    perror("execve");
    _exit(99);
}

static void *execer(void *arg)
{
    (void)arg;
    nap_ms(50);
    do_exec();
    return 0;
}

static long drain(int fd)
{
    char buf[4096];
    long total = 0, n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        total += n;
    return n < 0 && errno != EAGAIN ? -1 : total;
}

static int after(int fd_r, int fd_w)
{
    close(fd_w);
    fcntl(fd_r, F_SETFL, O_NONBLOCK);
    long before = drain(fd_r);
    nap_ms(200);
    long later = drain(fd_r);
    printf("exec'd: the threads wrote before the exec: %s\n", before > 0 ? "yes" : "no");
    printf("exec'd: written after the exec: %ld bytes\n", later);
    /* With every writer gone, the pipe's read end sees end of file. */
    fcntl(fd_r, F_SETFL, 0);
    char c;
    printf("exec'd: read after the last writer: %zd\n", read(fd_r, &c, 1));
    return 7;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "after"))
        return after(atoi(argv[2]), atoi(argv[3]));
    self = argv[0];
    if (pipe(pipefd) < 0) {
        perror("pipe");
        return 1;
    }
    pthread_t t;
    void *(*kinds[])(void *) = {writer, spinner, sleeper, waiter};
    for (unsigned i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (pthread_create(&t, 0, kinds[i], 0)) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    if (argc > 1 && !strcmp(argv[1], "fromthread")) {
        pthread_create(&t, 0, execer, 0);
        pthread_join(t, 0);
        return 98; /* never: the exec ends this thread */
    }
    nap_ms(50);
    do_exec();
    return 0;
}
