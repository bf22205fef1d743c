/* The Xax ABI (xabi.h) implemented with xaxcalls, and the table that carries it. */
#include <asm/errno.h>
#include <linux/mman.h>

#include "../lib/lock.h"
#include "../lib/sys.h"
#include "user.h"
#include "xaxcall.h"
#include "xax_protocol.h"
#include "xax_runtime.h"

/* Regions handed out by xabi_alloc, so that xabi_free(start) knows the length. */
#define MAX_REGIONS 4096
static xax_lock regions_lock;
static struct {
    uintptr_t start, len;
} regions[MAX_REGIONS];

static void *alloc_region(void *start, long len);

static void *pal_alloc(void *start, long len)
{
    if (len <= 0)
        return 0;
    xax_lock_take(&regions_lock);
    void *r = alloc_region(start, len);
    xax_lock_give(&regions_lock);
    return r;
}

static void *alloc_region(void *start, long len)
{
    int slot = -1;
    for (int i = 0; i < MAX_REGIONS; i++)
        if (!regions[i].start) {
            slot = i;
            break;
        }
    if (slot < 0)
        return 0;
    long flags = MAP_PRIVATE | MAP_ANONYMOUS | (start ? MAP_FIXED_NOREPLACE : 0);
    long p = sys6(__NR_mmap, (long)start, len, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (sys_failed(p))
        return 0;
    if (start && (void *)p != start) { /* old kernels ignore MAP_FIXED_NOREPLACE */
        sys2(__NR_munmap, p, len);
        return 0;
    }
    regions[slot].start = (uintptr_t)p;
    regions[slot].len = (uintptr_t)len;
    return (void *)p;
}

static int pal_free(void *start)
{
    int result = -1;
    xax_lock_take(&regions_lock);
    for (int i = 0; i < MAX_REGIONS; i++)
        if (regions[i].start && regions[i].start == (uintptr_t)start) {
            long r = sys2(__NR_munmap, (long)start, regions[i].len);
            regions[i].start = 0;
            result = r < 0 ? -1 : 0;
            break;
        }
    xax_lock_give(&regions_lock);
    return result;
}

static int pal_accept(void)
{
    return xaxcall(XAX_MSG_ACCEPT, -1, 0, 0, 0, 0, 0, 0);
}

static int pal_open_url(const char *method, const char *url)
{
    char payload[16 + XAX_MAX_URL + 2]; /* on the caller's stack: threads may open URLs at once */
    size_t m = strlen(method), u = strlen(url);
    if (m > 15 || u > XAX_MAX_URL)
        return -1;
    memcpy(payload, method, m + 1);
    memcpy(payload + m + 1, url, u + 1);
    return xaxcall(XAX_MSG_OPEN_URL, -1, 0, payload, m + u + 2, 0, 0, 0);
}

static int pal_read(int chnl, char *buf, int len)
{
    if (len < 0)
        return -1;
    if (len > XAX_MAX_READ)
        len = XAX_MAX_READ;
    uint32_t got = 0;
    int r = xaxcall(XAX_MSG_READ, chnl, len, 0, 0, buf, len, &got);
    if (r > 0 && (uint32_t)r != got)
        pal_fail(XAX_FAILURE_CHANNEL, "READ reply length does not match its result");
    return r;
}

static int pal_write(int chnl, char *buf, int len)
{
    if (len < 0)
        return -1;
    if (len > XAX_MAX_PAYLOAD)
        len = XAX_MAX_PAYLOAD;
    return xaxcall(XAX_MSG_WRITE, chnl, 0, buf, len, 0, 0, 0);
}

static int poll_with(xabi_poll_fd *pfds, int npfds, int how, int32_t chan, const uint32_t *seen)
{
    if (npfds < 0 || npfds > XAX_MAX_POLL_FDS)
        return -1;
    uint32_t size = npfds * sizeof(xabi_poll_fd), got = 0;
    return xaxcall_poll(how, chan, pfds, size, &got, seen);
}

/* The article's xabi_poll: with block, it waits and never returns 0 (a WAKE meant for the
 * layer's waits may answer the POLL early: it is asked again). */
static int pal_poll(xabi_poll_fd *pfds, int npfds, bool block)
{
    int r;
    do
        r = poll_with(pfds, npfds, block ? XAX_POLL_BLOCK : XAX_POLL_NOW, -1, 0);
    while (block && r == 0);
    return r;
}

/* For the layer's waits when the program has threads: a poll that holds the
 * channel for at most a slice, so that the other threads get their turn. */
int pal_poll_sliced(xabi_poll_fd *pfds, int npfds)
{
    return poll_with(pfds, npfds, XAX_POLL_SLICED, -1, 0);
}

/* The layer's readiness waits (poll, select, epoll, a blocked socket): until an entry is
 * ready, timeout_ms passed (< 0: no limit), or a WAKE answers it early; not at all if
 * xaxcall_wake was called since the layer read the count into seen. */
int pal_poll_wait(xabi_poll_fd *pfds, int npfds, int timeout_ms, uint32_t seen)
{
    if (timeout_ms < 0)
        return poll_with(pfds, npfds, XAX_POLL_BLOCK, -1, &seen);
    return poll_with(pfds, npfds, timeout_ms ? XAX_POLL_TIMED : XAX_POLL_NOW, timeout_ms, &seen);
}

static int pal_close(int chnl)
{
    return xaxcall(XAX_MSG_CLOSE, chnl, 0, 0, 0, 0, 0, 0);
}

/* half a close: the Monitor's side of the channel sees the end of what the picoprocess writes */
int pal_end_output(int chnl)
{
    return xaxcall(XAX_MSG_CLOSE, chnl, 1, 0, 0, 0, 0, 0);
}

static const char **pal_args(void)
{
    return xax_boot->args;
}

/* The program's exit, as its own exit_group: under run --export-ram the seal traps it,
 * and the layer exports the RAM disks first (sys_exit_group is the runtime's own). */
static __attribute__((noreturn)) void pal_exit(void)
{
    for (;;)
        sys1(__NR_exit_group, 0);
}

struct xabi_table xax_pal_table = {
    .version = XABI_TABLE_VERSION,
    .alloc = pal_alloc,
    .free = pal_free,
    .accept = pal_accept,
    .open_url = pal_open_url,
    .read = pal_read,
    .write = pal_write,
    .poll = pal_poll,
    .close = pal_close,
    .args = pal_args,
    .exit = pal_exit,
};

void pal_trace(int syscall_nr, int disposition)
{
    xaxcall_oneway(XAX_MSG_TRACE, disposition, syscall_nr, 0, 0);
}

/* A path the program failed to open or look at: the layer checked the flag and the length. */
void pal_trace_path(int syscall_nr, int err, const char *path, uint32_t len)
{
    if (len > XAX_TRACE_PATH_MAX)
        len = XAX_TRACE_PATH_MAX;
    xaxcall_oneway(XAX_MSG_TRACE_PATH, err, syscall_nr, path, len);
}

/* A forwarded system call: the Monitor answers with the result and, for an
 * out argument (reply arg = its index), the bytes to store there. */
long pal_forward(struct layer_call *c)
{
    static xax_lock reply_lock; /* the reply buffer is too big for a thread's signal frame */
    static unsigned char reply[XAX_MAX_PAYLOAD];
    struct xax_forward req = {c->nr, {c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]}};
    uint32_t got = 0;
    xax_lock_take(&reply_lock);
    int out_arg = xaxcall(XAX_MSG_FORWARD, -1, 0, &req, sizeof req, reply, sizeof reply, &got);
    int64_t result;
    if (got < sizeof result || got > sizeof reply)
        pal_fail(XAX_FAILURE_CHANNEL, "malformed FORWARD reply");
    memcpy(&result, reply, sizeof result);
    if (out_arg >= 0 && out_arg < 6 && got > sizeof result) {
        /* the program's buffer: a bad one is -EFAULT, or what could be stored there (getrandom) */
        size_t n = got - sizeof result, left = pal_copy_out((void *)c->a[out_arg], reply + sizeof result, n);
        if (left)
            result = left == n ? -EFAULT : (int64_t)(n - left);
    }
    xax_lock_give(&reply_lock);
    return (long)result;
}

__attribute__((noreturn)) void pal_fail(int failure, const char *why)
{
    /* A raw write, not an xaxcall: the failure may be the channel itself, and the
     * channel lock may be held (by this thread, in the middle of an xaxcall).  One
     * datagram is written whole or not at all; if it cannot be, the status still says
     * "the runtime failed", only without the reason. */
    struct {
        struct xax_msg_hdr h;
        char why[XAX_MAX_FATAL_REASON];
    } m;
    uint32_t n = 0;
    while (why[n] && n < XAX_MAX_FATAL_REASON)
        n++;
    memcpy(m.why, why, n);
    m.h = (struct xax_msg_hdr){XAX_MAGIC, XAX_VERSION, XAX_MSG_FATAL, -1, failure, n, 0};
    while (sys3(__NR_write, XAX_CHANNEL_FD, (long)&m, sizeof m.h + n) == -EINTR)
        ; /* a program handler without SA_RESTART, on the direct path (xaxcall.c: channel_io) */
    sys_exit_group(XAX_EXIT_RUNTIME_FAILED);
}
