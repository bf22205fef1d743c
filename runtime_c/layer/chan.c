/* Blocking I/O on channels, on top of the ABI's non-blocking read and write. */
#include "chan.h"

#include <linux/futex.h>
#include <linux/time_types.h>

#include "../lib/sys.h"
#include "arena.h"
#include "layer.h"

/* Until the channel is ready.  A blocking poll would hold the channel (one
 * request at a time) for as long as the wait lasts — while, say, another
 * thread's prompt waits to be written: the very output that gets the input
 * this poll waits for.  So polls block for a slice at most (50 ms on the
 * Monitor's clock; readiness still answers at once), and between them the
 * channel and the layer's state are let go for a moment (a 200 us nap: the
 * locks are not fair, and the thread woken for them needs time to run). */
static long wait_for(int chan, short events)
{
    xabi_poll_fd p = {chan, events, 0};
    for (;;) {
        p.revents = 0;
        if (layer_host->poll_sliced(&p, 1) != 0 || p.revents)
            return 0; /* ready, closed, or an error: the caller's read or write tells which */
        struct __kernel_timespec nap = {0, 200 * 1000};
        uint32_t exec_gen = layer_nap_begin();
        sys4(__NR_futex, (long)&layer.never_woken, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, (long)&nap);
        if (layer_nap_end(exec_gen) < 0)
            return -EINTR; /* another thread exec'd: this one moves nothing more and ends */
    }
}

/* The family's lock (arena.c) is let go for the whole transfer: the bytes a read waits for
 * may come from another process of the family, which needs the lock to write them. */
static long read_unlocked(int chan, void *buf, size_t len)
{
    for (;;) {
        int n = LAYER_ABI->read(chan, buf, (int)len);
        if (n > 0)
            return n;
        if (n < 0)
            return 0; /* closed: end of file */
        if (wait_for(chan, XABI_POLLIN) < 0)
            return -EINTR;
    }
}

long chan_read(int chan, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    if (len > 0x7fffffff)
        len = 0x7fffffff;
    int held = family_unlock();
    long r = read_unlocked(chan, buf, len);
    if (held)
        family_lock();
    return r;
}

static long write_unlocked(int chan, const void *buf, size_t len);

long chan_try_read(int chan, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    int held = family_unlock(); /* nobody waits for the family's lock across a round trip */
    int n = LAYER_ABI->read(chan, buf, len > 0x7fffffff ? 0x7fffffff : (int)len);
    if (held)
        family_lock();
    return n > 0 ? n : n < 0 ? 0 : -EAGAIN; /* closed: end of file */
}

long chan_try_write(int chan, const void *buf, size_t len)
{
    if (len == 0)
        return 0;
    int held = family_unlock();
    int n = LAYER_ABI->write(chan, (char *)buf, len > 0x7fffffff ? 0x7fffffff : (int)len);
    if (held)
        family_lock();
    return n > 0 ? n : n < 0 ? -EPIPE : -EAGAIN;
}

long chan_write(int chan, const void *buf, size_t len)
{
    int held = family_unlock();
    long r = write_unlocked(chan, buf, len);
    if (held)
        family_lock();
    return r;
}

static long write_unlocked(int chan, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t left = len - done;
        int n = LAYER_ABI->write(chan, (char *)buf + done, left > 0x7fffffff ? 0x7fffffff : (int)left);
        if (n > 0)
            done += (size_t)n;
        else if (n < 0)
            return done ? (long)done : -EPIPE;
        else if (wait_for(chan, XABI_POLLOUT) < 0)
            return done ? (long)done : -EINTR;
    }
    return (long)done;
}
