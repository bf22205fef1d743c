/* A socket's bytes: send and receive over the three transports (sock_int.h), and readiness.
 *
 *   a stream connected inside the picoprocess: the bytes go into the peer's ring (its
 *       SO_RCVBUF, allocated on the first write); a full ring blocks the writer, an empty
 *       one the reader, each through env.wait on its own word, which the other side bumps;
 *   messages (datagrams, seqpackets): a queue of whole messages, bounded by the receiver's
 *       SO_RCVBUF; a datagram to a full queue is dropped (UDP) or waits (AF_UNIX);
 *   a channel (a browser's connection, the origin's): env.net_read and env.net_write, which
 *       never block; a blocking call waits with env.net_wait for the channel or for its own
 *       word, whichever comes first.  A MSG_PEEK keeps what it read in the ring.
 *
 * As on Linux: a blocking stream send returns once everything is sent (or the peer went:
 * what was sent, else EPIPE); a receive returns what is there, MSG_WAITALL waits for all of
 * it; end of file once the peer closed or shut its writing down; ECONNRESET when it went
 * with bytes of ours unread; MSG_TRUNC for a message that did not fit.  No signal is raised
 * (EPIPE is the answer: the layer raises no signals).  Readiness (sock_poll_mask) is what
 * tcp_poll, udp_poll and unix_poll answer in the same state. */
#include "sock_int.h"

#define UDP_MAX_V4 65507        /* 65535 less the IPv4 and UDP headers */
#define UDP_MAX_V6 65527

size_t sock_rcvbuf(const struct vsock *s)
{
    return (size_t)s->opt.rcvbuf;
}

static int nonblocking(const struct ofd *f, int flags)
{
    return (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT_);
}

static size_t iov_total(const struct vfs_iovec *iov, int cnt)
{
    size_t t = 0;
    for (int i = 0; i < cnt; i++)
        t += iov[i].iov_len;
    return t;
}

/* copy n bytes at offset off of the iovec's data into dst (gather), or from src (scatter):
 * the iovec's buffers are the caller's (the program's), copied fault-safely (user.c).
 * Answers how many of the n bytes could NOT be copied (0: all were). */
static size_t iov_gather(struct vfs *v, const struct vfs_iovec *iov, int cnt, size_t off, void *dst, size_t n)
{
    for (int i = 0; i < cnt && n; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t k = iov[i].iov_len - off < n ? iov[i].iov_len - off : n;
        size_t left = vfs_copy_in(v, dst, (const char *)iov[i].iov_base + off, k);
        if (left)
            return n - (k - left);
        dst = (char *)dst + k;
        n -= k;
        off = 0;
    }
    return n;
}

static size_t iov_scatter(struct vfs *v, const struct vfs_iovec *iov, int cnt, size_t off, const void *src, size_t n)
{
    for (int i = 0; i < cnt && n; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t k = iov[i].iov_len - off < n ? iov[i].iov_len - off : n;
        size_t left = vfs_copy_out(v, (char *)iov[i].iov_base + off, src, k);
        if (left)
            return n - (k - left);
        src = (const char *)src + k;
        n -= k;
        off = 0;
    }
    return n;
}

/* Wait for s to change (another thread's send, receive, close), or, with a channel, for
 * the channel to be ready for events.  0, or -EAGAIN if nothing can wait here. */
static long wait_change(struct vfs *v, struct vsock *s, uint32_t seen, uint32_t events)
{
    if (s->chan >= 0 && v->env.net_wait)
        return v->env.net_wait(v->env.ctx, s->chan, events, &s->seq, seen);
    if (!v->env.wait)
        return -EAGAIN;
    return v->env.wait(v->env.ctx, &s->seq, seen);
}

/* -- the ring ----------------------------------------------------------------------- */

static long ring_room(struct vfs *v, struct vsock *to)
{
    if (!to->ring) {
        size_t cap = sock_rcvbuf(to);
        if (!(to->ring = vmem_alloc(v, cap)))
            return -ENOMEM;
        to->cap = cap;
        to->head = to->len = 0;
    }
    return (long)(to->cap - to->len);
}

