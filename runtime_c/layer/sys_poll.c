/* Readiness: poll, ppoll, select, pselect6, the epoll calls and eventfd, over every kind of
 * descriptor in one wait (wait.c): what lies inside the picoprocess (files, pipes, sockets
 * connected inside it, eventfds, epoll sets) the VFS answers, what lies with the Monitor
 * (the stdio channels, a socket's channel, the browser's connections waiting for a listener)
 * is asked in one POLL xaxcall.  Timeouts are honoured; the layer's lock is let go while a
 * call waits, so the program's other threads go on.  A signal mask given (ppoll, pselect6,
 * epoll_pwait) is checked and not applied: no signal comes from outside a picoprocess.
 * Arguments in, answers out, as Linux copies them: the pollfds' revents, the fd_sets and
 * the time left (select, pselect6, ppoll write it back), the epoll_events.
 *
 * @family readiness: poll, select and epoll over files, pipes, sockets, eventfds and the
 *     Monitor's channels in one wait; timeouts honoured; a waiting thread holds up no other
 * @serves poll ppoll select pselect6 epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait
 *     epoll_pwait2 eventfd eventfd2
 */
#include <linux/time_types.h>
#include <stddef.h>

#include "../lib/sys.h"
#include "../vfs/vfs.h"
#include "layer.h"
#include "progmem.h"
#include "wait.h"

#define V (layer.vfs)
#define A(i) (c->a[i])
#define FD(i) arg_fd(c->a[i])
#define NS 1000000000LL

#define POLLIN_ 0x1
#define POLLPRI_ 0x2
#define POLLOUT_ 0x4
#define POLLERR_ 0x8
#define POLLHUP_ 0x10
#define POLLNVAL_ 0x20
#define POLLRDNORM_ 0x40
#define POLLRDBAND_ 0x80
#define POLLWRNORM_ 0x100
#define POLLWRBAND_ 0x200
#define SIGSET_SIZE 8 /* the kernel's sigset_t */
#define ON_STACK 32   /* fds, epoll items or events kept on the stack; more are allocated */

/* a timespec from the program: its nanoseconds (WAIT_FOREVER for none), or -EFAULT / -EINVAL */
static long timespec_in(uint64_t addr, int64_t *ns)
{
    if (!addr) {
        *ns = WAIT_FOREVER;
        return 0;
    }
    struct __kernel_timespec ts;
    if (prog_in(&ts, addr, sizeof ts) < 0)
        return -EFAULT;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NS)
        return -EINVAL;
    *ns = ts.tv_sec > (INT64_MAX / NS) - 1 ? WAIT_FOREVER : ts.tv_sec * NS + ts.tv_nsec;
    return 0;
}

/* the time left, written back where the program gave its timeout (poll_select_finish) */
static void timespec_back(uint64_t addr, int64_t deadline)
{
    if (!addr || deadline < 0)
        return;
    int64_t left = wait_left(deadline);
    struct __kernel_timespec ts = {left / NS, left % NS};
    prog_out(addr, &ts, sizeof ts);
}

/* The mask a ppoll, pselect6 or epoll_pwait would wait under, checked as Linux's
 * set_user_sigmask does: a wrong size is -EINVAL, a mask that cannot be read -EFAULT.
 * (The wait itself does not apply it: signals do not interrupt the layer's waits.) */
static long sigmask_ok(uint64_t mask, uint64_t size)
{
    if (!mask)
        return 0;
    if (size != SIGSET_SIZE)
        return -EINVAL;
    uint64_t set;
    return prog_in(&set, mask, sizeof set);
}

/* -- poll, ppoll ------------------------------------------------------------------------------ */

struct k_pollfd {
    int32_t fd;
    int16_t events;
    int16_t revents;
};

struct polling {
    struct k_pollfd *fds;
    unsigned n;
    uint16_t *owner;            /* for each channel asked: the pollfd it stands for */
};

