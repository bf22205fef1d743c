/* Process groups and sessions as shells use them (docs/processes.md): setpgid from the child
 * and from the parent, a child joining another's group, kill and wait4/waitid by group, kill(0)
 * to one's own group, setsid and its session, and Linux's errnos (EPERM, ESRCH, EACCES after the
 * child's exec, EINVAL).  Every line is a relation between ids, never an id itself, so the native
 * run and the sealed one print the same bytes (tests/test_processes_groups.py). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    write(1, buf, (size_t)n);
}

static const char *err(long r)
{
    return r < 0 ? strerror(errno) : "ok";
}

static void idle(void) /* until a signal ends it: short sleeps, so that it acts at once */
{
    for (;;)
        usleep(2000);
}

static void status(const char *who, int st)
{
    if (WIFEXITED(st))
        say("%s exited %d\n", who, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        say("%s killed by %d\n", who, WTERMSIG(st));
}

static volatile sig_atomic_t got;
static void on_usr1(int sig)
{
    (void)sig;
    got++;
}

/* A child in a group of its own signals its group (itself and its own child) with kill(0). */
static void group_signaller(void)
{
    say("F setpgid(0,0) = %s\n", err(setpgid(0, 0)));
    pid_t f2 = fork();
    if (f2 == 0)
        idle();
    say("F2 in F's group: %d\n", getpgid(f2) == getpid());
    signal(SIGUSR1, on_usr1);
    say("F kill(0, SIGUSR1) = %s\n", err(kill(0, SIGUSR1)));
    while (!got)
        usleep(1000);
    int st;
    pid_t w = waitpid(0, &st, 0);
    say("F waitpid(0) got F2: %d\n", w == f2);
    status("F2", st);
    say("F waitpid(0) again = %s\n", err(waitpid(0, &st, 0)));
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "idle"))
        idle();
    int st;
    say("getpgrp() == getpgid(0): %d\n", getpgrp() == getpgid(0));
    say("getsid(0) == getsid(getpid()): %d\n", getsid(0) == getsid(getpid()));

    /* A: a group of its own, set by both (a shell's race-free way) */
    pid_t a = fork();
    if (a == 0) {
        setpgid(0, 0);
        idle();
    }
    say("parent setpgid(A, A) = %s\n", err(setpgid(a, a)));
    say("getpgid(A) == A: %d, getpgrp() != A: %d\n", getpgid(a) == a, getpgrp() != a);
    say("getsid(A) == getsid(0): %d\n", getsid(a) == getsid(0));

    /* B joins A's group */
    pid_t b = fork();
    if (b == 0)
        idle();
    say("B starts in the parent's group: %d\n", getpgid(b) == getpgrp());
    say("parent setpgid(B, A) = %s\n", err(setpgid(b, a)));
    say("getpgid(B) == A: %d\n", getpgid(b) == a);

    /* errnos */
    errno = 0;
    say("setpgid(0, -1) = %s\n", err(setpgid(0, -1)));
    say("setpgid(not a child) = %s\n", err(setpgid(0x7ffffff0, 0)));
    say("setpgid(B, no such group) = %s\n", err(setpgid(b, 0x7ffffff0)));
    say("getpgid(nobody) = %s\n", err(getpgid(0x7ffffff0)));
    say("getsid(nobody) = %s\n", err(getsid(0x7ffffff0)));
    say("kill(-nobody, 0) = %s\n", err(kill(-0x7ffffff0, 0)));
    say("kill(-A, 0) = %s\n", err(kill(-a, 0)));

    /* kill the group; wait4 and waitid by group */
    say("kill(-A, SIGTERM) = %s\n", err(kill(-a, SIGTERM)));
    pid_t w1 = waitpid(-a, &st, 0);
    status(w1 == a || w1 == b ? "A or B" : "?", st);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    say("waitid(P_PGID, A) = %s\n", err(waitid(P_PGID, (id_t)a, &si, WEXITED)));
    say("waitid's child is the other: %d, code %d, status %d\n", si.si_pid == (w1 == a ? b : a),
        si.si_code, si.si_status);
    say("waitpid(-A) again = %s\n", err(waitpid(-a, &st, 0)));

    /* C execs: its parent may no longer move it */
    int sync[2];
    pipe2(sync, O_CLOEXEC);
    pid_t c = fork();
    if (c == 0) {
        char *args[] = {argv[0], "idle", 0};
        execv(argv[0], args);
        _exit(127);
    }
    close(sync[1]);
    char byte;
    say("C exec'd (its end closed): read = %zd\n", read(sync[0], &byte, 1));
    say("parent setpgid(C, C) after exec = %s\n", err(setpgid(c, c)));
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    status("C", st);

    /* D makes a session; E may not join D's group from another session */
    int ready[2], go[2];
    pipe(ready);
    pipe(go);
    pid_t d = fork();
    if (d == 0) {
        pid_t s = setsid();
        say("D setsid() == getpid(): %d\n", s == getpid());
        say("D getsid(0) == getpid(): %d, getpgrp() == getpid(): %d\n", getsid(0) == getpid(), getpgrp() == getpid());
        say("D setsid() again = %s\n", err(setsid()));
        say("D setpgid(0,0) as session leader = %s\n", err(setpgid(0, 0)));
        write(ready[1], "r", 1);
        read(go[0], &byte, 1);
        _exit(5);
    }
    read(ready[0], &byte, 1);
    say("getsid(D) == D: %d\n", getsid(d) == d);
    say("parent setpgid(D, D) in another session = %s\n", err(setpgid(d, d)));
    pid_t e = fork();
    if (e == 0) {
        say("E setpgid(0, D) across sessions = %s\n", err(setpgid(0, d)));
        _exit(0);
    }
    waitpid(e, &st, 0);
    write(go[1], "g", 1);
    waitpid(d, &st, 0);
    status("D", st);

    /* F: kill(0) reaches its own group, itself included */
    pid_t f = fork();
    if (f == 0)
        group_signaller();
    waitpid(f, &st, 0);
    status("F", st);
    return 0;
}
