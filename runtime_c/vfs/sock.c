/* Sockets: the kind of description (vfs_sock_fops) and the socket calls — socket,
 * socketpair, bind, listen, accept4, connect, shutdown, getsockname, getpeername, sendmsg,
 * recvmsg (sockopt.c has setsockopt and getsockopt).  See sock_int.h for how a socket is
 * made and where its bytes go; the checks here come in Linux's order, with its errnos.
 *
 * Where a connect leads (the address's class, sockaddr.c):
 *   this machine (loopback, the wildcards): the socket of the picoprocess listening (a
 *       stream) or bound (a datagram) there; where none listens, the image's origin if it is
 *       that address and port (an origin on loopback); else ECONNREFUSED;
 *   the image's origin (env.net_connect): a channel, a TCP connection the Monitor makes;
 *   anywhere else: ENETUNREACH — the picoprocess's machine has a loopback interface and a
 *       route to its origin, nothing more (as a host whose only route is to one server).
 * AF_UNIX names lead to sockets of the picoprocess only.  The first internet socket that
 * listens takes the browser's connections (env.net_accept) when vfs_net_accepts said so,
 * whatever port it bound: accept gives each as a connected socket whose peer is
 * 127.0.0.1 (::ffff:127.0.0.1 on an IPv6 socket; the Monitor is a proxy on this machine).
 *
 * A connection inside the picoprocess completes at once: a non-blocking connect on an
 * internet stream answers EINPROGRESS as Linux does on loopback, and then shows writable;
 * one refused answers EINPROGRESS too and leaves its error in SO_ERROR.  An AF_UNIX
 * listener's backlog is bounded (EAGAIN, or a wait); a TCP one takes every connection (the
 * kernel would retry the handshake until accept made room). */
#include "sock_int.h"

#define FIONREAD_ 0x541B

const struct vfs_file_ops vfs_sock_fops;

long sock_fd(struct vfs *v, int fd, struct ofd **f, struct vsock **out)
{
    struct ofd *o = fd_get_io(v, fd);
    if (!o)
        return -EBADF;
    if (o->ops != &vfs_sock_fops)
        return -ENOTSOCK;
    *f = o;
    *out = sock_of_ofd(o);
    return 0;
}

/* the description of a new socket, installed at the lowest free fd */
static long sock_install(struct vfs *v, struct vsock *s, int flags)
{
    struct ofd *f = ofd_new(v);
    if (!f)
        return -ENOMEM;
    long fd = fd_alloc(v, 0);
    if (fd < 0) {
        vmem_free(v, f, sizeof *f);
        return fd;
    }
    f->ops = &vfs_sock_fops;
    f->fmode = FM_READ | FM_WRITE;
    f->flags = O_RDWR | ((flags & SOCK_NONBLOCK_) ? O_NONBLOCK : 0);
    f->pos = s->ino;
    f->priv = s;
    fd_install(v, (int)fd, f, (flags & SOCK_CLOEXEC_) != 0);
    return fd;
}

/* -- socket, socketpair ----------------------------------------------------------------- */

/* the family's checks of type and protocol (unix_create, inet_create, inet6_create):
 * 0 with the protocol SO_PROTOCOL shows, or -errno */
static long check_kind(int family, int base, int protocol, int *proto)
{
    if (family == AF_UNIX_) {
        if (base != SOCK_STREAM_ && base != SOCK_DGRAM_ && base != SOCK_SEQPACKET_ && base != SOCK_RAW_)
            return -ESOCKTNOSUPPORT;
        if (protocol && protocol != AF_UNIX_)
            return -EPROTONOSUPPORT;
        *proto = 0; /* SO_PROTOCOL reads 0 whatever was asked */
        return 0;
    }
    if (family != AF_INET_ && family != AF_INET6_)
        return -EAFNOSUPPORT; /* netlink, packet, ...: not on this machine */
    if (base == SOCK_RAW_)
        return -EPERM; /* CAP_NET_RAW: nobody here has it */
    int want = base == SOCK_STREAM_ ? IPPROTO_TCP_ : base == SOCK_DGRAM_ ? IPPROTO_UDP_ : -1;
    if (want < 0)
        return -ESOCKTNOSUPPORT;
    if (protocol && protocol != want)
        return -EPROTONOSUPPORT;
    *proto = want;
    return 0;
}

