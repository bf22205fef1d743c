/* A program's own signal handlers: a SIGSEGV handler whose mask blocks every
 * signal (SIGSYS included) prints from inside the handler and exits; the old
 * action reads back as it was set; SIGSYS can be ignored. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_segv(int sig)
{
    char msg[64];
    int n = snprintf(msg, sizeof msg, "caught signal %d in the handler\n", sig);
    write(1, msg, n); /* a trapped call while the handler runs */
    _exit(3);
}

int main(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigfillset(&sa.sa_mask);
    printf("sigaction SIGSEGV: %d\n", sigaction(SIGSEGV, &sa, NULL));
    int got = sigaction(SIGSEGV, NULL, &old);
    printf("read back: %d, mask has SIGSYS: %d, handler same: %d\n", got, sigismember(&old.sa_mask, SIGSYS),
           old.sa_handler == on_segv);
    struct sigaction ign = {.sa_handler = SIG_IGN};
    int r = sigaction(SIGSYS, &ign, NULL);
    printf("sigaction SIGSYS: %d\n", r);
    fflush(stdout);
    volatile int *p = 0;
    *p = 1;
    return 0;
}
