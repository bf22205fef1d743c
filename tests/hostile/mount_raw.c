/* Attack: speak the protocol directly and send MOUNT_* requests the layer never would: a path
 * with "..", an absolute path, a mount never granted, a read larger than a reply.  write() on
 * the channel is allowed, so each reaches the Monitor, which must kill this picoprocess for a protocol
 * violation (the canary stays unread).  "after" must never appear.  argv[3] names the attack. */
#include "hostile.h"
#include "xax_protocol.h"

static unsigned char msg[XAX_HEADER_SIZE + 8192];

static long send_request(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len)
{
    struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, type, chan, arg, len, 0x7777};
    memcpy(msg, &h, sizeof h);
    memcpy(msg + sizeof h, payload, len);
    return raw3(SYS_write, XAX_CHANNEL_FD, (long)msg, sizeof h + len);
}

int main(int argc, char **argv)
{
    const char *canary = argv[1], *attack = argc > 3 ? argv[3] : "dotdot";
    unsigned char payload[4200];
    report("before", 1);
    if (!strcmp(attack, "dotdot")) {
        static const char p[] = "../canary-dir/canary.txt";
        send_request(XAX_MSG_MOUNT_STAT, 0, 0, p, sizeof p - 1);
    } else if (!strcmp(attack, "absolute")) {
        struct xax_mount_io io = {0, 100, (uint32_t)strlen(canary)};
        memcpy(payload, &io, sizeof io);
        memcpy(payload + sizeof io, canary, io.pathlen);
        send_request(XAX_MSG_MOUNT_READ, 0, 0, payload, sizeof io + io.pathlen);
    } else if (!strcmp(attack, "ungranted")) {
        send_request(XAX_MSG_MOUNT_STAT, 5, 0, "f", 1);
    } else { /* "oversized" */
        struct xax_mount_io io = {0, XAX_MAX_PAYLOAD + 1, 1};
        memcpy(payload, &io, sizeof io);
        payload[sizeof io] = 'f';
        send_request(XAX_MSG_MOUNT_READ, 0, 0, payload, sizeof io + 1);
    }
    unsigned char reply[256];
    long r = raw3(SYS_read, XAX_CHANNEL_FD, (long)reply, sizeof reply); /* the Monitor kills us before any reply */
    report("after", r);
    for (;;)
        raw0(SYS_getpid);
}