long vfs_socket(struct vfs *v, int family, int type, int protocol)
{
    if (!v)
        return -EINVAL;
    int base = type & SOCK_TYPE_MASK_;
    if (type & ~(SOCK_TYPE_MASK_ | SOCK_NONBLOCK_ | SOCK_CLOEXEC_))
        return -EINVAL;
    if (family < 0 || family >= 46 /* AF_MAX */)
        return -EAFNOSUPPORT;
    int proto;
    long r = check_kind(family, base, protocol, &proto);
    if (r < 0)
        return r;
    if (family == AF_UNIX_ && base == SOCK_RAW_)
        base = SOCK_DGRAM_; /* as unix_create does */
    struct vsock *s = sock_new(v, family, base, proto);
    if (!s)
        return -ENOMEM;
    r = sock_install(v, s, type);
    if (r < 0)
        sock_put(v, s);
    return r;
}

static void join(struct vsock *a, struct vsock *b)
{
    a->peer = b;
    b->peer = a;
    a->state = b->state = SS_CONNECTED;
}

long vfs_socketpair(struct vfs *v, int family, int type, int protocol, int *fds)
{
    if (!v)
        return -EINVAL;
    int base = type & SOCK_TYPE_MASK_;
    if (type & ~(SOCK_TYPE_MASK_ | SOCK_NONBLOCK_ | SOCK_CLOEXEC_))
        return -EINVAL;
    int proto;
    long r = check_kind(family, base, protocol, &proto);
    if (r < 0)
        return r;
    if (family != AF_UNIX_)
        return -EOPNOTSUPP;
    if (base == SOCK_RAW_)
        base = SOCK_DGRAM_;
    if (!fds)
        return -EFAULT;
    struct vsock *a = sock_new(v, family, base, proto), *b = a ? sock_new(v, family, base, proto) : 0;
    if (!b) {
        sock_put(v, a);
        return -ENOMEM;
    }
    join(a, b);
    if (base == SOCK_DGRAM_) /* each holds the other, as a connect does */
        a->refs++, b->refs++;
    long fa = sock_install(v, a, type);
    long fb = fa < 0 ? fa : sock_install(v, b, type);
    if (fb < 0) {
        if (fa >= 0)
            vfs_close(v, (int)fa);
        else
            sock_put(v, a);
        sock_put(v, b);
        return fb;
    }
    fds[0] = (int)fa;
    fds[1] = (int)fb;
    return 0;
}

/* -- bind, listen ------------------------------------------------------------------------- */

long vfs_bind(struct vfs *v, int fd, const void *addr, uint32_t len)
{
    struct ofd *f;
    struct vsock *s;
    long r = sock_fd(v, fd, &f, &s);
    if (r < 0)
        return r;
    if (len > VFS_SOCKADDR_MAX || (int)len < 0)
        return -EINVAL;
    if (len && !addr)
        return -EFAULT;
    if (s->family == AF_UNIX_) {
        const uint8_t *a = addr;
        if (len == 2 && (a[0] | a[1] << 8) == AF_UNIX_)
            return s->local.len ? -EINVAL : unix_autobind(v, s);
        struct saddr name;
        if ((r = unix_name(addr, len, &name)) < 0)
            return r;
        if (s->local.len)
            return -EINVAL;
        r = unix_bind(v, s, &name);
        if (r == 0 && s->state == SS_FREE)
            s->state = SS_BOUND;
        return r;
    }
    struct ep ep;
    if ((r = addr_parse(s, addr, len, &ep, 1)) < 0)
        return r;
    if (s->family == AF_INET6_ && ep_is_v4(&ep) && s->opt.v6only)
        return -EINVAL;
    if (!ep_is_local(&ep))
        return -EADDRNOTAVAIL; /* not an address of this machine */
    if (ep.port && ep.port < PORT_PRIVILEGED && v->uid != 0)
        return -EACCES;
    if (s->local.len || s->state != SS_FREE)
        return -EINVAL;
    if ((r = port_claim(v, s, &ep)) < 0)
        return r;
    addr_make(s, &ep, &s->local);
    s->state = SS_BOUND;
    return 0;
}

