/* What programs probe at start-up: resource limits, sysinfo, the signal stack.
 * Prints verdicts that hold natively and in the picoprocess alike. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>

int main(void)
{
    struct rlimit r;
    int ok = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur >= 256 && r.rlim_cur <= r.rlim_max;
    printf("getrlimit NOFILE: %s\n", ok ? "ok" : "bad");
    struct rlimit lower = {64, r.rlim_max};
    ok = setrlimit(RLIMIT_NOFILE, &lower) == 0 && getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur == 64;
    printf("lower NOFILE: %s\n", ok ? "ok" : "bad");
    struct rlimit above = {r.rlim_max, r.rlim_max};
    if (r.rlim_max != RLIM_INFINITY) {
        above.rlim_cur = above.rlim_max = r.rlim_max + 1;
        int rc = setrlimit(RLIMIT_NOFILE, &above);
        printf("raise hard NOFILE: %s\n", rc == -1 && errno == EPERM ? "EPERM" : "allowed");
    } else {
        printf("raise hard NOFILE: EPERM\n");
    }
    struct rlimit bad = {10, 5};
    printf("cur above max: %s\n", setrlimit(RLIMIT_CORE, &bad) == -1 && errno == EINVAL ? "EINVAL" : "bad");
    struct sysinfo si;
    printf("sysinfo: %s\n", sysinfo(&si) == 0 && si.uptime >= 0 && si.totalram > 0 && si.mem_unit >= 1 ? "ok" : "bad");
    double load[3];
    printf("getloadavg: %s\n", getloadavg(load, 3) == 3 ? "ok" : "bad");
    stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0}, old;
    printf("sigaltstack set: %d\n", sigaltstack(&ss, NULL));
    printf("sigaltstack read back: %s\n",
           sigaltstack(NULL, &old) == 0 && old.ss_sp == ss.ss_sp && old.ss_size == 65536 ? "ok" : "bad");
    stack_t tiny = {.ss_sp = ss.ss_sp, .ss_size = 16, .ss_flags = 0};
    printf("sigaltstack tiny: %s\n", sigaltstack(&tiny, NULL) == -1 && errno == ENOMEM ? "ENOMEM" : "bad");
    return 0;
}
