/* The PAL's side of the channel protocol (see xax_emu/protocol.py). */
#include <asm/errno.h>

#include "xaxcall.h"
#include "../lib/lock.h"
#include "../lib/sys.h"
#include "xax_protocol.h"
#include "xax_runtime.h"

/* One request in flight at a time (the Monitor enforces it): the lock makes a
 * request and its reply one step for the program's threads, and guards buf.  Replies
 * may be as large as a READ's (XAX_MAX_READ), requests only XAX_MAX_PAYLOAD; the pages
 * past the first 64 KiB are touched only by reads that large.  (Scattering a READ's
 * reply straight into the caller's buffer would save its copy, but needs recvmsg or
 * readv in the seal's allowlist for every picoprocess, not only for families.) */
static xax_lock channel_lock;
static unsigned char buf[XAX_HEADER_SIZE + (XAX_MAX_READ > XAX_MAX_PAYLOAD ? XAX_MAX_READ : XAX_MAX_PAYLOAD)];
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

/* A read, write or recvmsg of the channel, repeated when a signal interrupted it.  Through a
 * rewritten call site (rewrite.c) the runtime runs with the program's signal mask, so a signal
 * whose handler the program installed without SA_RESTART (dash's SIGCHLD, as a child exits)
 * ends a wait on the channel with EINTR; its handler is held until the call returns
 * (signals.c).  An interrupted SOCK_SEQPACKET read or write moved nothing (a datagram goes
 * whole or not at all), so the same call again is the one meant.  On the trap path every
 * signal is blocked and EINTR never came. */
static long channel_io(long nr, long fd, long p, long n)
{
    long r;
    do
        r = sys3(nr, fd, p, n);
    while (r == -EINTR);
    return r;
}

static void send_wake(void)
{
    if (!__atomic_load_n(&poll_parked, __ATOMIC_SEQ_CST))
        return;
    struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, XAX_MSG_WAKE, -1, 0, 0, 0};
    channel_io(__NR_write, XAX_CHANNEL_FD, (long)&h, sizeof h); /* a full channel holds a WAKE already */
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
    long n = channel_io(__NR_write, XAX_CHANNEL_FD, (long)buf, sizeof h + len);
    if (n != (long)(sizeof h + len))
        pal_fail(XAX_FAILURE_CHANNEL, "channel write failed");
}