static long poll_scan(void *ctx, xabi_poll_fd *chans, int cap, int *nchans)
{
    struct polling *p = ctx;
    long ready = 0;
    int k = 0;
    for (unsigned i = 0; i < p->n; i++) {
        struct k_pollfd *f = &p->fds[i];
        f->revents = 0;
        if (f->fd < 0)
            continue; /* ignored, as poll ignores negative fds */
        int chan = -1;
        uint32_t events = (uint16_t)f->events | POLLERR_ | POLLHUP_;
        f->revents = (int16_t)vfs_poll(V, f->fd, events, &chan);
        if (chan != -1) {
            if (k < cap) {
                chans[k] = (xabi_poll_fd){chan, wait_xabi_bits(events), 0};
                p->owner[k] = (uint16_t)i;
            }
            k++;
        }
        ready += f->revents != 0;
    }
    *nchans = k;
    return ready;
}

static long poll_merge(void *ctx, const xabi_poll_fd *chans, int n)
{
    struct polling *p = ctx;
    for (int k = 0; k < n; k++) {
        struct k_pollfd *f = &p->fds[p->owner[k]];
        f->revents |= (int16_t)(wait_poll_bits(chans[k].revents) & ((uint16_t)f->events | POLLERR_ | POLLHUP_));
    }
    long ready = 0;
    for (unsigned i = 0; i < p->n; i++)
        ready += p->fds[i].revents != 0;
    return ready;
}

static long do_poll(struct layer_call *c, uint64_t ufds, unsigned nfds, int64_t timeout_ns)
{
    if (nfds > layer.rlimits[RLIMIT_NOFILE].cur || nfds > VFS_FD_MAX)
        return -EINVAL;
    size_t bytes = nfds * sizeof(struct k_pollfd) + nfds * sizeof(uint16_t);
    uint64_t local[(ON_STACK * (sizeof(struct k_pollfd) + sizeof(uint16_t)) + 7) / 8];
    void *mem = nfds <= ON_STACK ? (void *)local : LAYER_ABI->alloc(0, (long)bytes); /* most polls: a few fds */
    if (!mem)
        return -ENOMEM;
    struct polling p = {mem, nfds, (uint16_t *)((char *)mem + nfds * sizeof(struct k_pollfd))};
    long r = prog_in(p.fds, ufds, nfds * sizeof(struct k_pollfd));
    if (r == 0) {
        struct wait_over w = {poll_scan, poll_merge, &p, c->held};
        r = wait_ready(&w, timeout_ns);
    }
    for (unsigned i = 0; r >= 0 && i < nfds; i++)
        if (prog_out(ufds + i * sizeof(struct k_pollfd) + 6, &p.fds[i].revents, sizeof(int16_t)) < 0)
            r = -EFAULT;
    if (mem != local)
        LAYER_ABI->free(mem);
    return r;
}

long layer_poll(struct layer_call *c)
{
    int ms = (int)A(2);
    return do_poll(c, A(0), (unsigned)A(1), ms < 0 ? WAIT_FOREVER : (int64_t)ms * 1000000);
}

long layer_ppoll(struct layer_call *c)
{
    int64_t ns;
    long r = timespec_in(A(2), &ns);
    if (r < 0 || (r = sigmask_ok(A(3), A(4))) < 0)
        return r;
    int64_t deadline = wait_deadline(ns);
    r = do_poll(c, A(0), (unsigned)A(1), ns);
    timespec_back(A(2), deadline);
    return r;
}

/* -- select, pselect6 ------------------------------------------------------------------------------ */

#define IN_SET (POLLRDNORM_ | POLLRDBAND_ | POLLIN_ | POLLHUP_ | POLLERR_)
#define OUT_SET (POLLWRBAND_ | POLLWRNORM_ | POLLOUT_ | POLLERR_)
#define EX_SET (POLLPRI_)
#define WORDS(n) (((n) + 63) / 64)

