/* SIGCHLD's siginfo names the child as fork named it (the family's virtual pid under the seal),
 * with the user getuid says, the code and the status; waitid's siginfo too.  Printed as
 * relations, so the native run and the sealed one print the same bytes. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t seen, pid_seen, uid_seen, code_seen, status_seen;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    pid_seen = si->si_pid;
    uid_seen = (sig_atomic_t)si->si_uid;
    code_seen = si->si_code;
    status_seen = si->si_status;
    seen++;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, 0);
    for (int round = 0; round < 3; round++) {
        seen = 0;
        pid_t c = fork();
        if (c == 0)
            _exit(40 + round);
        while (!seen)
            usleep(1000);
        printf("round %d: si_pid is the child: %d, si_uid is getuid: %d, code %d, status %d\n", round,
               pid_seen == c, uid_seen == (sig_atomic_t)getuid(), code_seen, status_seen);
        siginfo_t si;
        memset(&si, 0, sizeof si);
        waitid(P_PID, (id_t)c, &si, WEXITED);
        printf("round %d: waitid's si_pid is the child: %d, status %d\n", round, si.si_pid == c, si.si_status);
    }
    /* a child killed by a signal, reaped before its handler may run */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    seen = 0;
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            usleep(2000);
    }
    kill(c, SIGTERM);
    int st;
    waitpid(c, &st, 0);
    sigprocmask(SIG_SETMASK, &old, 0);
    while (!seen)
        usleep(1000);
    printf("after the wait: si_pid is the child: %d, code %d, status %d\n", pid_seen == c, code_seen, status_seen);
    return 0;
}