long vfs_listen(struct vfs *v, int fd, int backlog)
{
    struct ofd *f;
    struct vsock *s;
    long r = sock_fd(v, fd, &f, &s);
    if (r < 0)
        return r;
    if (s->type == SOCK_DGRAM_)
        return -EOPNOTSUPP;
    if (s->state == SS_CONNECTED || s->rx_end)
        return -EINVAL;
    if (s->family == AF_UNIX_ && !s->local.len)
        return -EINVAL;
    if ((r = sock_autobind(v, s, 0)) < 0)
        return r;
    if ((unsigned)backlog > SOCK_LISTEN_MAX)
        backlog = SOCK_LISTEN_MAX;
    s->backlog_max = (uint32_t)backlog + 1;
    if (s->state != SS_LISTENING) {
        s->state = SS_LISTENING;
        s->listen_order = ++v->sh->listen_order;
    }
    sock_changed(v, s);
    return 0;
}

/* -- connect -------------------------------------------------------------------------------- */

/* The socket a listener's accept will give: connected to c, its address the listener's (a
 * wildcard made the address c reached) */
static struct vsock *embryo(struct vfs *v, struct vsock *l, struct vsock *c, const struct ep *dst)
{
    struct vsock *s = sock_new(v, l->family, l->type, l->protocol);
    if (!s)
        return 0;
    s->opt = l->opt; /* accepted sockets inherit the listener's options */
    if (sock_inet(l)) {
        struct ep local, from;
        addr_ep(&l->local, &local);
        if (ep_is_any(&local)) {
            uint16_t port = local.port;
            local = *dst;
            local.port = port;
            if (ep_is_any(&local)) {
                if (ep_is_v4(&local))
                    local.a[12] = 127, local.a[15] = 1;
                else
                    local.a[15] = 1;
            }
        }
        addr_make(s, &local, &s->local);
        addr_ep(&c->local, &from);
        addr_make(s, &from, &s->remote);
    } else {
        s->local = l->local;
        s->remote = c->local;
    }
    join(s, c);
    s->listener = l;
    if (l->backlog_tail)
        l->backlog_tail->queued_next = s;
    else
        l->backlog = s;
    l->backlog_tail = s;
    l->backlog_len++;
    sock_changed(v, l);
    return s;
}

/* A stream's connect to a socket of the picoprocess: into l's backlog, waiting for room
 * (AF_UNIX) as a blocking connect does */
static long connect_inside(struct vfs *v, struct ofd *f, struct vsock *s, struct vsock *l, const struct ep *dst)
{
    while (s->family == AF_UNIX_ && l->backlog_len >= l->backlog_max) {
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        if (!v->env.wait)
            return -EAGAIN;
        uint32_t seen = l->seq;
        l->refs++;
        long err = v->env.wait(v->env.ctx, &l->seq, seen);
        int gone = l->refs == 1 || l->state != SS_LISTENING;
        sock_put(v, l);
        if (err < 0)
            return err;
        if (gone)
            return -ECONNREFUSED;
        if (s->state == SS_CONNECTED)
            return -EISCONN;
    }
    if (!embryo(v, l, s, dst))
        return -ENOMEM;
    if (sock_inet(s))
        s->remote.len = 0, addr_make(s, dst, &s->remote);
    else
        s->remote = l->local;
    sock_changed(v, s);
    return 0;
}

/* the answer of a connect that did not complete: a blocking one says why; a non-blocking
 * internet one says EINPROGRESS and leaves why in SO_ERROR (loopback's handshake fails
 * after connect returned) */
static long refused(struct ofd *f, struct vsock *s, long err)
{
    if (sock_inet(s) && (f->flags & O_NONBLOCK)) {
        s->err = (int)-err;
        s->connecting = 0;
        return -EINPROGRESS;
    }
    return err;
}

