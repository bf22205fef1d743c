/* xaxcalls: one request datagram to the Monitor, one reply back. */
#ifndef XAX_XAXCALL_H
#define XAX_XAXCALL_H
#include <stdint.h>

/* Send a request; wait for its reply; copy at most `outcap` payload bytes to
 * `out` and store the payload length in *outlen.  Returns the reply's arg.
 * A broken channel or a malformed reply ends the picoprocess. */
int32_t xaxcall(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len,
                void *out, uint32_t outcap, uint32_t *outlen);

/* A one-way message (TRACE, TRACE_PATH): no reply. */
void xaxcall_oneway(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len);

/* A POLL: how is XAX_POLL_*; pfds (size bytes) are sent and the answer written back.  One
 * that may wait does not (answers at once) if another thread waits for the channel or, with
 * seen, if xaxcall_wake was called since the caller read xaxcall_wakes() into *seen. */
int32_t xaxcall_poll(int32_t how, int32_t chan, void *pfds, uint32_t size, uint32_t *got, const uint32_t *seen);

/* Something a waiting POLL may wait for changed: count it, and if a POLL that may wait is in
 * flight, ask the Monitor to answer it now (WAKE).  xaxcall_wakes: the count so far. */
void xaxcall_wake(void);
uint32_t xaxcall_wakes(void);

/* fork (docs/processes.md): SPAWN with payload chans (the channel ids the process holds), then
 * a plain fork.  In the parent: the child's host pid (or -errno) and *vpid its virtual pid; in
 * the child: 0, with *vpid its own virtual pid, on a channel of its own. */
long xaxcall_fork(const void *chans, uint32_t len, int32_t *vpid);
#endif
