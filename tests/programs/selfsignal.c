/* Signals to itself, as native: a handler run by raise() and by kill(getpid()),
 * kill of a pid that is not its own (ESRCH in the picoprocess's world, and here a
 * pid that does not exist natively either), then abort(): SIGABRT ends it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
    got = sig;
}

int main(void)
{
    signal(SIGUSR1, on_usr1);
    int r = raise(SIGUSR1);
    printf("raise %d got %d\n", r, (int)got);
    got = 0;
    r = kill(getpid(), SIGUSR1);
    printf("kill self %d got %d\n", r, (int)got);
    printf("kill 0 probe %d\n", kill(getpid(), 0));
    r = kill(4194303, SIGTERM); /* above any pid this machine hands out */
    printf("kill other %d %s\n", r, r < 0 ? strerror(errno) : "");
    fflush(stdout);
    abort();
}