static long connect_unix(struct vfs *v, struct ofd *f, struct vsock *s, const void *addr, uint32_t len)
{
    struct saddr name;
    long r = unix_name(addr, len, &name);
    if (r < 0)
        return r;
    struct vsock *to;
    if ((r = unix_lookup(v, s, &name, &to)) < 0)
        return r;
    if (s->type == SOCK_DGRAM_) {
        if (s->peer)
            sock_put(v, s->peer);
        to->refs++;
        s->peer = to;
        s->remote = to->local;
        s->state = SS_CONNECTED;
        return 0;
    }
    if (s->state == SS_CONNECTED)
        return -EISCONN;
    if (s->state == SS_LISTENING)
        return -EINVAL;
    if (to->state != SS_LISTENING)
        return -ECONNREFUSED;
    return connect_inside(v, f, s, to, 0);
}

/* connect(AF_UNSPEC): a datagram socket forgets its peer */
static long disconnect(struct vfs *v, struct vsock *s)
{
    if (s->type != SOCK_DGRAM_)
        return s->family == AF_UNIX_ ? -EINVAL : 0;
    if (s->family == AF_UNIX_ && s->peer)
        sock_put(v, s->peer);
    s->peer = 0;
    s->remote.len = 0;
    if (s->state == SS_CONNECTED)
        s->state = s->local.len ? SS_BOUND : SS_FREE;
    return 0;
}

static long connect_datagram(struct vfs *v, struct vsock *s, const struct ep *dst_given)
{
    struct ep to = *dst_given, *dst = &to;
    if (ep_is_any(&to)) { /* the wildcard as a destination: the local host */
        if (ep_is_v4(&to))
            to.a[12] = 127, to.a[15] = 1;
        else
            to.a[15] = 1;
    }
    if (s->family == AF_INET6_ && ep_is_v4(dst) && s->opt.v6only)
        return -ENETUNREACH;
    if (!ep_is_local(dst))
        return -ENETUNREACH;
    long r = sock_autobind(v, s, dst);
    if (r < 0)
        return r;
    struct ep local;
    addr_ep(&s->local, &local);
    if (ep_is_any(&local)) { /* the route's source becomes the bound address, as udp does */
        uint16_t port = local.port;
        memset(&local, 0, sizeof local);
        if (ep_is_v4(dst))
            local.a[10] = local.a[11] = 0xff, local.a[12] = 127, local.a[15] = 1;
        else
            local.a[15] = 1;
        local.port = port;
        addr_make(s, &local, &s->local);
    }
    addr_make(s, dst, &s->remote);
    s->state = SS_CONNECTED;
    return 0;
}

/* A stream to the image's origin: the Monitor's connection, as a channel */
static long connect_outside(struct vfs *v, struct ofd *f, struct vsock *s, const struct ep *dst)
{
    if (!v->env.net_connect)
        return -ENETUNREACH;
    long chan = v->env.net_connect(v->env.ctx, dst->a, dst->port);
    if (chan == -ENETUNREACH)
        return chan; /* known at once: no route */
    if (chan < 0)
        return refused(f, s, chan);
    long r = sock_autobind(v, s, dst);
    if (r < 0) {
        if (v->env.chan_close)
            v->env.chan_close(v->env.ctx, (int)chan);
        return r;
    }
    s->chan = (int)chan;
    addr_make(s, dst, &s->remote);
    s->state = SS_CONNECTED;
    sock_changed(v, s);
    return 0;
}

