/* Time system calls made directly (not through the vDSO), checked for sense:
 * prints one verdict per call, the same natively and sealed. */
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t c)
{
    struct timespec ts;
    syscall(SYS_clock_gettime, c, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
    struct { long sec, usec; } tv;
    long r = syscall(SYS_gettimeofday, &tv, 0);
    double real = now(CLOCK_REALTIME);
    printf("gettimeofday: %s\n", r == 0 && tv.sec > 1600000000 && tv.sec - real < 2 && real - tv.sec < 2 ? "ok" : "bad");
    long t = syscall(SYS_time, 0);
    printf("time: %s\n", t > 1600000000 && t - real < 2 ? "ok" : "bad");
    struct timespec res = {-1, -1};
    r = syscall(SYS_clock_getres, CLOCK_MONOTONIC, &res);
    printf("clock_getres: %s\n", r == 0 && res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 4000000 ? "ok" : "bad");
    printf("clock_getres(invalid id): %ld\n", syscall(SYS_clock_getres, 99, &res) == -1 ? -1L : 0L);

    double start = now(CLOCK_MONOTONIC);
    struct timespec d = {0, 150 * 1000 * 1000};
    r = syscall(SYS_nanosleep, &d, 0);
    double slept = now(CLOCK_MONOTONIC) - start;
    printf("nanosleep: %s\n", r == 0 && slept >= 0.15 ? "ok" : "bad");

    struct timespec abs_t;
    clock_gettime(CLOCK_REALTIME, &abs_t);
    abs_t.tv_nsec += 100 * 1000 * 1000;
    if (abs_t.tv_nsec >= 1000000000) {
        abs_t.tv_sec++;
        abs_t.tv_nsec -= 1000000000;
    }
    r = syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &abs_t, 0);
    double after = now(CLOCK_REALTIME);
    printf("clock_nanosleep(abs): %s\n", r == 0 && after >= abs_t.tv_sec + abs_t.tv_nsec / 1e9 ? "ok" : "bad");
    struct timespec invalid = {0, 2000000000};
    printf("nanosleep(invalid): %ld\n", syscall(SYS_nanosleep, &invalid, 0) == -1 ? -1L : 0L);
    printf("sleep(1)=%u\n", sleep(1));
    return 0;
}
