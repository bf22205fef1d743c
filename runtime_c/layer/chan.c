/* Blocking I/O on channels, on top of the ABI's non-blocking read and write. */
#include "chan.h"

#include "layer.h"

static void wait_for(int chan, short events)
{
    xabi_poll_fd p = {chan, events, 0};
    LAYER_ABI->poll(&p, 1, true);
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