static long connect_stream(struct vfs *v, struct ofd *f, struct vsock *s, const struct ep *dst)
{
    if (s->state == SS_LISTENING)
        return -EISCONN;
    if (s->state == SS_CONNECTED || s->rx_end) {
        if (s->connecting) { /* the completion of a non-blocking connect, seen once */
            s->connecting = 0;
            return 0;
        }
        return -EISCONN;
    }
    if (s->family == AF_INET6_ && ep_is_v4(dst) && s->opt.v6only)
        return -ENETUNREACH;
    struct ep to = *dst;
    if (ep_is_any(&to)) { /* connect(0.0.0.0) reaches the local host */
        if (ep_is_v4(&to))
            to.a[12] = 127, to.a[15] = 1;
        else
            to.a[15] = 1;
    }
    dst = &to;
    long r;
    if (!ep_is_local(dst)) {
        r = connect_outside(v, f, s, dst);
    } else {
        if ((r = sock_autobind(v, s, dst)) < 0)
            return r;
        struct vsock *l = inet_listener(v, s, dst);
        if (l) {
            r = connect_inside(v, f, s, l, dst);
        } else { /* an origin on loopback (a test's, a developer's) is reached where nothing of ours listens */
            r = connect_outside(v, f, s, dst);
            if (r == -ENETUNREACH)
                r = refused(f, s, -ECONNREFUSED);
        }
    }
    if (r == 0 && (f->flags & O_NONBLOCK)) {
        s->connecting = 1;
        return -EINPROGRESS; /* loopback's handshake completes after connect returns */
    }
    return r;
}

long vfs_connect(struct vfs *v, int fd, const void *addr, uint32_t len)
{
    struct ofd *f;
    struct vsock *s;
    long r = sock_fd(v, fd, &f, &s);
    if (r < 0)
        return r;
    if (len > VFS_SOCKADDR_MAX || (int)len < 0)
        return -EINVAL;
    if (!addr)
        return len ? -EFAULT : -EINVAL;
    if (len >= 2 && (((const uint8_t *)addr)[0] | ((const uint8_t *)addr)[1] << 8) == AF_UNSPEC_)
        return disconnect(v, s);
    if (s->family == AF_UNIX_)
        return connect_unix(v, f, s, addr, len);
    struct ep dst;
    if ((r = addr_parse(s, addr, len, &dst, 0)) < 0)
        return r;
    if (s->type == SOCK_DGRAM_)
        return connect_datagram(v, s, &dst);
    return connect_stream(v, f, s, &dst);
}

/* -- accept ----------------------------------------------------------------------------------- */

/* a browser's connection, from the Monitor: a socket connected to its channel */
static struct vsock *from_outside(struct vfs *v, struct vsock *l, int chan)
{
    struct vsock *s = sock_new(v, l->family, l->type, l->protocol);
    if (!s)
        return 0;
    s->opt = l->opt;
    s->chan = chan;
    s->state = SS_CONNECTED;
    struct ep local, peer;
    addr_ep(&l->local, &local);
    memset(&peer, 0, sizeof peer);
    peer.a[10] = peer.a[11] = 0xff, peer.a[12] = 127, peer.a[15] = 1; /* the Monitor, on this machine */
    peer.port = (uint16_t)(PORT_FIRST + (v->sh->next_port++ % (PORT_LAST - PORT_FIRST + 1)));
    if (ep_is_any(&local)) {
        uint16_t port = local.port;
        local = peer;
        local.port = port;
    }
    addr_make(s, &local, &s->local);
    addr_make(s, &peer, &s->remote);
    return s;
}

static struct vsock *next_connection(struct vfs *v, struct vsock *l, long *err)
{
    struct vsock *s = l->backlog;
    if (s) {
        l->backlog = s->queued_next;
        if (!l->backlog)
            l->backlog_tail = 0;
        l->backlog_len--;
        s->queued_next = 0;
        s->listener = 0;
        sock_changed(v, l); /* room in the backlog: a waiting connect goes on */
        return s;
    }
    *err = -EAGAIN;
    if (l == sock_outside_listener(v) && v->env.net_accept) {
        long chan = v->env.net_accept(v->env.ctx);
        if (chan >= 0) {
            if ((s = from_outside(v, l, (int)chan)))
                return s;
            if (v->env.chan_close)
                v->env.chan_close(v->env.ctx, (int)chan);
            *err = -ENOMEM;
        }
    }
    return 0;
}

