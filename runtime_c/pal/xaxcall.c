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

int32_t xaxcall(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len,
                void *out, uint32_t outcap, uint32_t *outlen)
{
    if (len > XAX_MAX_PAYLOAD)
        pal_fail(XAX_FAILURE_CHANNEL, "xaxcall payload too large");
    xax_lock_take(&channel_lock);
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
    xax_lock_give(&channel_lock);
    return h.arg;
}

void xaxcall_oneway(uint16_t type, int32_t chan, int32_t arg)
{
    xax_lock_take(&channel_lock);
    send_msg(type, chan, arg, 0, 0, 0);
    xax_lock_give(&channel_lock);
}
