/* execve in place: a forked child execs this very program from the image with new argv and
 * environment (an fd marked close-on-exec is closed in it); another tries the host's /bin/sh,
 * which is not in the image.  Natively /bin/sh runs; sealed it is ENOENT (docs/processes.md). */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "child")) {
        printf("exec'd: argc %d, argv[2] %s, env %s, fd 5 %s\n", argc, argv[2], getenv("WHO") ? getenv("WHO") : "-",
               fcntl(5, F_GETFD) < 0 ? "closed" : "open");
        return 4;
    }
    int k = open("/dev/null", O_RDONLY | O_CLOEXEC);
    dup2(k, 5);
    fcntl(5, F_SETFD, FD_CLOEXEC);
    pid_t p = fork();
    if (p == 0) {
        char *args[] = {argv[0], "child", "second", 0};
        char *env[] = {"WHO=exec", 0};
        execve(argv[0], args, env);
        perror("execve");
        _exit(99);
    }
    int st;
    waitpid(p, &st, 0);
    printf("child status %d\n", WEXITSTATUS(st));
    pid_t q = fork();
    if (q == 0) {
        char *args[] = {"sh", "-c", "echo hi", 0};
        execve("/bin/sh", args, 0);
        perror("execve /bin/sh");
        _exit(98);
    }
    waitpid(q, &st, 0);
    printf("host sh status %d\n", WEXITSTATUS(st));
    return 0;
}