long vfs_accept4(struct vfs *v, int fd, void *addr, uint32_t *len, int flags)
{
    struct ofd *f;
    struct vsock *l;
    long r = sock_fd(v, fd, &f, &l);
    if (r < 0)
        return r;
    if (flags & ~(SOCK_NONBLOCK_ | SOCK_CLOEXEC_))
        return -EINVAL;
    if (l->type == SOCK_DGRAM_)
        return -EOPNOTSUPP;
    if (l->state != SS_LISTENING)
        return -EINVAL;
    f->refs++; /* it may wait: held for the call */
    struct vsock *s;
    for (;;) {
        long err = 0;
        uint32_t seen = l->seq;
        if ((s = next_connection(v, l, &err)))
            break;
        if (err != -EAGAIN || (f->flags & O_NONBLOCK) || l->state != SS_LISTENING) {
            ofd_put(v, f);
            return l->state != SS_LISTENING ? -EINVAL : err;
        }
        if (l == sock_outside_listener(v) && v->env.net_wait)
            err = v->env.net_wait(v->env.ctx, VFS_CHAN_ACCEPT, POLLIN, &l->seq, seen);
        else if (v->env.wait)
            err = v->env.wait(v->env.ctx, &l->seq, seen);
        else
            err = -EAGAIN;
        if (err < 0) {
            ofd_put(v, f);
            return err;
        }
    }
    ofd_put(v, f);
    r = sock_install(v, s, flags);
    if (r < 0) { /* the connection is lost, as when the kernel cannot make the file */
        if (s->peer)
            s->peer->peer = 0, s->peer->reset = 1;
        if (s->chan >= 0 && v->env.chan_close)
            v->env.chan_close(v->env.ctx, s->chan);
        sock_put(v, s);
        return r;
    }
    if (addr && len) {
        if (s->family == AF_UNIX_ && !s->remote.len) {
            uint16_t fam = AF_UNIX_;
            memcpy(addr, &fam, 2);
            *len = 2;
        } else {
            memcpy(addr, s->remote.u.b, s->remote.len);
            *len = s->remote.len;
        }
    }
    return r;
}

/* -- names -------------------------------------------------------------------------------------- */

static void give_name(const struct vsock *s, const struct saddr *a, void *addr, uint32_t *len)
{
    if (a->len) {
        memcpy(addr, a->u.b, a->len);
        *len = a->len;
        return;
    }
    /* unbound: the family alone (AF_UNIX), or the wildcard and port 0 */
    struct saddr none;
    memset(&none, 0, sizeof none);
    if (s->family == AF_UNIX_) {
        none.u.family = AF_UNIX_;
        none.len = 2;
    } else {
        struct ep any;
        memset(&any, 0, sizeof any);
        if (s->family == AF_INET_)
            any.a[10] = any.a[11] = 0xff;
        addr_make(s, &any, &none);
    }
    memcpy(addr, none.u.b, none.len);
    *len = none.len;
}

long vfs_getsockname(struct vfs *v, int fd, void *addr, uint32_t *len)
{
    struct ofd *f;
    struct vsock *s;
    long r = sock_fd(v, fd, &f, &s);
    if (r < 0)
        return r;
    if (!addr || !len)
        return -EFAULT;
    give_name(s, &s->local, addr, len);
    return 0;
}

long vfs_getpeername(struct vfs *v, int fd, void *addr, uint32_t *len)
{
    struct ofd *f;
    struct vsock *s;
    long r = sock_fd(v, fd, &f, &s);
    if (r < 0)
        return r;
    if (!addr || !len)
        return -EFAULT;
    if (s->state != SS_CONNECTED || (s->type != SOCK_DGRAM_ && !s->peer && s->chan < 0 && s->family == AF_UNIX_))
        return -ENOTCONN;
    if (s->family == AF_UNIX_ && s->peer && s->type != SOCK_DGRAM_) {
        give_name(s, &s->peer->local, addr, len);
        return 0;
    }
    if (!s->remote.len && s->family != AF_UNIX_)
        return -ENOTCONN;
    give_name(s, &s->remote, addr, len);
    return 0;
}

/* -- shutdown ------------------------------------------------------------------------------------ */

