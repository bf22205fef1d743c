/* A sleep interrupted by a handled signal (tests/test_sites.py): nanosleep and
 * clock_nanosleep fail with EINTR whatever SA_RESTART says, and a relative sleep writes
 * the time it had left, an absolute one nothing.  argv[1]: nanosleep, relative or
 * absolute; argv[2]: restart (SA_RESTART) or plain.  The main thread sends SIGUSR1 to
 * the sleeping one 100 ms into its 2 s sleep (not the other way round: the layer turns a
 * tgkill of the main thread into a kill of the process, which any thread may take).  The lines are the same natively and
 * sealed from an image (the sleep's site rewritten: on the trap path every signal is
 * blocked while the layer runs, and the sleep is not interrupted). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int handled;
static const char *mode;
static char line[160];

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void *sleep_once(void *arg)
{
    (void)arg;
    struct timespec req = {2, 0}, rem = {-7, -7}, now, before, after;
    long r;
    clock_gettime(CLOCK_MONOTONIC, &before);
    if (!strcmp(mode, "absolute")) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        req.tv_sec += now.tv_sec, req.tv_nsec = now.tv_nsec;
        r = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &req, &rem);
    } else if (!strcmp(mode, "relative")) {
        r = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, &rem);
    } else {
        r = syscall(SYS_nanosleep, &req, &rem);
    }
    int err = r < 0 ? errno : 0;
    clock_gettime(CLOCK_MONOTONIC, &after);
    double left = rem.tv_sec + rem.tv_nsec / 1e9;
    /* The kernel's time left is 2 s less what passed between the sleep's start and the
     * signal, both inside [before, after]: so no less than 2 s less all of it (1 ms for
     * rounding), and under 2 s.  Not a fixed window: a loaded machine may start the thread
     * or deliver the signal late. */
    double elapsed = (after.tv_sec - before.tv_sec) + (after.tv_nsec - before.tv_nsec) / 1e9;
    snprintf(line, sizeof line, "%s: %s, handled %d, rem %s\n", mode,
             err == EINTR ? "EINTR" : r == 0 ? "slept" : strerror(err), handled,
             rem.tv_sec == -7 && rem.tv_nsec == -7 ? "untouched"
             : left >= 2 - elapsed - 0.001 && left < 2 && rem.tv_nsec >= 0 && rem.tv_nsec < 1000000000L
                 ? "the time it had left"
                                                                                           : "wrong");
    return 0;
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "nanosleep";
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = argc > 2 && !strcmp(argv[2], "restart") ? SA_RESTART : 0;
    sigaction(SIGUSR1, &sa, 0);
    pthread_t t;
    pthread_create(&t, 0, sleep_once, 0);
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, 0);
    pthread_kill(t, SIGUSR1);
    pthread_join(t, 0);
    fputs(line, stdout);
    return 0;
}
