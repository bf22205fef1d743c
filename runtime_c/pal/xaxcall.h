/* xaxcalls: one request datagram to the Monitor, one reply back. */
#ifndef XAX_XAXCALL_H
#define XAX_XAXCALL_H
#include <stdint.h>

/* Send a request; wait for its reply; copy at most `outcap` payload bytes to
 * `out` and store the payload length in *outlen.  Returns the reply's arg.
 * A broken channel or a malformed reply ends the picoprocess. */
int32_t xaxcall(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len,
                void *out, uint32_t outcap, uint32_t *outlen);

/* A one-way message (TRACE): no reply. */
void xaxcall_oneway(uint16_t type, int32_t chan, int32_t arg);
#endif