long vfs_shutdown(struct vfs *v, int fd, int how)
{
    struct ofd *f;
    struct vsock *s;
    long r = sock_fd(v, fd, &f, &s);
    if (r < 0)
        return r;
    if (how < SHUT_RD_ || how > SHUT_RDWR_)
        return -EINVAL;
    uint8_t bits = (uint8_t)(how + 1); /* 1: reading, 2: writing */
    if (s->state == SS_LISTENING && sock_inet(s)) {
        if (bits & 1) { /* inet_shutdown: a listener shut for reading stops listening */
            s->state = SS_BOUND;
            sock_changed(v, s);
        }
        return 0;
    }
    if (s->state != SS_CONNECTED && !(s->family == AF_UNIX_ && s->type != SOCK_DGRAM_ && s->state == SS_LISTENING))
        return sock_inet(s) || s->type != SOCK_DGRAM_ ? -ENOTCONN : 0;
    s->shut |= bits;
    struct vsock *p = s->type == SOCK_DGRAM_ ? 0 : s->peer;
    if (p) {
        if (bits & 2)
            p->rx_end = 1;             /* end of file after what it has */
        if ((bits & 1) && s->family == AF_UNIX_)
            p->shut |= 2;              /* unix: the peer may write no more */
        sock_changed(v, p);
    }
    if ((bits & 2) && s->chan >= 0 && v->env.net_shutdown)
        v->env.net_shutdown(v->env.ctx, s->chan);
    sock_changed(v, s);
    return 0;
}

/* -- sendmsg, recvmsg ------------------------------------------------------------------------------ */

long vfs_sendmsg(struct vfs *v, int fd, const struct vfs_msghdr *m, int flags)
{
    struct ofd *f;
    struct vsock *s;
    long r = sock_fd(v, fd, &f, &s);
    if (r < 0)
        return r;
    if (!m || (m->iovlen && !m->iov))
        return -EFAULT;
    if (m->iovlen < 0 || m->iovlen > VFS_UIO_MAXIOV)
        return -EMSGSIZE;
    if (m->controllen)
        return sock_inet(s) ? -EINVAL : -EOPNOTSUPP; /* SCM_RIGHTS and SCM_CREDENTIALS are not passed */
    if (m->namelen > VFS_SOCKADDR_MAX)
        return -EINVAL;
    f->refs++;
    s->refs++;
    r = sock_send(v, f, m, flags);
    sock_put(v, s);
    ofd_put(v, f);
    return r;
}

long vfs_recvmsg(struct vfs *v, int fd, struct vfs_msghdr *m, int flags)
{
    struct ofd *f;
    struct vsock *s;
    long r = sock_fd(v, fd, &f, &s);
    if (r < 0)
        return r;
    if (!m || (m->iovlen && !m->iov))
        return -EFAULT;
    if (m->iovlen < 0 || m->iovlen > VFS_UIO_MAXIOV)
        return -EMSGSIZE;
    m->controllen = 0;
    f->refs++;
    s->refs++;
    r = sock_recv(v, f, m, flags & ~MSG_CMSG_CLOEXEC_);
    sock_put(v, s);
    ofd_put(v, f);
    return r;
}

/* -- the kind ------------------------------------------------------------------------------------- */

static long sock_read(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    struct vfs_iovec iov = {buf, n};
    struct vfs_msghdr m = {0, 0, &iov, 1, 0, 0, 0};
    if (!buf && n)
        return -EFAULT;
    struct vsock *s = sock_of_ofd(f);
    s->refs++;
    f->refs++;
    long r = sock_recv(v, f, &m, 0);
    ofd_put(v, f);
    sock_put(v, s);
    return r;
}

static long sock_write(struct vfs *v, struct ofd *f, const void *buf, size_t n)
{
    struct vfs_iovec iov = {(void *)buf, n};
    struct vfs_msghdr m = {0, 0, &iov, 1, 0, 0, 0};
    if (!buf && n)
        return -EFAULT;
    struct vsock *s = sock_of_ofd(f);
    s->refs++;
    f->refs++;
    long r = sock_send(v, f, &m, MSG_NOSIGNAL_);
    ofd_put(v, f);
    sock_put(v, s);
    return r;
}

static long sock_readv(struct vfs *v, struct ofd *f, const struct vfs_iovec *iov, int cnt, size_t total)
{
    (void)total;
    struct vfs_msghdr m = {0, 0, (struct vfs_iovec *)iov, cnt, 0, 0, 0};
    struct vsock *s = sock_of_ofd(f);
    s->refs++;
    f->refs++;
    long r = sock_recv(v, f, &m, 0);
    ofd_put(v, f);
    sock_put(v, s);
    return r;
}

