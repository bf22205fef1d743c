/* Blocking reads and writes on the ABI's channels (which answer 0 for "not
 * ready"): poll with block, then retry. */
#ifndef XAX_LAYER_CHAN_H
#define XAX_LAYER_CHAN_H
#include <stddef.h>

/* Bytes read (0: the channel is closed, end of file). */
long chan_read(int chan, void *buf, size_t len);
/* Bytes written, or -EPIPE if the channel closed before any was. */
long chan_write(int chan, const void *buf, size_t len);
/* One try each, never waiting: bytes moved, 0 at end of file (read), -EPIPE closed (write), or
 * -EAGAIN when the channel is not ready (O_NONBLOCK descriptions of the family's pipes). */
long chan_try_read(int chan, void *buf, size_t len);
long chan_try_write(int chan, const void *buf, size_t len);
#endif