/* k bytes of the iovec (from off) onto to's ring; answers how many went (fewer than k only
 * where the program's buffer could not be read) */
static size_t ring_put(struct vfs *v, struct vsock *to, const struct vfs_iovec *iov, int cnt, size_t off, size_t k)
{
    size_t tail = (to->head + to->len) % to->cap;
    size_t first = to->cap - tail < k ? to->cap - tail : k;
    size_t left = iov_gather(v, iov, cnt, off, to->ring + tail, first);
    if (!left && k > first)
        left = iov_gather(v, iov, cnt, off + first, to->ring, k - first);
    else if (left)
        left += k - first;
    to->len += k - left;
    return k - left;
}

/* k bytes of s's ring into the iovec (from off), taken off the ring unless peeking;
 * answers how many went (fewer than k only where the program's buffer could not be
 * written: those stay on the ring) */
static size_t ring_take(struct vfs *v, struct vsock *s, const struct vfs_iovec *iov, int cnt, size_t off, size_t k,
                        int peek)
{
    size_t first = s->cap - s->head < k ? s->cap - s->head : k;
    size_t left = iov_scatter(v, iov, cnt, off, s->ring + s->head, first);
    if (!left && k > first)
        left = iov_scatter(v, iov, cnt, off + first, s->ring, k - first);
    else if (left)
        left += k - first;
    k -= left;
    if (!peek) {
        s->head = (s->head + k) % s->cap;
        s->len -= k;
    }
    return k;
}

/* -- sending ------------------------------------------------------------------------- */

/* A connected stream's bytes to its peer in the picoprocess, waiting for room as a
 * blocking send does. */
static long stream_to_peer(struct vfs *v, struct ofd *f, struct vsock *s, const struct vfs_iovec *iov, int cnt,
                           size_t total, int flags)
{
    size_t done = 0;
    for (;;) {
        struct vsock *to = s->peer;
        if (!to && sock_inet(s) && !done) {
            /* TCP: the bytes leave for a peer that is gone, whose reset comes back after:
             * this send is taken, the next one is EPIPE (and poll shows the error now) */
            s->shut |= 2;
            s->err = EPIPE;
            sock_changed(v, s);
            return (long)total;
        }
        if (!to || to->reset || (s->family == AF_UNIX_ && (to->shut & 1)))
            return done ? (long)done : -EPIPE; /* the peer went (unix: or reads no more) */
        long room = ring_room(v, to);
        if (room < 0)
            return done ? (long)done : room;
        if (room) {
            size_t k = total - done < (size_t)room ? total - done : (size_t)room;
            size_t put = ring_put(v, to, iov, cnt, done, k);
            done += put;
            sock_changed(v, to);
            if (put < k)
                return done ? (long)done : -EFAULT;
            if (done == total)
                return (long)done;
        }
        if (nonblocking(f, flags))
            return done ? (long)done : -EAGAIN;
        long r = wait_change(v, s, s->seq, 0);
        if (r < 0)
            return done ? (long)done : r;
    }
}

/* A stream's bytes to its channel: what the Monitor takes now, then (blocking) the rest. */
static long stream_to_chan(struct vfs *v, struct ofd *f, struct vsock *s, const struct vfs_iovec *iov, int cnt,
                           size_t total, int flags)
{
    if (!v->env.net_write)
        return -EPIPE;
    size_t done = 0;
    int i = 0;
    size_t off = 0;
    while (done < total) {
        while (i < cnt && off == iov[i].iov_len)
            i++, off = 0;
        if (i >= cnt)
            break;
        uint32_t seen = s->seq;
        long n = v->env.net_write(v->env.ctx, s->chan, (const char *)iov[i].iov_base + off, iov[i].iov_len - off);
        if (n > 0) {
            done += (size_t)n;
            off += (size_t)n;
            continue;
        }
        if (n != -EAGAIN)
            return done ? (long)done : (n == 0 ? -EPIPE : n);
        if (nonblocking(f, flags))
            return done ? (long)done : -EAGAIN;
        wait_change(v, s, seen, POLLOUT);
        if (s->shut & 2)
            return done ? (long)done : -EPIPE;
    }
    return (long)done;
}

