/* Attack: read another process's CPU clock (a timing side channel on the
 * Monitor or init): clock ids are negative for those (MAKE_PROCESS_CPUCLOCK
 * in the kernel: ((~pid) << 3) | clock).  argv[3] is the Monitor's pid.
 * Also the own thread's CPU clock (negative too), clock ids beyond 7
 * (CLOCK_TAI), a junk upper half on a process clock id, and the other clock
 * calls, which are not allowed.  CLOCK_MONOTONIC and CLOCK_REALTIME must work,
 * also with junk above the int. */
#include <stdlib.h>
#include <time.h>
#include "hostile.h"

#define PROCESS_CPUCLOCK(pid, which) ((long)(int)((~(unsigned)(pid) << 3) | (which)))
#define CPUCLOCK_SCHED 2
#define CPUCLOCK_PERTHREAD 4

int main(int argc, char **argv)
{
    long monitor = atol(argv[3]);
    struct timespec ts = {0, 0}, ts2 = {0, 0};
    report("init_cpu", raw2(SYS_clock_gettime, PROCESS_CPUCLOCK(1, CPUCLOCK_SCHED), (long)&ts));
    report("monitor_cpu", raw2(SYS_clock_gettime, PROCESS_CPUCLOCK(monitor, CPUCLOCK_SCHED), (long)&ts));
    report("monitor_cpu_prof", raw2(SYS_clock_gettime, PROCESS_CPUCLOCK(monitor, 0), (long)&ts));
    long own_thread = PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED | CPUCLOCK_PERTHREAD);
    long monitor_junk = (PROCESS_CPUCLOCK(monitor, CPUCLOCK_SCHED) & 0xffffffffL) | (0xdeadL << 32);
    report("self_thread_cpu", raw2(SYS_clock_gettime, own_thread, (long)&ts));
    report("monitor_cpu_junk", raw2(SYS_clock_gettime, monitor_junk, (long)&ts));
    report("tai", raw2(SYS_clock_gettime, CLOCK_TAI, (long)&ts));
    report("untouched", ts.tv_sec == 0 && ts.tv_nsec == 0);
    report("getres_monitor", raw2(SYS_clock_getres, PROCESS_CPUCLOCK(monitor, CPUCLOCK_SCHED), (long)&ts));
    report("settime", raw2(SYS_clock_settime, CLOCK_REALTIME, (long)&ts));
    report("adjtime", raw2(SYS_clock_adjtime, CLOCK_REALTIME, 0));
    report("nanosleep", raw4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, (long)&ts, 0));
    report("monotonic", raw2(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts));
    report("monotonic_set", ts.tv_sec > 0 || ts.tv_nsec > 0);
    report("monotonic_junk", raw2(SYS_clock_gettime, CLOCK_MONOTONIC | (0xdeadL << 32), (long)&ts2));
    report("monotonic_advances", ts2.tv_sec > ts.tv_sec || (ts2.tv_sec == ts.tv_sec && ts2.tv_nsec >= ts.tv_nsec));
    report("realtime", raw2(SYS_clock_gettime, CLOCK_REALTIME, (long)&ts));
    report("realtime_plausible", ts.tv_sec > 1600000000);
    (void)argc;
    return 0;
}
