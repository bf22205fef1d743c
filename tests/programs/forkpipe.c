/* Pipes and dup2'd descriptors across fork: a pipe made before the fork, written by the child
 * (once directly, once through stdout dup2'd onto it), read by the parent to its end of file;
 * bytes buffered before the fork reach the reader too.  The same output natively. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fds[2];
    if (pipe(fds) < 0)
        return 1;
    write(fds[1], "buffered before the fork\n", 25);
    pid_t a = fork();
    if (a == 0) {
        close(fds[0]);
        write(fds[1], "from the child, directly\n", 25);
        dup2(fds[1], 1);
        close(fds[1]);
        printf("from the child, through its stdout\n");
        fflush(stdout);
        _exit(0);
    }
    close(fds[1]);
    char buf[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = read(fds[0], buf + total, sizeof buf - 1 - total)) > 0)
        total += (size_t)n;
    buf[total] = 0;
    int status;
    waitpid(a, &status, 0);
    printf("parent read %zu bytes to EOF (last read %zd):\n%s", total, n, buf);
    printf("child exited %d\n", WEXITSTATUS(status));
    return 0;
}