long mq_put(struct vfs *v, struct vsock *to, const struct vfs_iovec *iov, int cnt, size_t total,
            const struct saddr *from)
{
    struct vmsg *m = vmem_alloc(v, sizeof *m + total);
    if (!m)
        return -ENOBUFS;
    m->next = 0;
    m->len = total;
    if (from)
        m->from = *from;
    else
        memset(&m->from, 0, sizeof m->from);
    if (iov_gather(v, iov, cnt, 0, m->data, total)) {
        vmem_free(v, m, sizeof *m + total);
        return -EFAULT;
    }
    if (to->mq_tail)
        to->mq_tail->next = m;
    else
        to->mq = m;
    to->mq_tail = m;
    to->mq_bytes += total;
    sock_changed(v, to);
    return (long)total;
}

/* whether a message of len bytes fits to's queue now (an empty queue takes any) */
static int mq_fits(const struct vsock *to, size_t len)
{
    return !to->mq || to->mq_bytes + len <= sock_rcvbuf(to);
}

/* A message to another socket of the picoprocess: an AF_UNIX one waits for room (on the
 * receiver's word, which each receive bumps), a UDP one is dropped when the queue is full,
 * as the kernel drops it. */
static long message_to(struct vfs *v, struct ofd *f, struct vsock *s, struct vsock *to, const struct vfs_iovec *iov,
                       int cnt, size_t total, int flags)
{
    long r;
    to->refs++; /* it may go while this waits */
    for (;;) {
        if (to->closed) {
            r = s->type == SOCK_SEQPACKET_ ? -EPIPE : -ECONNREFUSED;
            break;
        }
        if (mq_fits(to, total)) {
            r = mq_put(v, to, iov, cnt, total, &s->local);
            break;
        }
        if (sock_inet(to)) {
            r = (long)total;
            break;
        }
        if (nonblocking(f, flags) || !v->env.wait) {
            r = -EAGAIN;
            break;
        }
        if ((r = v->env.wait(v->env.ctx, &to->seq, to->seq)) < 0)
            break;
    }
    sock_put(v, to);
    return r;
}

/* An unconnected or connected datagram: to the named or the connected address */
static long datagram_send(struct vfs *v, struct ofd *f, struct vsock *s, const struct vfs_msghdr *m, size_t total,
                          int flags)
{
    if (s->family == AF_UNIX_) {
        struct vsock *to = s->peer;
        if (m->name && m->namelen) {
            struct saddr name;
            long r = unix_name(m->name, m->namelen, &name);
            if (r < 0)
                return r;
            if ((r = unix_lookup(v, s, &name, &to)) < 0)
                return r;
        } else if (!to) {
            return -ENOTCONN;
        }
        if (to->closed) { /* it went: the first send says so, and forgets it */
            if (to == s->peer) {
                s->peer = 0;
                s->remote.len = 0;
                s->state = s->local.len ? SS_BOUND : SS_FREE;
                sock_put(v, to);
            }
            return -ECONNREFUSED;
        }
        if (total > (size_t)s->opt.sndbuf - 32)
            return -EMSGSIZE;
        if (to->peer && to->peer != s && !(m->name && m->namelen && to == s->peer))
            return -EPERM; /* connected to another socket: it takes nobody else's datagrams */
        return message_to(v, f, s, to, m->iov, m->iovlen, total, flags);
    }
    struct ep dst;
    if (m->name && m->namelen) {
        long r = addr_parse(s, m->name, m->namelen, &dst, 0);
        if (r < 0)
            return r;
        if (dst.port == 0)
            return -EINVAL;
    } else if (s->remote.len) {
        addr_ep(&s->remote, &dst);
    } else {
        return -EDESTADDRREQ;
    }
    if (total > (ep_is_v4(&dst) ? UDP_MAX_V4 : UDP_MAX_V6))
        return -EMSGSIZE;
    if (s->family == AF_INET6_ && ep_is_v4(&dst) && s->opt.v6only)
        return -ENETUNREACH;
    if (!ep_is_local(&dst))
        return -ENETUNREACH; /* no route: the machine has loopback only (UDP never leaves it) */
    long r = sock_autobind(v, s, 0);
    if (r < 0)
        return r;
    struct vsock *to = inet_receiver(v, s, &dst);
    if (!to) {
        if (s->remote.len) /* the ICMP port unreachable a connected socket learns of */
            s->err = ECONNREFUSED;
        return (long)total;
    }
    struct saddr from;
    struct ep src;
    addr_ep(&s->local, &src);
    if (ep_is_any(&src)) { /* the source the route gives: loopback */
        if (ep_is_v4(&dst))
            memset(src.a, 0, 10), src.a[10] = src.a[11] = 0xff, src.a[12] = 127, src.a[15] = 1;
        else
            memset(src.a, 0, 16), src.a[15] = 1;
    } else if (ep_is_v4(&src) != ep_is_v4(&dst) && ep_is_v4(&dst)) {
        memset(src.a, 0, 10), src.a[10] = src.a[11] = 0xff, src.a[12] = 127, src.a[15] = 1;
    }
    addr_make(to, &src, &from);
    if (!mq_fits(to, total))
        return (long)total; /* a full receive queue drops it, as UDP does */
    return mq_put(v, to, m->iov, m->iovlen, total, &from);
}

