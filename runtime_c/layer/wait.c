/* Waiting for readiness (wait.h): one loop for poll, select, epoll_wait and the sockets.
 *
 * Each round scans (the caller's records: what is ready inside, which channels to ask),
 * then, if nothing is ready and time is left:
 *   - with channels to ask: one POLL xaxcall that waits until one is ready, the time has
 *     passed, or a WAKE comes (layer_host->poll_wait), the layer's lock let go meanwhile;
 *   - without: a futex wait on layer.ready_word until the time has passed, the lock let go.
 * Any change inside the picoprocess (a pipe written, a socket connected, by another thread)
 * calls wait_changed, which bumps ready_word and wakes both kinds of waiter: a waiter in the
 * Monitor through poll_wake (the PAL sends WAKE if a POLL waits), so that no change is lost
 * between a scan and the wait (the seen counts are read before the scan, under the lock).
 * A signal that comes for the caller meanwhile ends the wait with EINTR (signalled, below):
 * without that, a handler held back until the call returns (a rewritten call's) would wait
 * for a call that waits for the handler (asyncio's SIGCHLD watcher: its handler writes the
 * loop's wake-up socket, which the epoll_wait it interrupted waits for). */
#include "wait.h"

#include <linux/futex.h>
#include <linux/time.h>
#include <linux/time_types.h>

#include "../lib/sys.h"
#include "arena.h"
#include "layer.h"
#include "xax_protocol.h"

#define POLLIN_ 0x1
#define POLLOUT_ 0x4
#define POLLERR_ 0x8
#define POLLHUP_ 0x10
#define POLLRDNORM_ 0x40
#define POLLWRNORM_ 0x100
#define POLLRDHUP_ 0x2000
#define NS 1000000000LL

uint32_t wait_poll_bits(int xabi)
{
    uint32_t m = 0;
    if (xabi & XABI_POLLIN)
        m |= POLLIN_ | POLLRDNORM_;
    if (xabi & XABI_POLLOUT)
        m |= POLLOUT_ | POLLWRNORM_;
    if (xabi & XABI_POLLERR)
        m |= POLLERR_;
    if (xabi & XABI_POLLHUP) /* the other side is gone: nothing more to read, as a peer's close shows */
        m |= POLLHUP_ | POLLIN_ | POLLRDNORM_ | POLLRDHUP_;
    return m;
}

short wait_xabi_bits(uint32_t events)
{
    short x = 0;
    if (events & (POLLIN_ | POLLRDNORM_ | POLLRDHUP_))
        x |= XABI_POLLIN;
    if (events & (POLLOUT_ | POLLWRNORM_))
        x |= XABI_POLLOUT;
    return x;
}

static int64_t now_ns(void)
{
    struct __kernel_timespec ts = {0, 0};
    sys2(__NR_clock_gettime, CLOCK_MONOTONIC, (long)&ts);
    return ts.tv_sec * NS + ts.tv_nsec;
}

int64_t wait_deadline(int64_t timeout_ns)
{
    return timeout_ns < 0 ? -1 : now_ns() + timeout_ns;
}

int64_t wait_left(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - now_ns();
    return left > 0 ? left : 0;
}

void wait_changed(void)
{
    __atomic_add_fetch(&layer.ready_word, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&layer.ready_waiters, __ATOMIC_SEQ_CST))
        sys3(__NR_futex, (long)&layer.ready_word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 0x7fffffff);
    layer_host->poll_wake();
}

/* Without channels: until ready_word moves from seen or the deadline passes */
static void sleep_until(uint32_t seen, int64_t deadline)
{
    struct __kernel_timespec ts = {deadline / NS, deadline % NS};
    __atomic_add_fetch(&layer.ready_waiters, 1, __ATOMIC_SEQ_CST);
    uint32_t exec_gen = layer_wait_begin();
    if (deadline < 0)
        sys4(__NR_futex, (long)&layer.ready_word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, (long)seen, 0);
    else
        sys6(__NR_futex, (long)&layer.ready_word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, (long)seen, (long)&ts, 0,
             FUTEX_BITSET_MATCH_ANY);
    layer_wait_end(exec_gen);
    __atomic_sub_fetch(&layer.ready_waiters, 1, __ATOMIC_SEQ_CST);
}

/* A signal for the caller (a rewritten call's, held back until it returns: rewrite_frame.h)
 * ends the wait with EINTR.  The kernel cuts the real futex or channel wait short for it only
 * when the program's handler has no SA_RESTART; with SA_RESTART it restarts them, so a
 * caller that can be signalled this way waits in slices of SIGNAL_SLICE_NS and looks between. */
#define SIGNAL_SLICE_NS (50 * 1000000LL)

