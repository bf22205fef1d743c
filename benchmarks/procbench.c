/* Processes (benchmarks/bench_processes.py): fork + _exit + wait, and fork + exec of a static
 * program (this one, "noop") + wait, N times each, timed inside the program; prints
 * "name microseconds-per-iteration" lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "noop"))
        return 0;
    int n = argc > 2 ? atoi(argv[2]) : 100;
    const char *self = argc > 3 ? argv[3] : argv[0];
    double t = now();
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0)
            _exit(0);
        waitpid(p, 0, 0);
    }
    printf("fork_exit_wait_us %.1f\n", (now() - t) / n * 1e6);
    t = now();
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) {
            char *args[] = {(char *)self, "noop", 0};
            execv(self, args);
            _exit(127);
        }
        int st;
        waitpid(p, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st)) {
            fprintf(stderr, "exec of %s failed\n", self);
            return 1;
        }
    }
    printf("fork_exec_wait_us %.1f\n", (now() - t) / n * 1e6);
    return 0;
}