long sock_send(struct vfs *v, struct ofd *f, const struct vfs_msghdr *m, int flags)
{
    struct vsock *s = sock_of_ofd(f);
    if (flags & MSG_OOB_)
        return -EOPNOTSUPP;
    size_t total = iov_total(m->iov, m->iovlen);
    if (s->type == SOCK_DGRAM_)
        return datagram_send(v, f, s, m, total, flags);
    if (s->family == AF_UNIX_ && m->name && m->namelen)
        return s->state == SS_CONNECTED ? -EISCONN : -EOPNOTSUPP;
    if (s->err) {
        long e = -s->err;
        s->err = 0;
        return e;
    }
    if (s->state != SS_CONNECTED)
        return s->family == AF_UNIX_ ? -ENOTCONN : -EPIPE; /* tcp_sendmsg: never connected */
    if (s->shut & 2)
        return -EPIPE;
    if (s->reset) {
        s->reset = 0;
        return -ECONNRESET;
    }
    if (s->type == SOCK_SEQPACKET_) {
        if (!s->peer)
            return -EPIPE;
        if (total > (size_t)s->opt.sndbuf - 32)
            return -EMSGSIZE;
        return message_to(v, f, s, s->peer, m->iov, m->iovlen, total, flags);
    }
    if (total == 0)
        return 0;
    if (s->chan >= 0)
        return stream_to_chan(v, f, s, m->iov, m->iovlen, total, flags);
    return stream_to_peer(v, f, s, m->iov, m->iovlen, total, flags);
}

/* -- receiving ------------------------------------------------------------------------- */

/* Bytes from the channel into the ring (a peek keeps them there) or straight into the
 * caller's first buffer: > 0, 0 at its end, -EAGAIN */
static long chan_fill(struct vfs *v, struct vsock *s, const struct vfs_iovec *iov, int cnt, int peek)
{
    if (!v->env.net_read)
        return 0;
    if (peek) {
        long room = ring_room(v, s);
        if (room <= 0)
            return room < 0 ? room : -EAGAIN;
        size_t tail = (s->head + s->len) % s->cap;
        size_t n = s->cap - tail < (size_t)room ? s->cap - tail : (size_t)room;
        long r = v->env.net_read(v->env.ctx, s->chan, s->ring + tail, n);
        if (r > 0)
            s->len += (size_t)r;
        return r;
    }
    for (int i = 0; i < cnt; i++)
        if (iov[i].iov_len)
            return v->env.net_read(v->env.ctx, s->chan, iov[i].iov_base, iov[i].iov_len);
    return 0;
}