static int signalled(const struct wait_over *w)
{
    return w->held && __atomic_load_n(w->held, __ATOMIC_RELAXED) != 0;
}

/* How long one slice of the wait lasts (-1: the whole wait is one): SIGNAL_SLICE_NS for a
 * caller a held signal may end; FAMILY_SLICE_NS once the family has forked, for an object in
 * the arena (a socket, an eventfd) may be changed by another member, whose wake (a private
 * futex, its own ready_word) never reaches this process: the next slice's scan sees it. */
static int64_t slice_ns(const struct wait_over *w)
{
    int64_t ns = w->held ? SIGNAL_SLICE_NS : -1;
    if (family_forked() && (ns < 0 || ns > FAMILY_SLICE_NS))
        ns = FAMILY_SLICE_NS;
    return ns;
}

/* the deadline (absolute, -1 none) of one slice of the wait */
static int64_t slice_deadline(const struct wait_over *w, int64_t deadline)
{
    int64_t ns = slice_ns(w);
    if (ns < 0)
        return deadline;
    int64_t slice = now_ns() + ns;
    return deadline < 0 || deadline > slice ? slice : deadline;
}

/* the time left (-1 none) of one slice of the wait */
static int64_t slice_left(const struct wait_over *w, int64_t left)
{
    int64_t ns = slice_ns(w);
    return ns >= 0 && (left < 0 || left > ns) ? ns : left;
}

static int timeout_ms(int64_t left)
{
    if (left < 0)
        return -1;
    int64_t ms = (left + 999999) / 1000000; /* never less than asked */
    return ms > XAX_POLL_TIMEOUT_MAX ? XAX_POLL_TIMEOUT_MAX : (int)ms;
}

/* More channels than one POLL carries (XAX_MAX_POLL_FDS): each round asks them all in
 * pieces, at once, and between rounds the wait sleeps for BIG_ROUND at most. */
#define BIG_ROUND (10 * 1000000LL)

static long wait_big(const struct wait_over *w, int64_t deadline, int count)
{
    long ready;
    for (;;) {
        size_t bytes = (size_t)count * sizeof(xabi_poll_fd);
        xabi_poll_fd *chans = LAYER_ABI->alloc(0, (long)bytes);
        if (!chans)
            return -ENOMEM;
        uint32_t seen = __atomic_load_n(&layer.ready_word, __ATOMIC_SEQ_CST);
        int n = 0;
        ready = w->scan(w->ctx, chans, count, &n);
        if (ready >= 0 && n <= count) {
            for (int at = 0; at < n; at += XAX_MAX_POLL_FDS) {
                int piece = n - at < XAX_MAX_POLL_FDS ? n - at : XAX_MAX_POLL_FDS;
                if (layer_host->poll_wait(chans + at, piece, 0, 0) < 0) {
                    ready = -EIO;
                    break;
                }
            }
            if (ready >= 0)
                ready = w->merge(w->ctx, chans, n);
        }
        LAYER_ABI->free(chans);
        if (n > count) { /* more than last time: ask again with room for them */
            count = n;
            continue;
        }
        int64_t left = wait_left(deadline);
        if (ready || left == 0)
            return ready;
        if (signalled(w))
            return -EINTR;
        int64_t until = now_ns() + (left >= 0 && left < BIG_ROUND ? left : BIG_ROUND);
        sleep_until(seen, until);
    }
}

long wait_ready(const struct wait_over *w, int64_t timeout_ns)
{
    int64_t deadline = wait_deadline(timeout_ns);
    xabi_poll_fd chans[XAX_MAX_POLL_FDS];
    for (;;) {
        uint32_t seen = __atomic_load_n(&layer.ready_word, __ATOMIC_SEQ_CST);
        uint32_t wakes = layer_host->poll_wakes();
        int nchans = 0;
        long ready = w->scan(w->ctx, chans, XAX_MAX_POLL_FDS, &nchans);
        if (ready < 0)
            return ready;
        if (nchans > XAX_MAX_POLL_FDS)
            return wait_big(w, deadline, nchans);
        int64_t left = wait_left(deadline);
        if (!nchans) {
            if (ready || left == 0)
                return ready;
            if (signalled(w))
                return -EINTR;
            sleep_until(seen, slice_deadline(w, deadline));
            continue;
        }
        if (!ready && left != 0 && signalled(w))
            return -EINTR;
        int ms = ready ? 0 : timeout_ms(slice_left(w, left));
        uint32_t exec_gen = 0;
        if (ms)
            exec_gen = layer_wait_begin();
        int r = layer_host->poll_wait(chans, nchans, ms, wakes);
        if (ms)
            layer_wait_end(exec_gen);
        if (r < 0)
            return -EIO;
        long got = w->merge(w->ctx, chans, nchans);
        if (got || ms == 0)
            return got;
    }
}
