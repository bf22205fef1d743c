/* A family past its limits as a whole (docs/processes.md; tests/test_processes_limits.py):
 *   membomb   children forked one after another, each touching 40 MiB and then idling: each is
 *             within RLIMIT_AS, but together they pass the family's memory limit
 *   cpubomb   three children and their parent spinning: each within RLIMIT_CPU, together past
 *             the family's CPU limit */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void idle(void)
{
    for (;;)
        usleep(2000);
}

static void spin(void)
{
    for (volatile unsigned long i = 0;; i++)
        ;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "membomb")) {
        for (int made = 0;; made++) {
            pid_t p = fork();
            if (p == 0) {
                size_t n = 40u << 20;
                volatile char *m = malloc(n); /* volatile: the stores are kept, the pages made resident */
                for (size_t i = 0; m && i < n; i += 4096)
                    m[i] = 1;
                idle();
            }
            if (p < 0)
                idle();
            usleep(50000);
        }
    }
    if (!strcmp(mode, "cpubomb")) {
        for (int i = 0; i < 3; i++)
            if (fork() == 0)
                spin();
        spin();
    }
    return 2;
}
