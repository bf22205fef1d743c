/* Waiting for readiness (wait.c): what poll, select, epoll_wait and a blocked socket share.
 * Readiness that lies inside the picoprocess (pipes, sockets connected inside it, eventfds,
 * files) the VFS answers; what lies with the Monitor (the stdio channels, a socket's channel,
 * the browser's connections waiting for accept) is asked in one POLL xaxcall. */
#ifndef XAX_LAYER_WAIT_H
#define XAX_LAYER_WAIT_H

#include <stdint.h>

#include "xabi.h"

/* What a wait is over, as its caller knows it (the program's pollfds, fd_sets, an epoll set).
 * scan: with the layer's lock held, fill what is ready inside the picoprocess now (in the
 * caller's own records) and up to cap entries of what to ask the Monitor (chans[i].chnl,
 * chans[i].events as XABI_POLL* bits); return how many records are ready, or -errno, and the
 * count of entries wanted in *nchans (it may exceed cap).  merge: the Monitor's answers
 * (chans[i].revents) added to the records; return how many records are ready. */
struct wait_over {
    long (*scan)(void *ctx, xabi_poll_fd *chans, int cap, int *nchans);
    long (*merge)(void *ctx, const xabi_poll_fd *chans, int n);
    void *ctx;
    const volatile uint64_t *held; /* the call's held signals (struct layer_call), or NULL */
};

#define WAIT_FOREVER (-1)

/* Until a record is ready or timeout_ns passes (WAIT_FOREVER: no limit; 0: look once):
 * the count ready (0 when the time passed), -EINTR when a signal came for the caller
 * meanwhile with nothing ready (poll, select and epoll_wait are never restarted after a
 * handler, SA_RESTART or not), or -errno from scan.  The layer's lock is let
 * go while it waits, so that the other threads' calls go on; any change inside the
 * picoprocess (wait_changed) ends a wait to look again. */
long wait_ready(const struct wait_over *w, int64_t timeout_ns);

/* The time left of a wait begun with wait_deadline(timeout_ns): for the timeouts that
 * select and pselect6 write back */
int64_t wait_deadline(int64_t timeout_ns);
int64_t wait_left(int64_t deadline);

/* Something inside the picoprocess that a wait may be waiting for changed (the VFS's
 * env.wake calls it): the waiters look again. */
void wait_changed(void);

/* The Monitor's XABI_POLL* bits as poll(2)'s (asm-generic/poll.h) and back */
uint32_t wait_poll_bits(int xabi);
short wait_xabi_bits(uint32_t events);

#endif