struct selecting {
    unsigned n;
    uint64_t *in[3];            /* the program's sets, copied (NULL where it gave none) */
    uint64_t *out[3];           /* the answer */
    uint16_t *owner;            /* for each channel asked: its fd */
};

static const uint32_t SET_BITS[3] = {IN_SET, OUT_SET, EX_SET};

static uint32_t wanted(const struct selecting *s, unsigned fd)
{
    uint32_t ev = 0;
    for (int k = 0; k < 3; k++)
        if (s->in[k] && (s->in[k][fd / 64] >> (fd % 64) & 1))
            ev |= SET_BITS[k];
    return ev;
}

/* the fd's answer into the result sets: the count of bits set */
static long mark(struct selecting *s, unsigned fd, uint32_t mask)
{
    long count = 0;
    for (int k = 0; k < 3; k++)
        if (s->in[k] && (s->in[k][fd / 64] >> (fd % 64) & 1) && (mask & SET_BITS[k]) &&
            !(s->out[k][fd / 64] >> (fd % 64) & 1)) {
            s->out[k][fd / 64] |= 1ULL << (fd % 64);
            count++;
        }
    return count;
}

static long select_scan(void *ctx, xabi_poll_fd *chans, int cap, int *nchans)
{
    struct selecting *s = ctx;
    long ready = 0;
    int k = 0;
    for (int set = 0; set < 3; set++)
        if (s->out[set])
            memset(s->out[set], 0, WORDS(s->n) * 8);
    for (unsigned fd = 0; fd < s->n; fd++) {
        uint32_t ev = wanted(s, fd);
        if (!ev)
            continue;
        int chan = -1;
        long mask = vfs_poll(V, (int)fd, ev, &chan);
        if (mask & POLLNVAL_)
            return -EBADF;
        ready += mark(s, fd, (uint32_t)mask);
        if (chan != -1) {
            if (k < cap) {
                chans[k] = (xabi_poll_fd){chan, wait_xabi_bits(ev), 0};
                s->owner[k] = (uint16_t)fd;
            }
            k++;
        }
    }
    *nchans = k;
    return ready;
}

