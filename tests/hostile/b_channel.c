/* Attack: malformed, truncated, oversized and out-of-order messages written
 * straight to the channel (XAX_CHANNEL_FD, where write is allowed).  argv[3] names the
 * message.  The Monitor must kill this picoprocess with "protocol violation";
 * if a reply ever comes back instead, "reply = ARG" is printed. */
#include <stdlib.h>
#include "hostile.h"
#include "xabi.h"
#include "xax_protocol.h"

static unsigned char msg[200000];
static unsigned char in[XAX_HEADER_SIZE + XAX_MAX_PAYLOAD];

/* Header (type, chan, arg, len) followed by `size` bytes in all: the payload is zeros. */
static long send_raw(uint32_t magic, uint16_t version, uint16_t type, int32_t chan, int32_t arg, uint32_t len,
                     size_t size)
{
    struct xax_msg_hdr h = {magic, version, type, chan, arg, len, 7};
    memset(msg, 0, size);
    memcpy(msg, &h, size < sizeof h ? size : sizeof h);
    return raw3(SYS_write, XAX_CHANNEL_FD, (long)msg, size);
}

static long send_msg(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len)
{
    struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, type, chan, arg, len, 7};
    memcpy(msg, &h, sizeof h);
    memcpy(msg + sizeof h, payload, len);
    return raw3(SYS_write, XAX_CHANNEL_FD, (long)msg, sizeof h + len);
}

static long send_poll(int32_t block, int n)
{
    static xabi_poll_fd entries[10000];
    for (int i = 0; i < n; i++)
        entries[i] = (xabi_poll_fd){1, XABI_POLLIN, 0}; /* stdout: never readable */
    return send_msg(XAX_MSG_POLL, -1, block, entries, n * sizeof *entries);
}

int main(int argc, char **argv)
{
    const char *m = argv[3];
    const uint32_t M = XAX_MAGIC;
    const uint16_t V = XAX_VERSION;
    static char longurl[5000 + 6] = "get";
    long w;
    printf("sending %s\n", m);
    fflush(stdout);
    if (!strcmp(m, "bad_magic"))
        w = send_raw(0xdeadbeef, V, XAX_MSG_NULL, -1, 0, 0, 24);
    else if (!strcmp(m, "bad_version"))
        w = send_raw(M, V + 1, XAX_MSG_NULL, -1, 0, 0, 24); /* the next version, not ours */
    else if (!strcmp(m, "unknown_type"))
        w = send_raw(M, V, 77, -1, 0, 0, 24);
    else if (!strcmp(m, "boot_type"))
        w = send_raw(M, V, XAX_MSG_BOOT, -1, 0, 80, 24 + 80);
    else if (!strcmp(m, "reply_type"))
        w = send_raw(M, V, XAX_MSG_NULL | XAX_REPLY, -1, 0, 0, 24);
    else if (!strcmp(m, "len_over"))
        w = send_raw(M, V, XAX_MSG_WRITE, 1, 0, 5, 24);
    else if (!strcmp(m, "len_under"))
        w = send_raw(M, V, XAX_MSG_WRITE, 1, 0, 0, 24 + 10);
    else if (!strcmp(m, "short10"))
        w = send_raw(M, V, XAX_MSG_NULL, -1, 0, 0, 10);
    else if (!strcmp(m, "empty"))
        w = raw3(SYS_write, XAX_CHANNEL_FD, (long)msg, 0);
    else if (!strcmp(m, "oversize"))
        w = send_raw(M, V, XAX_MSG_WRITE, 1, 0, XAX_MAX_PAYLOAD + 1, 24 + XAX_MAX_PAYLOAD + 1);
    else if (!strcmp(m, "read_negative"))
        w = send_raw(M, V, XAX_MSG_READ, 0, -1, 0, 24);
    else if (!strcmp(m, "read_huge"))
        w = send_raw(M, V, XAX_MSG_READ, 0, XAX_MAX_READ + 1, 0, 24);
    else if (!strcmp(m, "read_payload"))
        w = send_raw(M, V, XAX_MSG_READ, 0, 1, 4, 24 + 4);
    else if (!strcmp(m, "poll_10000"))
        w = send_poll(0, 10000);
    else if (!strcmp(m, "poll_257"))
        w = send_poll(0, 257);
    else if (!strcmp(m, "poll_ragged"))
        w = send_raw(M, V, XAX_MSG_POLL, -1, 0, 12, 24 + 12);
    else if (!strcmp(m, "poll_arg_4"))
        w = send_poll(4, 1);
    else if (!strcmp(m, "open_url_no_nul"))
        w = send_msg(XAX_MSG_OPEN_URL, -1, 0, "gethttp://127.0.0.1/", 20);
    else if (!strcmp(m, "open_url_one_nul"))
        w = send_msg(XAX_MSG_OPEN_URL, -1, 0, "get\0http://127.0.0.1/", 21);
    else if (!strcmp(m, "open_url_long")) {
        memset(longurl + 4, 'a', 5000);
        w = send_msg(XAX_MSG_OPEN_URL, -1, 0, longurl, 5000 + 5);
    } else if (!strcmp(m, "trace_payload"))
        w = send_raw(M, V, XAX_MSG_TRACE, 0, 39, 4, 24 + 4);
    else if (!strcmp(m, "trace_kind"))
        w = send_raw(M, V, XAX_MSG_TRACE, 9, 39, 0, 24);
    else if (!strcmp(m, "close_payload"))
        w = send_raw(M, V, XAX_MSG_CLOSE, 5, 0, 4, 24 + 4);
    else if (!strcmp(m, "close_arg_2"))
        w = send_raw(M, V, XAX_MSG_CLOSE, 5, 2, 0, 24);
    else if (!strcmp(m, "wake_payload"))
        w = send_raw(M, V, XAX_MSG_WAKE, -1, 0, 4, 24 + 4);
    else if (!strcmp(m, "poll_timed_negative")) {
        xabi_poll_fd e = {1, XABI_POLLIN, 0};
        w = send_msg(XAX_MSG_POLL, -5, XAX_POLL_TIMED, &e, sizeof e);
    } else if (!strcmp(m, "accept_payload"))
        w = send_raw(M, V, XAX_MSG_ACCEPT, -1, 0, 4, 24 + 4);
    else if (!strcmp(m, "second_while_parked")) {
        /* A blocking poll the Monitor must park (stdout is never readable), then another request. */
        send_poll(1, 1);
        w = send_raw(M, V, XAX_MSG_NULL, -1, 0, 0, 24);
    } else if (!strcmp(m, "pipelined")) {
        /* Two requests back to back, then no read for seconds: the first reply stays unread. */
        send_raw(M, V, XAX_MSG_NULL, -1, 0, 0, 24);
        w = send_raw(M, V, XAX_MSG_NULL, -1, 0, 0, 24);
        for (volatile unsigned long i = 0; i < 3000000000UL; i++)
            ;
    } else if (!strcmp(m, "flood")) {
        /* Requests forever, never a reply read. */
        for (;;)
            send_raw(M, V, XAX_MSG_NULL, -1, 0, 0, 24);
    } else
        return 2;
    long n = raw3(SYS_read, XAX_CHANNEL_FD, (long)in, sizeof in);
    struct xax_msg_hdr h;
    memcpy(&h, in, sizeof h);
    printf("write = %ld\nreply = %d\nread = %ld\n", w, n >= 24 ? h.arg : -1, n);
    (void)argc;
    return 0;
}
