/* Blocking I/O on channels, on top of the ABI's non-blocking read and write. */
#include "chan.h"

#include <linux/futex.h>
#include <linux/time_types.h>

#include "../lib/sys.h"
#include "layer.h"

/* Until the channel is ready.  With one thread, a blocking poll: the Monitor
 * answers when it is.  With more, a blocking poll would hold the channel (one
 * request at a time) while, say, another thread's prompt waits to be written —
 * the very output that gets the input this poll waits for.  So: non-blocking
 * polls, and between them a sleep of growing length (50 us to 20 ms) with the
 * channel and the layer's state let go. */
static void wait_for(int chan, short events)
{
    xabi_poll_fd p = {chan, events, 0};
    if (!__atomic_load_n(&layer_threads_seen, __ATOMIC_RELAXED)) {
        LAYER_ABI->poll(&p, 1, true);
        return;
    }
    long nap_ns = 50 * 1000;
    for (;;) {
        p.revents = 0;
        if (LAYER_ABI->poll(&p, 1, false) != 0 || p.revents)
            return; /* ready, closed, or an error: the caller's read or write tells which */
        static int never_woken;
        struct __kernel_timespec t = {0, nap_ns};
        layer_wait_begin();
        sys4(__NR_futex, (long)&never_woken, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, (long)&t);
        layer_wait_end();
        if (nap_ns < 20 * 1000 * 1000)
            nap_ns *= 2;
    }
}

long chan_read(int chan, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    if (len > 0x7fffffff)
        len = 0x7fffffff;
    for (;;) {
        int n = LAYER_ABI->read(chan, buf, (int)len);
        if (n > 0)
            return n;
        if (n < 0)
            return 0; /* closed: end of file */
        wait_for(chan, XABI_POLLIN);
    }
}

long chan_write(int chan, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t left = len - done;
        int n = LAYER_ABI->write(chan, (char *)buf + done, left > 0x7fffffff ? 0x7fffffff : (int)left);
        if (n > 0)
            done += (size_t)n;
        else if (n < 0)
            return done ? (long)done : -EPIPE;
        else
            wait_for(chan, XABI_POLLOUT);
    }
    return (long)done;
}