/* One request and its reply, the channel held by the caller */
static int32_t exchange(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len, void *out,
                        uint32_t outcap, uint32_t *outlen)
{
    uint32_t seq = next_seq++;
    send_msg(type, chan, arg, payload, len, seq);
    long n = channel_io(__NR_read, XAX_CHANNEL_FD, (long)buf, sizeof buf);
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

/* -- fork: a child with a channel of its own (docs/processes.md) ------------------------------
 *
 * SPAWN asks the Monitor for the child's channel, which comes as SCM_RIGHTS with the reply (the
 * one reason recvmsg is allowed, tagged, on the channel).  Then a plain fork, the only clone the
 * filter allows; the child moves its channel onto fd 3 (dup3, tagged), closes the spare, sets
 * its parent-death signal and says BORN on it; the parent closes the child's end.  Every real
 * fd the runtime names here carries XAX_PROC_TAG in its high bits: the kernel truncates them
 * away, and the program's own calls, which never carry it, still trap (seal/allowlist.py). */
#define TAGGED(fd) ((long)((XAX_PROC_TAG << 32) | (unsigned long)(unsigned)(fd)))

struct k_iovec {
    void *base;
    unsigned long len;
};
struct k_msghdr {
    void *name;
    int namelen, pad;
    struct k_iovec *iov;
    unsigned long iovlen;
    void *control;
    unsigned long controllen;
    unsigned flags, pad2;
};
struct k_cmsghdr {
    unsigned long len;
    int level, type;
    int fds[2];
};
#define SOL_SOCKET_ 1
#define SCM_RIGHTS_ 1
#define MSG_CTRUNC_ 0x8
#define MSG_CMSG_CLOEXEC_ 0x40000000
#define PR_SET_PDEATHSIG_ 1
#define SIGKILL_ 9
#define SIGCHLD_ 17

/* The reply to SPAWN and the fd it carries (-1 if none). */
static int32_t spawn_reply(uint32_t seq, int *fd)
{
    struct k_cmsghdr cm;
    struct k_iovec iov = {buf, sizeof buf};
    struct k_msghdr m = {0, 0, 0, &iov, 1, &cm, sizeof cm, 0, 0};
    memset(&cm, 0, sizeof cm);
    *fd = -1;
    long n = channel_io(__NR_recvmsg, TAGGED(XAX_CHANNEL_FD), (long)&m, MSG_CMSG_CLOEXEC_);
    if (n == 0)
        sys_exit_group(XAX_EXIT_MONITOR_GONE);
    if (n < (long)XAX_HEADER_SIZE)
        pal_fail(XAX_FAILURE_CHANNEL, "channel recvmsg failed");
    if (m.controllen >= 20 && cm.level == SOL_SOCKET_ && cm.type == SCM_RIGHTS_) {
        *fd = cm.fds[0];
        if (cm.len >= 24) /* the Monitor sends one: any other is closed at once */
            sys1(__NR_close, TAGGED(cm.fds[1]));
    }
    struct xax_msg_hdr h;
    memcpy(&h, buf, sizeof h);
    if (h.magic != XAX_MAGIC || h.version != XAX_VERSION || h.type != (XAX_MSG_SPAWN | XAX_REPLY) || h.seq != seq ||
        h.len != (uint64_t)n - sizeof h || (m.flags & MSG_CTRUNC_) || (h.arg > 0) != (*fd >= 0))
        pal_fail(XAX_FAILURE_CHANNEL, "malformed SPAWN reply from the Monitor");
    return h.arg;
}

/* The child's half: its channel onto fd 3, the parent's gone from it, its own state fresh. */
static void become_child(int fd)
{
    if (sys3(__NR_dup3, fd, TAGGED(XAX_CHANNEL_FD), 0) < 0)
        sys_exit_group(XAX_EXIT_MONITOR_GONE);
    sys1(__NR_close, TAGGED(fd));
    sys2(__NR_prctl, PR_SET_PDEATHSIG_, SIGKILL_);
    /* Only this thread goes on in the child: no one else holds or waits for its channel. */
    channel_lock.word = 1;
    poll_parked = 0;
    channel_waiters = 0;
    next_seq = 1;
    /* BORN: if the parent died before the death signal was set, the Monitor (which knows the
     * parent's pid) kills this process; if the Monitor is gone, the reply is EOF and it exits. */
    exchange(XAX_MSG_BORN, -1, 0, 0, 0, 0, 0, 0);
}

long xaxcall_fork(const void *chans, uint32_t len, int32_t *vpid)
{
    if (len > XAX_MAX_PAYLOAD)
        pal_fail(XAX_FAILURE_CHANNEL, "xaxcall payload too large");
    take_channel();
    uint32_t seq = next_seq++;
    send_msg(XAX_MSG_SPAWN, -1, 0, chans, len, seq);
    int fd;
    int32_t r = spawn_reply(seq, &fd);
    if (r <= 0) {
        xax_lock_give(&channel_lock);
        return r < 0 ? r : -EAGAIN;
    }
    long pid = sys6(__NR_clone, (long)((XAX_PROC_TAG << 32) | SIGCHLD_), 0, 0, 0, 0, 0);
    if (pid == 0) {
        become_child(fd);
        xax_lock_give(&channel_lock);
        *vpid = r;
        return 0;
    }
    sys1(__NR_close, TAGGED(fd));
    xax_lock_give(&channel_lock);
    *vpid = r;
    return pid; /* or -errno: the Monitor sees the child's channel closed unused */
}
