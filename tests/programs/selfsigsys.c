/* SIGSYS, SIGSEGV and SIGBUS sent to itself, as natively: the picoprocess never
 * sends them for real (its real handlers are the PAL's), the PAL delivers them.
 * A handler of each runs for raise() and kill(getpid()), with its siginfo; the
 * interrupted code resumes with its registers and floating-point state; the
 * action reads back; SIG_IGN ignores; a one-shot (SA_RESETHAND) handler runs
 * once, and then the default action ends the program (argv[1]: which signal). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t runs, last_sig, last_code, from_self;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    runs++;
    last_sig = sig;
    last_code = si->si_code;
    from_self = si->si_pid == getpid();
    char line[64]; /* a trapped call inside the handler */
    int n = snprintf(line, sizeof line, "in the handler of %d\n", sig);
    write(1, line, n);
}

static void set(int sig, void *handler, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = flags;
    sigfillset(&sa.sa_mask);
    printf("sigaction %d: %d\n", sig, sigaction(sig, &sa, NULL));
}

static void once(int sig)
{
    volatile double before = 1.0 / 3.0 + sig; /* live across the call, in an SSE register */
    runs = 0;
    int r = raise(sig);
    double after = before * 3.0;
    printf("raise %d: %d runs %d sig %d code %d from self %d fp %d\n", sig, r, (int)runs, (int)last_sig,
           (int)last_code, (int)from_self, after > 3.0 * sig + 0.99 && after < 3.0 * sig + 1.01);
    runs = 0;
    r = kill(getpid(), sig);
    printf("kill %d: %d runs %d code %d\n", sig, r, (int)runs, (int)last_code);
}

int main(int argc, char **argv)
{
    int signals[] = {SIGSYS, SIGSEGV, SIGBUS};
    for (int i = 0; i < 3; i++) {
        set(signals[i], on_signal, SA_SIGINFO);
        struct sigaction old;
        sigaction(signals[i], NULL, &old);
        printf("read back %d: handler same %d\n", signals[i], old.sa_sigaction == on_signal);
        once(signals[i]);
        signal(signals[i], SIG_IGN);
        printf("ignored %d: %d\n", signals[i], raise(signals[i]));
    }
    fflush(stdout);
    int last = argc > 1 ? atoi(argv[1]) : SIGSYS;
    set(last, on_signal, SA_SIGINFO | SA_RESETHAND);
    runs = 0;
    raise(last);
    printf("one-shot %d: runs %d\n", last, (int)runs);
    fflush(stdout);
    raise(last); /* the default action now */
    printf("still here\n");
    return 0;
}