static long stream_recv(struct vfs *v, struct ofd *f, struct vsock *s, struct vfs_msghdr *m, size_t total, int flags)
{
    int peek = flags & MSG_PEEK_;
    size_t done = 0;
    for (;;) {
        if (s->len) {
            size_t k = total - done < s->len ? total - done : s->len;
            size_t took = ring_take(v, s, m->iov, m->iovlen, done, k, peek);
            done += took;
            if (took < k)
                return done ? (long)done : -EFAULT;
            if (!peek && s->peer)
                sock_changed(v, s->peer); /* room again for the writer */
            if (done == total || peek || !(flags & MSG_WAITALL_))
                return (long)done;
            continue;
        }
        if (s->reset) { /* said once; then the connection is closed: end of file */
            if (done)
                return (long)done;
            s->reset = 0;
            s->rx_end = 1;
            return -ECONNRESET;
        }
        if (s->rx_end || (s->shut & 1) || (s->state != SS_CONNECTED))
            return (long)done;
        uint32_t seen = s->seq;
        if (s->chan >= 0) {
            struct vfs_iovec rest[1];
            const struct vfs_iovec *into = m->iov;
            int cnt = m->iovlen;
            if (done) { /* MSG_WAITALL: the rest, in a one-piece view when it lies in one buffer */
                if (peek)
                    return (long)done;
                size_t off = done;
                int i = 0;
                while (i < cnt && off >= m->iov[i].iov_len)
                    off -= m->iov[i].iov_len, i++;
                if (i >= cnt)
                    return (long)done;
                rest[0].iov_base = (char *)m->iov[i].iov_base + off;
                rest[0].iov_len = m->iov[i].iov_len - off;
                into = rest;
                cnt = 1;
            }
            long r = chan_fill(v, s, into, cnt, peek);
            s->seq++; /* a read of the channel is an event of its own (epoll's edges) */
            if (r > 0) {
                if (peek)
                    continue; /* it is in the ring now */
                done += (size_t)r;
                if (done == total || !(flags & MSG_WAITALL_))
                    return (long)done;
                continue;
            }
            if (r == 0) {
                s->rx_end = 1;
                return (long)done;
            }
            if (r != -EAGAIN)
                return done ? (long)done : r;
            seen = s->seq;
        }
        if (nonblocking(f, flags))
            return done ? (long)done : -EAGAIN;
        long r = wait_change(v, s, seen, POLLIN);
        if (r < 0)
            return done ? (long)done : r;
    }
}

static long message_recv(struct vfs *v, struct ofd *f, struct vsock *s, struct vfs_msghdr *m, size_t total, int flags)
{
    for (;;) {
        struct vmsg *msg = s->mq;
        if (msg) {
            size_t k = msg->len < total ? msg->len : total;
            /* a buffer that cannot take it: -EFAULT, and (as Linux's datagram receive,
             * which has dequeued it before it copies) the message is gone all the same */
            int fault = iov_scatter(v, m->iov, m->iovlen, 0, msg->data, k) != 0;
            if (msg->len > total)
                m->flags |= MSG_TRUNC_;
            m->namelen = msg->from.len; /* an unnamed unix sender: no name at all */
            if (m->name && msg->from.len)
                memcpy(m->name, msg->from.u.b, msg->from.len);
            long got = (flags & MSG_TRUNC_) ? (long)msg->len : (long)k;
            if (!(flags & MSG_PEEK_)) {
                s->mq = msg->next;
                if (!s->mq)
                    s->mq_tail = 0;
                s->mq_bytes -= msg->len;
                vmem_free(v, msg, sizeof *msg + msg->len);
                sock_changed(v, s); /* room again: senders wait on this word */
            }
            return fault ? -EFAULT : got;
        }
        if (s->err && s->type == SOCK_DGRAM_) {
            long e = -s->err;
            s->err = 0;
            return e;
        }
        if (s->shut & 1)
            return 0;
        if (s->type == SOCK_SEQPACKET_ && (s->rx_end || s->state != SS_CONNECTED))
            return s->state != SS_CONNECTED && !s->rx_end ? -ENOTCONN : 0;
        if (nonblocking(f, flags))
            return -EAGAIN;
        long r = wait_change(v, s, s->seq, POLLIN);
        if (r < 0)
            return r;
    }
}

