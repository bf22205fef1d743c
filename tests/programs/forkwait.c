/* fork, exit statuses and signal deaths through wait4 and waitid, getpid/getppid, kill of a
 * child: the same output natively.  The child reports through its exit status. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    pid_t me = getpid();
    pid_t a = fork();
    if (a < 0) {
        perror("fork");
        return 1;
    }
    if (a == 0)
        _exit(getppid() == me && getpid() != me ? 7 : 8);
    int status = 0;
    pid_t got = waitpid(a, &status, 0);
    printf("waited the child: %d exited %d with %d (raw %#x)\n", got == a, WIFEXITED(status), WEXITSTATUS(status),
           status);
    pid_t b = fork();
    if (b == 0) {
        abort();
    }
    got = waitpid(-1, &status, 0);
    printf("second: %d signaled %d by %s\n", got == b, WIFSIGNALED(status), strsignal(WTERMSIG(status)));
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            sleep(100);
        _exit(0);
    }
    kill(c, SIGKILL);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    waitid(P_PID, c, &info, WEXITED);
    printf("third: %d code %d status %s\n", info.si_pid == c, info.si_code == CLD_KILLED,
           strsignal(info.si_status));
    printf("no more: %d\n", waitpid(-1, &status, WNOHANG) < 0);
    fflush(stdout);
    return 3;
}
