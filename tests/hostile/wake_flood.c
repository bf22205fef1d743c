/* Attack: WAKE, the one message a picoprocess may send while a request of its own waits,
 * sent a hundred thousand times — with no poll waiting, and around a poll of its own that
 * waits — then a NULL xaxcall.  The Monitor answers the waiting poll early (that is all a
 * WAKE does), keeps nothing per WAKE, and goes on serving this picoprocess and the others.
 * argv: canary, listener port. */
#include "hostile.h"
#include "xabi.h"
#include "xax_protocol.h"

static long send_wake(void)
{
    struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, XAX_MSG_WAKE, -1, 0, 0, 0};
    return raw3(SYS_write, XAX_CHANNEL_FD, (long)&h, sizeof h);
}

/* one request and its reply, straight on the channel */
static long call(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len, uint32_t seq)
{
    unsigned char buf[XAX_HEADER_SIZE + 64];
    struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, type, chan, arg, len, seq};
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, payload, len);
    raw3(SYS_write, XAX_CHANNEL_FD, (long)buf, sizeof h + len);
    long n = raw3(SYS_read, XAX_CHANNEL_FD, (long)buf, sizeof buf);
    if (n < (long)sizeof h)
        return -1000;
    memcpy(&h, buf, sizeof h);
    return h.arg;
}

int main(void)
{
    long sent = 0;
    for (int i = 0; i < 100000; i++)
        sent += send_wake() == (long)sizeof(struct xax_msg_hdr);
    report("wakes_sent", sent > 0);
    /* a poll that would wait a minute for stdout to be readable: the WAKEs left over answer it */
    xabi_poll_fd e = {1, XABI_POLLIN, 0};
    report("poll_answered", call(XAX_MSG_POLL, 60000, XAX_POLL_TIMED, &e, sizeof e, 1000001));
    report("null", call(XAX_MSG_NULL, -1, 0, 0, 0, 1000002));
    return 0;
}
