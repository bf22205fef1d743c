/* The PAL's side of the channel protocol (see xax_emu/protocol.py). */
#include "xaxcall.h"
#include "../lib/lock.h"
#include "../lib/sys.h"
#include "xax_protocol.h"
#include "xax_runtime.h"

/* One request in flight at a time (the Monitor enforces it): the lock makes a
 * request and its reply one step for the program's threads, and guards buf. */
static xax_lock channel_lock;
static unsigned char buf[XAX_HEADER_SIZE + XAX_MAX_PAYLOAD];
static uint32_t next_seq = 1;

/* A POLL that may wait holds the channel for as long as it waits.  A thread that wants the
 * channel meanwhile, or that changed something inside the picoprocess a waiter may be
 * waiting for (xaxcall_wake), sends WAKE — one datagram, written whole beside the request
 * in flight, no lock needed — and the Monitor answers the POLL at once.  Dekker's handshake
 * between the flags, each written before the other is read, so that no wake is lost:
 * either the poller sees a thread waiting for the channel (or the wake count moved since
 * its caller looked) and does not wait, or that thread sees the poll parked and wakes it. */
static int poll_parked;         /* a POLL that may wait is in flight */
static int channel_waiters;     /* threads waiting for the channel lock */
static uint32_t wakes;          /* xaxcall_wake calls so far */

static void send_wake(void)
{
    if (!__atomic_load_n(&poll_parked, __ATOMIC_SEQ_CST))
        return;
    struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, XAX_MSG_WAKE, -1, 0, 0, 0};
    sys3(__NR_write, XAX_CHANNEL_FD, (long)&h, sizeof h); /* a full channel holds a WAKE already */
}

void xaxcall_wake(void)
{
    __atomic_add_fetch(&wakes, 1, __ATOMIC_SEQ_CST);
    send_wake();
}

uint32_t xaxcall_wakes(void)
{
    return __atomic_load_n(&wakes, __ATOMIC_SEQ_CST);
}

static void take_channel(void)
{
    __atomic_add_fetch(&channel_waiters, 1, __ATOMIC_SEQ_CST);
    if (!xax_lock_try(&channel_lock)) {
        send_wake();
        xax_lock_take(&channel_lock);
    }
    __atomic_sub_fetch(&channel_waiters, 1, __ATOMIC_SEQ_CST);
}

static void send_msg(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len, uint32_t seq)
{
    struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, type, chan, arg, len, seq};
    memcpy(buf, &h, sizeof h);
    if (len)
        memcpy(buf + sizeof h, payload, len);
    long n = sys3(__NR_write, XAX_CHANNEL_FD, (long)buf, sizeof h + len);
    if (n != (long)(sizeof h + len))
        pal_fail(XAX_FAILURE_CHANNEL, "channel write failed");
}

/* One request and its reply, the channel held by the caller */
static int32_t exchange(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len, void *out,
                        uint32_t outcap, uint32_t *outlen)
{
    uint32_t seq = next_seq++;
    send_msg(type, chan, arg, payload, len, seq);
    long n = sys3(__NR_read, XAX_CHANNEL_FD, (long)buf, sizeof buf);
    if (n == 0)
        sys_exit_group(XAX_EXIT_MONITOR_GONE);
    if (n < (long)XAX_HEADER_SIZE)
        pal_fail(XAX_FAILURE_CHANNEL, "channel read failed");
    struct xax_msg_hdr h;
    memcpy(&h, buf, sizeof h);
    if (h.magic != XAX_MAGIC || h.version != XAX_VERSION || h.type != (type | XAX_REPLY) || h.seq != seq ||
        h.len != (uint64_t)n - sizeof h)
        pal_fail(XAX_FAILURE_CHANNEL, "malformed reply from the Monitor");
    uint32_t copy = h.len < outcap ? h.len : outcap;
    if (copy)
        memcpy(out, buf + sizeof h, copy);
    if (outlen)
        *outlen = h.len;
    return h.arg;
}

int32_t xaxcall(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len,
                void *out, uint32_t outcap, uint32_t *outlen)
{
    if (len > XAX_MAX_PAYLOAD)
        pal_fail(XAX_FAILURE_CHANNEL, "xaxcall payload too large");
    take_channel();
    int32_t r = exchange(type, chan, arg, payload, len, out, outcap, outlen);
    xax_lock_give(&channel_lock);
    return r;
}

int32_t xaxcall_poll(int32_t how, int32_t chan, void *pfds, uint32_t size, uint32_t *got, const uint32_t *seen)
{
    if (size > XAX_MAX_PAYLOAD)
        pal_fail(XAX_FAILURE_CHANNEL, "xaxcall payload too large");
    take_channel();
    if (how != XAX_POLL_NOW) {
        __atomic_store_n(&poll_parked, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&channel_waiters, __ATOMIC_SEQ_CST) ||
            (seen && __atomic_load_n(&wakes, __ATOMIC_SEQ_CST) != *seen))
            how = XAX_POLL_NOW; /* someone wants the channel, or a change came: do not wait */
    }
    int32_t r = exchange(XAX_MSG_POLL, chan, how, pfds, size, pfds, size, got);
    __atomic_store_n(&poll_parked, 0, __ATOMIC_SEQ_CST);
    xax_lock_give(&channel_lock);
    return r;
}

void xaxcall_oneway(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len)
{
    if (len > XAX_MAX_PAYLOAD)
        pal_fail(XAX_FAILURE_CHANNEL, "xaxcall payload too large");
    take_channel();
    send_msg(type, chan, arg, payload, len, 0);
    xax_lock_give(&channel_lock);
}
