/* Non-private futexes, answered as private ones.
 *
 * The kernel keys a non-private futex on a file-backed page by the file's inode
 * and offset, not by the process: two picoprocesses that map one file (each maps
 * the PAL's code from xax-pico; two runs of an image from the HTTP cache map its
 * one body file) would name the same futex — a covert channel between them.  So
 * the filter lets only FUTEX_PRIVATE_FLAG operations reach the kernel
 * (xax_emu/seal/allowlist.py, FUTEX_OPS_HARMLESS: the operations below), and
 * their shared forms trap to here, where each is made as the private operation.
 * For the program that changes nothing: a picoprocess is one address space, in
 * which a private futex names the same word for every thread.
 *
 * Only the kernel's own shared wake reaches no private waiter: when a thread
 * started with CLONE_CHILD_CLEARTID exits, the kernel clears its tid word and
 * wakes that word, non-private.  pthread_join waits for it (glibc on the tid
 * word, musl on its thread-list lock).  So a wait here sleeps a slice at a time
 * and looks at its word between slices.  A wait with no timeout returns 0
 * after its first slice — a spurious wakeup, which every futex user expects (it
 * checks its word and waits again) — so that the program's signals, blocked
 * while the SIGSYS handler runs, wait at most a slice.  A wait with a timeout
 * is waited out here, slice by slice, ending early only when the word changes:
 * it answers -ETIMEDOUT when the kernel would. */
#include <asm/errno.h>
#include <linux/futex.h>
#include <linux/time.h>
#include <linux/time_types.h>

#include "../lib/sys.h"
#include "futex.h"
#include "user.h"

#define SLICE_NS (2 * 1000 * 1000L)
#define NS 1000000000L
#define CMD(op) ((op) & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

int pal_futex_is_shared(long op)
{
    switch (CMD((int)op)) {
    case FUTEX_WAIT:
    case FUTEX_WAKE:
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
    case FUTEX_WAKE_OP:
    case FUTEX_WAIT_BITSET:
    case FUTEX_WAKE_BITSET:
        return !((int)op & FUTEX_PRIVATE_FLAG);
    default:
        return 0; /* private (allowed), or an operation the filter never allows: the layer's */
    }
}

static struct __kernel_timespec now_plus(int clock, long ns)
{
    struct __kernel_timespec t = {0, 0};
    sys2(__NR_clock_gettime, clock, (long)&t);
    t.tv_nsec += ns;
    t.tv_sec += t.tv_nsec / NS;
    t.tv_nsec %= NS;
    return t;
}

static int before(const struct __kernel_timespec *a, const struct __kernel_timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static long shared_wait(uint64_t uaddr, int op, uint32_t val, const struct __kernel_timespec *timeout,
                        uint32_t bitset)
{
    int cmd = CMD(op), realtime = (op & FUTEX_CLOCK_REALTIME) != 0;
    int clock = realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC;
    struct __kernel_timespec deadline;
    if (timeout) { /* checked first, as the kernel does */
        if (pal_copy_in(&deadline, timeout, sizeof deadline))
            return -EFAULT;
        if (deadline.tv_sec < 0 || deadline.tv_nsec < 0 || deadline.tv_nsec >= NS)
            return -EINVAL;
        if (cmd == FUTEX_WAIT) { /* relative, on the monotonic clock */
            struct __kernel_timespec start = now_plus(CLOCK_MONOTONIC, deadline.tv_nsec);
            deadline.tv_sec += start.tv_sec;
            deadline.tv_nsec = start.tv_nsec;
        }
    }
    if (cmd == FUTEX_WAIT && realtime)
        return -ENOSYS;
    if (cmd == FUTEX_WAIT)
        bitset = FUTEX_BITSET_MATCH_ANY;
    int wait_op = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | (realtime ? FUTEX_CLOCK_REALTIME : 0);
    for (int first = 1;; first = 0) {
        struct __kernel_timespec until = now_plus(clock, SLICE_NS);
        int last = timeout && !before(&until, &deadline); /* the deadline comes first */
        if (last)
            until = deadline;
        long r = sys6(__NR_futex, (long)uaddr, wait_op, val, (long)&until, 0, bitset);
        if (r == -EAGAIN && !first)
            return 0; /* the word changed while it waited: as if woken */
        if (r != -ETIMEDOUT || last)
            return r;
        uint32_t now;
        if (pal_copy_in(&now, (const void *)uaddr, sizeof now) || now != val)
            return 0; /* changed (a thread's exit cleared it) or gone: the caller looks again */
        if (!timeout)
            return 0; /* a spurious wakeup: the caller looks at its word and waits again */
    }
}

long pal_futex_shared(const uint64_t a[6])
{
    int op = (int)a[1];
    int cmd = CMD(op);
    if (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET)
        return shared_wait(a[0], op, (uint32_t)a[2], (const struct __kernel_timespec *)a[3], (uint32_t)a[5]);
    return sys6(__NR_futex, (long)a[0], op | FUTEX_PRIVATE_FLAG, (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
}
