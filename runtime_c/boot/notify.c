/* Trace mode only: the kernel-counting filter and its listener (xax_emu/seal/notify.py).
 *
 * Installed just before the seal, the filter answers SECCOMP_RET_USER_NOTIF for
 * every allowlisted system call and ALLOW for every other one.  The kernel runs
 * both filters and takes the most restrictive answer, so what the seal traps or
 * kills still traps or is killed; only the calls the seal allows become
 * notifications, which the Monitor counts and lets continue.  The listener goes
 * to the Monitor over the channel (SCM_RIGHTS) and is closed here: nothing in
 * the picoprocess ever holds it. */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/socket.h>

#include "../lib/sys.h"
#include "boot.h"
#include "xax_protocol.h"
#include "xax_runtime.h"

static long socket_option(int option, int *value)
{
    socklen_t len = sizeof *value;
    return sys6(__NR_getsockopt, XAX_CHANNEL_FD, SOL_SOCKET, option, (long)value, (long)&len, 0);
}

const char *boot_hand_over_listener(const struct sock_filter *bpf, uint32_t n, long *err)
{
    /* SCM_RIGHTS needs a unix socket; the Monitor's end is a SOCK_SEQPACKET pair. */
    int domain = 0, type = 0;
    if ((*err = socket_option(SO_DOMAIN, &domain)) < 0 || (*err = socket_option(SO_TYPE, &type)) < 0)
        return "the channel is not a socket";
    if (domain != AF_UNIX || type != SOCK_SEQPACKET)
        return "the channel is not a unix seqpacket socket";

    /* WAIT_KILLABLE_RECV: once the Monitor has received a call, only a fatal signal
     * ends its wait, so the program's own signal handlers never see an allowed call
     * fail with EINTR because the Monitor was counting it (Linux 6.0). */
    struct sock_fprog prog = {.len = (unsigned short)n, .filter = (struct sock_filter *)bpf};
    long listener = sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER,
                         SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, (long)&prog);
    if (listener < 0) {
        *err = listener;
        return "cannot install the kernel-counting filter";
    }

    /* From here every allowlisted call of this process (write, exit_group, ...)
     * waits for the Monitor, which cannot answer before it has the listener. */
    struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, XAX_MSG_LISTENER, -1, 0, 0, 0};
    struct iovec iov = {.iov_base = &h, .iov_len = sizeof h};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    int fd = (int)listener;
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    long sent = sys3(__NR_sendmsg, XAX_CHANNEL_FD, (long)&msg, MSG_NOSIGNAL);
    sys1(__NR_close, listener); /* the Monitor's copy, if sent, keeps the listener alive */
    if (sent != (long)sizeof h) {
        /* No one holds the listener now: every allowlisted call, exit_group and
         * kill too, would fail with ENOSYS.  End with a signal sent by tkill (not
         * on the allowlist, so this filter lets it through; the seal is not in
         * yet); the Monitor reports that the boot block never sent the listener. */
        for (;;)
            sys2(__NR_tkill, sys0(__NR_gettid), SIGKILL);
    }
    return 0;
}
