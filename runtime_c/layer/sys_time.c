/* Time: the vDSO answers most time calls without a system call; these handle
 * the vDSO's fallbacks and the calls that have no vDSO form.  Reading a clock
 * uses clock_gettime on the process's own clocks (allowed); sleeping is a futex
 * wait on a word that nothing will ever wake (allowed), with the timeout.
 *
 * @family time: clocks read with the allowed clock_gettime; sleeps as futex waits with a timeout
 * @serves gettimeofday time clock_getres nanosleep clock_nanosleep
 */
#include <linux/futex.h>
#include <linux/time.h>
#include <linux/time_types.h>

#include "../lib/sys.h"
#include "layer.h"
#include "user.h"

struct timeval_k {
    long tv_sec, tv_usec;
};

long layer_gettimeofday(struct layer_call *c)
{
    struct __kernel_timespec ts;
    long r = sys2(__NR_clock_gettime, CLOCK_REALTIME, (long)&ts);
    if (r < 0)
        return r;
    struct timeval_k tv = {ts.tv_sec, ts.tv_nsec / 1000};
    if (c->a[0] && user_out(c->a[0], &tv, sizeof tv) < 0)
        return -EFAULT;
    uint64_t utc = 0; /* struct timezone: UTC */
    if (c->a[1] && user_out(c->a[1], &utc, sizeof utc) < 0)
        return -EFAULT;
    return 0;
}

long layer_time(struct layer_call *c)
{
    struct __kernel_timespec ts;
    long r = sys2(__NR_clock_gettime, CLOCK_REALTIME, (long)&ts);
    if (r < 0)
        return r;
    long now = ts.tv_sec;
    if (c->a[0] && user_out(c->a[0], &now, sizeof now) < 0)
        return -EFAULT;
    return now;
}

long layer_clock_getres(struct layer_call *c)
{
    int clock = (int)c->a[0];
    if (clock < 0 || clock > CLOCK_BOOTTIME)
        return -EINVAL;
    int coarse = clock == CLOCK_REALTIME_COARSE || clock == CLOCK_MONOTONIC_COARSE;
    struct __kernel_timespec res = {0, coarse ? 4000000 : 1};
    return c->a[1] ? user_out(c->a[1], &res, sizeof res) : 0;
}

#define NS 1000000000L

static int64_t monotonic_ns(void)
{
    struct __kernel_timespec ts = {0, 0};
    sys2(__NR_clock_gettime, CLOCK_MONOTONIC, (long)&ts);
    return ts.tv_sec * NS + ts.tv_nsec;
}

/* A sleep as a futex wait.  A timed futex wait that a handler interrupts returns EINTR
 * whatever SA_RESTART says (the kernel's -ERESTART_RESTARTBLOCK), as nanosleep and
 * clock_nanosleep do; then, as Linux, a relative sleep writes the time it had left to
 * user_rem (if not 0), an absolute one writes nothing.  On the trap path every signal is
 * blocked while the layer runs, so only a sleep through a rewritten site is interrupted
 * (its handler entered as the call returns: docs/rewrite.md). */
static long sleep_futex(int clock, int absolute, uint64_t user_t, uint64_t user_rem)
{
    struct __kernel_timespec ts, *t = &ts;
    if (user_in(&ts, user_t, sizeof ts) < 0)
        return -EFAULT;
    if (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= 1000000000L)
        return -EINVAL;
    int64_t end = 0;
    if (!absolute) /* no overflow: a sleep past 2262 ends then */
        end = monotonic_ns() + (t->tv_sec > INT64_MAX / NS - 1 ? INT64_MAX / NS - 1 : t->tv_sec) * NS + t->tv_nsec;
    long r;
    uint32_t exec_gen = layer_wait_begin();
    if (absolute) { /* FUTEX_WAIT_BITSET takes an absolute time, on MONOTONIC or (flagged) REALTIME */
        int op = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | (clock == CLOCK_REALTIME ? FUTEX_CLOCK_REALTIME : 0);
        r = sys6(__NR_futex, (long)&layer.never_woken, op, 0, (long)t, 0, FUTEX_BITSET_MATCH_ANY);
    } else {
        r = sys4(__NR_futex, (long)&layer.never_woken, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, (long)t);
    }
    layer_wait_end(exec_gen);
    if (r == -EINTR && !absolute && user_rem) {
        int64_t left = end - monotonic_ns();
        if (left < 0)
            left = 0;
        struct __kernel_timespec rem = {left / NS, left % NS};
        if (user_out(user_rem, &rem, sizeof rem) < 0)
            return -EFAULT;
    }
    return r == -ETIMEDOUT ? 0 : r;
}

long layer_nanosleep(struct layer_call *c)
{
    return sleep_futex(CLOCK_MONOTONIC, 0, c->a[0], c->a[1]);
}

long layer_clock_nanosleep(struct layer_call *c)
{
    int clock = (int)c->a[0];
    if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME)
        return clock >= 0 && clock <= CLOCK_BOOTTIME ? -EOPNOTSUPP : -EINVAL; /* as Linux answers */
    int absolute = (c->a[1] & TIMER_ABSTIME) != 0;
    return sleep_futex(clock == CLOCK_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC, absolute, c->a[2], c->a[3]);
}
