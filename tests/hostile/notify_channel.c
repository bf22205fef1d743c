/* Attack on trace mode's messages: the two that only the trusted side may send
 * in trace mode, written straight to the channel.  argv[3]:
 *   listener            a LISTENER datagram (the boot block's, with no fd: write cannot carry one)
 *   sendmsg_listener    a LISTENER datagram with fd 3 attached, through sendmsg (not allowed: traps)
 *   runtime_code_again  a second RUNTIME_CODE, claiming all memory is the runtime's
 *   runtime_code_empty  a RUNTIME_CODE with an empty range
 *   runtime_code_many   a RUNTIME_CODE with more ranges than the protocol allows
 * The Monitor must kill this picoprocess with "protocol violation" (sendmsg_listener:
 * the layer answers, and the program goes on); a reply is printed if one comes. */
#include <sys/socket.h>
#include "hostile.h"
#include "xax_protocol.h"

static unsigned char msg[4096];

static long send_msg(uint16_t type, const void *payload, uint32_t len)
{
    struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, type, -1, 0, len, 7};
    memcpy(msg, &h, sizeof h);
    memcpy(msg + sizeof h, payload, len);
    return raw3(SYS_write, XAX_CHANNEL_FD, (long)msg, sizeof h + len);
}

int main(int argc, char **argv)
{
    const char *m = argv[3];
    struct xax_range ranges[XAX_MAX_RUNTIME_RANGES + 1];
    for (int i = 0; i <= XAX_MAX_RUNTIME_RANGES; i++)
        ranges[i] = (struct xax_range){0x1000, 0x7fffffffe000};
    long w;
    printf("sending %s\n", m);
    fflush(stdout);
    if (!strcmp(m, "listener"))
        w = send_msg(XAX_MSG_LISTENER, 0, 0);
    else if (!strcmp(m, "sendmsg_listener")) {
        struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, XAX_MSG_LISTENER, -1, 0, 0, 7};
        struct iovec iov = {&h, sizeof h};
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } control;
        memset(&control, 0, sizeof control);
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                            .msg_controllen = sizeof control.buf};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        int fd = XAX_CHANNEL_FD;
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
        report("sendmsg", raw3(SYS_sendmsg, 3, (long)&mh, 0));
        return 0;
    } else if (!strcmp(m, "runtime_code_again"))
        w = send_msg(XAX_MSG_RUNTIME_CODE, ranges, sizeof(struct xax_range));
    else if (!strcmp(m, "runtime_code_empty")) {
        ranges[0].end = ranges[0].start;
        w = send_msg(XAX_MSG_RUNTIME_CODE, ranges, sizeof(struct xax_range));
    } else if (!strcmp(m, "runtime_code_many"))
        w = send_msg(XAX_MSG_RUNTIME_CODE, ranges, sizeof ranges);
    else
        return 2;
    long n = raw3(SYS_read, XAX_CHANNEL_FD, (long)msg, sizeof msg);
    struct xax_msg_hdr h;
    memcpy(&h, msg, sizeof h);
    printf("write = %ld\nreply = %d\nread = %ld\n", w, n >= 24 ? h.arg : -1, n);
    (void)argc;
    return 0;
}