/* bits set in x (no libgcc in the layer: __builtin_popcountll would need it) */
static int bits_in(uint64_t x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static long select_merge(void *ctx, const xabi_poll_fd *chans, int n)
{
    struct selecting *s = ctx;
    for (int k = 0; k < n; k++)
        mark(s, s->owner[k], wait_poll_bits(chans[k].revents));
    long ready = 0;
    for (int set = 0; set < 3; set++)
        for (unsigned w = 0; s->out[set] && w < WORDS(s->n); w++)
            ready += bits_in(s->out[set][w]);
    return ready;
}

static long do_select(struct layer_call *c, int64_t timeout_ns)
{
    int n = (int)A(0);
    if (n < 0)
        return -EINVAL;
    unsigned limit = (unsigned)layer.rlimits[RLIMIT_NOFILE].cur;
    if (limit > VFS_FD_MAX)
        limit = VFS_FD_MAX;
    if ((unsigned)n > limit)
        n = (int)limit; /* as Linux caps n at its fd table */
    size_t words = WORDS((unsigned)n), bytes = 6 * words * 8 + (size_t)n * sizeof(uint16_t);
    void *mem = LAYER_ABI->alloc(0, (long)(bytes ? bytes : 1));
    if (!mem)
        return -ENOMEM;
    struct selecting s = {(unsigned)n, {0}, {0}, 0};
    long r = 0;
    for (int k = 0; k < 3; k++) {
        if (!A(1 + k))
            continue;
        s.in[k] = (uint64_t *)mem + 2 * k * words;
        s.out[k] = s.in[k] + words;
        memset(s.in[k], 0, words * 8);
        if (prog_in(s.in[k], A(1 + k), ((unsigned)n + 7) / 8) < 0)
            r = -EFAULT;
    }
    s.owner = (uint16_t *)((uint64_t *)mem + 6 * words);
    if (r == 0) {
        struct wait_over w = {select_scan, select_merge, &s, c->held};
        r = wait_ready(&w, timeout_ns);
    }
    for (int k = 0; r >= 0 && k < 3; k++)
        if (s.in[k] && prog_out(A(1 + k), s.out[k], ((unsigned)n + 7) / 8) < 0)
            r = -EFAULT;
    LAYER_ABI->free(mem);
    return r;
}

struct k_timeval {
    int64_t sec, usec;
};

long layer_select(struct layer_call *c)
{
    int64_t ns = WAIT_FOREVER;
    if (A(4)) {
        struct k_timeval tv;
        if (prog_in(&tv, A(4), sizeof tv) < 0)
            return -EFAULT;
        if (tv.sec < 0 || tv.usec < 0 || tv.usec >= 1000000)
            return -EINVAL;
        ns = tv.sec > (INT64_MAX / NS) - 1 ? WAIT_FOREVER : tv.sec * NS + tv.usec * 1000;
    }
    int64_t deadline = wait_deadline(ns);
    long r = do_select(c, ns);
    if (A(4) && deadline >= 0) { /* the time left, as select writes it back */
        int64_t left = wait_left(deadline);
        struct k_timeval tv = {left / NS, (left % NS) / 1000};
        prog_out(A(4), &tv, sizeof tv);
    }
    return r;
}

long layer_pselect6(struct layer_call *c)
{
    int64_t ns;
    long r = timespec_in(A(4), &ns);
    if (r < 0)
        return r;
    if (A(5)) { /* { const sigset_t *ss; size_t ss_len } */
        uint64_t sig[2];
        if (prog_in(sig, A(5), sizeof sig) < 0)
            return -EFAULT;
        if ((r = sigmask_ok(sig[0], sig[1])) < 0)
            return r;
    }
    int64_t deadline = wait_deadline(ns);
    r = do_select(c, ns);
    timespec_back(A(4), deadline);
    return r;
}

/* -- epoll, eventfd --------------------------------------------------------------------------------- */

#define EP_MAX_EVENTS (0x7fffffff / 12)
#define EPOLL_CTL_DEL_ 2

long layer_epoll_create(struct layer_call *c)
{
    return (int)A(0) <= 0 ? -EINVAL : vfs_epoll_create1(V, 0);
}

long layer_epoll_create1(struct layer_call *c) { return vfs_epoll_create1(V, (int)A(0)); }

long layer_epoll_ctl(struct layer_call *c)
{
    struct vfs_epoll_event ev;
    int op = (int)A(1);
    if (op != EPOLL_CTL_DEL_ && prog_in(&ev, A(3), sizeof ev) < 0)
        return -EFAULT;
    return vfs_epoll_ctl(V, FD(0), op, FD(2), op == EPOLL_CTL_DEL_ ? 0 : &ev);
}

struct epolling {
    int epfd, max;
    struct vfs_epoll_probe *probes;
    int nprobes, cap;
    uint32_t *owner;            /* for each channel asked: its probe */
    long err;
    struct vfs_epoll_probe local[ON_STACK]; /* probes and owners of a small set */
    uint32_t local_owner[ON_STACK];
};

static long epoll_scan(void *ctx, xabi_poll_fd *chans, int cap, int *nchans)
{
    struct epolling *e = ctx;
    long n = vfs_epoll_scan(V, e->epfd, e->probes, e->cap);
    if (n < 0)
        return n;
    if (n > e->cap) { /* the set grew while this call waited: room for all of it */
        size_t bytes = (size_t)n * (sizeof *e->probes + sizeof *e->owner);
        void *mem = LAYER_ABI->alloc(0, (long)bytes);
        if (!mem)
            return -ENOMEM;
        if (e->probes && e->probes != e->local)
            LAYER_ABI->free(e->probes);
        e->probes = mem;
        e->owner = (uint32_t *)(e->probes + n);
        e->cap = (int)n;
        n = vfs_epoll_scan(V, e->epfd, e->probes, e->cap);
        if (n < 0)
            return n;
    }
    e->nprobes = (int)(n < e->cap ? n : e->cap);
    int k = 0;
    for (int i = 0; i < e->nprobes; i++) {
        if (e->probes[i].chan == -1)
            continue;
        if (k < cap) {
            chans[k] = (xabi_poll_fd){e->probes[i].chan, wait_xabi_bits(e->probes[i].events), 0};
            e->owner[k] = (uint32_t)i;
        }
        k++;
    }
    *nchans = k;
    return vfs_epoll_deliver(V, e->epfd, e->probes, e->nprobes, 0, e->max); /* what it would report */
}

static long epoll_merge(void *ctx, const xabi_poll_fd *chans, int n)
{
    struct epolling *e = ctx;
    for (int k = 0; k < n; k++)
        e->probes[e->owner[k]].revents |= wait_poll_bits(chans[k].revents);
    return vfs_epoll_deliver(V, e->epfd, e->probes, e->nprobes, 0, e->max);
}

static long do_epoll_wait(struct layer_call *c, int64_t timeout_ns)
{
    int max = (int)A(2);
    if (max <= 0 || max > EP_MAX_EVENTS)
        return -EINVAL;
    if (!prog_range(A(1), (size_t)max * sizeof(struct vfs_epoll_event)))
        return -EFAULT;
    struct epolling e;
    memset(&e, 0, offsetof(struct epolling, local));
    e.epfd = FD(0);
    e.max = max;
    e.probes = e.local;
    e.owner = e.local_owner;
    e.cap = ON_STACK;
    long r = vfs_epoll_scan(V, e.epfd, 0, 0); /* EBADF, EINVAL first */
    if (r < 0)
        return r;
    struct wait_over w = {epoll_scan, epoll_merge, &e, c->held};
    r = wait_ready(&w, timeout_ns);
    if (r > 0) {
        struct vfs_epoll_event local[ON_STACK];
        struct vfs_epoll_event *out = r <= ON_STACK ? local : LAYER_ABI->alloc(0, (long)((size_t)r * sizeof *out));
        if (!out) {
            r = -ENOMEM;
        } else {
            r = vfs_epoll_deliver(V, e.epfd, e.probes, e.nprobes, out, (int)r);
            if (r > 0 && prog_out(A(1), out, (size_t)r * sizeof *out) < 0)
                r = -EFAULT;
            if (out != local)
                LAYER_ABI->free(out);
        }
    }
    if (e.probes != e.local)
        LAYER_ABI->free(e.probes);
    return r;
}

long layer_epoll_wait(struct layer_call *c)
{
    int ms = (int)A(3);
    return do_epoll_wait(c, ms < 0 ? WAIT_FOREVER : (int64_t)ms * 1000000);
}

long layer_epoll_pwait(struct layer_call *c)
{
    long r = sigmask_ok(A(4), A(5));
    if (r < 0)
        return r;
    int ms = (int)A(3);
    return do_epoll_wait(c, ms < 0 ? WAIT_FOREVER : (int64_t)ms * 1000000);
}

long layer_epoll_pwait2(struct layer_call *c)
{
    int64_t ns;
    long r = timespec_in(A(3), &ns);
    if (r < 0 || (r = sigmask_ok(A(4), A(5))) < 0)
        return r;
    return do_epoll_wait(c, ns);
}

long layer_eventfd(struct layer_call *c) { return vfs_eventfd2(V, (unsigned)A(0), 0); }
long layer_eventfd2(struct layer_call *c) { return vfs_eventfd2(V, (unsigned)A(0), (int)A(1)); }
