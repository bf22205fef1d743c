/* Attack: make the Monitor write without bound on our behalf.  Each request is a
 * well-formed OPEN_URL whose method is 60 KB long: the Monitor refuses it and
 * logs why, naming the method.  Sent a few thousand times, that was 300 MiB of
 * log in seconds; now every line is clipped and the lines are rate-limited. */
#include <stdlib.h>

#include "hostile.h"
#include "xax_protocol.h"

static unsigned char msg[XAX_HEADER_SIZE + XAX_MAX_PAYLOAD];
static unsigned char reply[XAX_HEADER_SIZE + XAX_MAX_PAYLOAD];

int main(int argc, char **argv)
{
    int rounds = argc > 3 ? atoi(argv[3]) : 2000;
    const char url[] = "http://elsewhere.invalid/";
    uint32_t method_len = 60000, len = method_len + 1 + sizeof url;
    memset(msg + XAX_HEADER_SIZE, 'M', method_len);
    msg[XAX_HEADER_SIZE + method_len] = 0;
    memcpy(msg + XAX_HEADER_SIZE + method_len + 1, url, sizeof url);
    long refused = 0;
    for (int i = 0; i < rounds; i++) {
        struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, XAX_MSG_OPEN_URL, -1, 0, len, 0x40000000u + i};
        memcpy(msg, &h, sizeof h);
        if (raw3(SYS_write, XAX_CHANNEL_FD, (long)msg, XAX_HEADER_SIZE + len) != (long)(XAX_HEADER_SIZE + len))
            break;
        long n = raw3(SYS_read, XAX_CHANNEL_FD, (long)reply, sizeof reply);
        if (n < (long)XAX_HEADER_SIZE)
            break;
        memcpy(&h, reply, sizeof h);
        refused += h.arg == -1;
    }
    report("refused", refused);
    return 0;
}