long sock_recv(struct vfs *v, struct ofd *f, struct vfs_msghdr *m, int flags)
{
    struct vsock *s = sock_of_ofd(f);
    m->flags = 0;
    if (flags & MSG_OOB_)
        return -EINVAL; /* no urgent data ever arrives */
    size_t total = iov_total(m->iov, m->iovlen);
    if (s->type == SOCK_DGRAM_ || s->type == SOCK_SEQPACKET_)
        return message_recv(v, f, s, m, total, flags);
    m->namelen = 0;
    if (s->state == SS_LISTENING || (s->state != SS_CONNECTED && !s->rx_end))
        return -ENOTCONN;
    if (s->err) {
        long e = -s->err;
        s->err = 0;
        return e;
    }
    if (total == 0)
        return 0;
    return stream_recv(v, f, s, m, total, flags);
}

/* -- readiness ----------------------------------------------------------------------- */

#define IN_ (POLLIN | POLLRDNORM)
#define OUT_ (POLLOUT | POLLWRNORM)

static uint32_t stream_mask(struct vfs *v, struct vsock *s, int *chan)
{
    (void)v;
    uint32_t mask = 0;
    if (s->state == SS_LISTENING) {
        if (s->backlog)
            mask |= IN_;
        if (s == sock_outside_listener(v))
            *chan = VFS_CHAN_ACCEPT; /* the browser's connections: the Monitor knows */
        return mask;
    }
    int is_unix = s->family == AF_UNIX_;
    if (s->state != SS_CONNECTED && !s->rx_end) { /* never connected, or its connect failed */
        mask = OUT_ | POLLHUP;
        if (s->err)
            mask |= POLLERR | IN_ | POLLRDHUP;
        return is_unix ? mask | POLLWRBAND : mask;
    }
    int rcv_shut = s->rx_end || (s->shut & 1) || s->reset;
    int snd_shut = (s->shut & 2) || s->reset || (is_unix && !s->peer && s->chan < 0);
    if (s->len || s->mq || rcv_shut)
        mask |= IN_;
    if (rcv_shut)
        mask |= POLLRDHUP;
    if (rcv_shut && snd_shut)
        mask |= POLLHUP;
    if (s->err || s->reset)
        mask |= POLLERR;
    if (s->chan >= 0) {
        *chan = s->chan; /* what the Monitor's side has, and room to write: it knows */
        return mask;
    }
    if (is_unix) {
        mask |= OUT_ | POLLWRBAND; /* unix_writable: our buffer, never full here */
    } else if (s->shut & 2) {
        mask |= OUT_;
    } else if (s->peer) {
        if (!s->peer->ring || s->peer->len < s->peer->cap)
            mask |= OUT_;
    } else {
        mask |= OUT_;
    }
    return mask;
}

/* datagram_poll and unix_dgram_poll: reading ended (our SHUT_RD, or the peer's SHUT_WR or
 * close) shows readable and RDHUP, both directions ended HUP; a seqpacket never connected
 * is hung up too */
static uint32_t dgram_mask(struct vfs *v, struct vsock *s)
{
    (void)v;
    if (s->type == SOCK_SEQPACKET_ && s->state == SS_LISTENING)
        return s->backlog ? IN_ : 0;
    uint32_t mask = 0;
    int rcv = (s->shut & 1) || s->rx_end, snd = (s->shut & 2) != 0;
    if (s->err)
        mask |= POLLERR;
    if (rcv)
        mask |= IN_ | POLLRDHUP;
    if (rcv && snd)
        mask |= POLLHUP;
    if (s->mq)
        mask |= IN_;
    if (s->type == SOCK_SEQPACKET_ && s->state != SS_CONNECTED && !s->rx_end)
        mask |= POLLHUP;
    struct vsock *to = s->peer;
    if (!to || mq_fits(to, 1) || sock_inet(s))
        mask |= OUT_ | POLLWRBAND;
    return mask;
}

uint32_t sock_poll_mask(struct vfs *v, struct vsock *s, int *chan)
{
    if (s->type == SOCK_STREAM_)
        return stream_mask(v, s, chan);
    return dgram_mask(v, s);
}