static long sock_writev(struct vfs *v, struct ofd *f, const struct vfs_iovec *iov, int cnt, size_t total)
{
    (void)total;
    struct vfs_msghdr m = {0, 0, (struct vfs_iovec *)iov, cnt, 0, 0, 0};
    struct vsock *s = sock_of_ofd(f);
    s->refs++;
    f->refs++;
    long r = sock_send(v, f, &m, MSG_NOSIGNAL_);
    ofd_put(v, f);
    sock_put(v, s);
    return r;
}

static void sock_stat(struct vfs *v, struct ofd *f, struct vfs_stat *st)
{
    stream_stat_fill(v, st, sock_of_ofd(f)->ino, S_IFSOCK | 0777);
}

static uint32_t sock_poll(struct vfs *v, struct ofd *f, int *chan)
{
    return sock_poll_mask(v, sock_of_ofd(f), chan);
}

static uint32_t sock_events(struct vfs *v, struct ofd *f)
{
    (void)v;
    return sock_of_ofd(f)->seq;
}

/* FIONREAD (SIOCINQ): the bytes a receive would give now */
static long sock_ioctl(struct vfs *v, struct ofd *f, uint32_t cmd, uint64_t arg)
{
    (void)v;
    struct vsock *s = sock_of_ofd(f);
    if (cmd != FIONREAD_)
        return -ENOTTY;
    if (s->state == SS_LISTENING)
        return -EINVAL;
    int *out = (int *)(uintptr_t)arg;
    if (!out)
        return -EFAULT;
    *out = (int)(s->type == SOCK_STREAM_ ? s->len : s->mq ? s->mq->len : 0);
    return 0;
}

/* The listener goes: what waits in its backlog is reset, as the kernel resets embryos */
static void drop_backlog(struct vfs *v, struct vsock *s)
{
    while (s->backlog) {
        struct vsock *e = s->backlog;
        s->backlog = e->queued_next;
        e->queued_next = 0;
        e->listener = 0;
        if (e->peer) {
            e->peer->peer = 0;
            e->peer->reset = 1;
            sock_changed(v, e->peer);
        }
        e->peer = 0;
        sock_put(v, e);
    }
    s->backlog_tail = 0;
    s->backlog_len = 0;
}

/* the last description is gone: the socket closes (its memory goes once nothing refers to it) */
static void sock_release(struct vfs *v, struct ofd *f)
{
    struct vsock *s = sock_of_ofd(f);
    drop_backlog(v, s);
    struct vsock *p = s->peer;
    if (p && s->type != SOCK_DGRAM_) {
        p->peer = 0;
        if (s->len || s->mq)
            p->reset = 1;   /* gone with bytes unread: the peer's connection is reset */
        else
            p->rx_end = 1;  /* the peer reads to the end, then end of file */
        if (s->family == AF_UNIX_)
            p->shut = 3;
        sock_changed(v, p);
    } else if (p) {
        sock_put(v, p);     /* a datagram socket's hold on where it sends */
    }
    s->peer = 0;
    s->closed = 1;          /* datagram sockets connected to it learn it at their next send */
    if (s->chan >= 0 && v->env.chan_close)
        v->env.chan_close(v->env.ctx, s->chan);
    s->chan = -1;
    if (s->node)
        node_put(v, s->node);
    s->node = 0;
    s->state = SS_FREE;
    s->local.len = 0;
    sock_changed(v, s);
    sock_unlist(v, s);
    sock_put(v, s);
}

const struct vfs_file_ops vfs_sock_fops = {
    .read = sock_read,
    .write = sock_write,
    .readv = sock_readv,
    .writev = sock_writev,
    .stat = sock_stat,
    .poll = sock_poll,
    .events = sock_events,
    .ioctl = sock_ioctl,
    .release = sock_release,
};

long vfs_net_accepts(struct vfs *v, int on)
{
    if (!v)
        return -EINVAL;
    v->outside_accepts = on != 0;
    return 0;
}
