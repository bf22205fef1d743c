/* setsockopt and getsockopt: every option a program sets is kept and read back as Linux reads
 * it back (booleans as 0 or 1, buffer sizes doubled and clamped, SO_LINGER and the timeouts as
 * their structs), with Linux's checks of levels, lengths and values.  Most change nothing
 * here (TCP_NODELAY, SO_KEEPALIVE, IP_TOS: there is no wire); those that do: SO_REUSEADDR
 * and SO_REUSEPORT (sockaddr.c's port rules), IPV6_V6ONLY (which addresses a socket takes),
 * SO_RCVBUF (a datagram queue's bound).  The read-only ones answer from the socket:
 * SO_TYPE, SO_PROTOCOL, SO_DOMAIN, SO_ACCEPTCONN, SO_ERROR (reported once), SO_PEERCRED.
 *
 * The numbers a fresh socket reads are Linux's defaults on a machine with default sysctls:
 * TCP's buffers 16384 and 131072, the others' 212992, net.core.[rw]mem_max 212992. */
#include "sock_int.h"

/* levels and names, <asm-generic/socket.h>, <netinet/tcp.h>, <linux/in.h>, <linux/in6.h> */
#define SO_DEBUG 1
#define SO_REUSEADDR 2
#define SO_TYPE 3
#define SO_ERROR 4
#define SO_DONTROUTE 5
#define SO_BROADCAST 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_OOBINLINE 10
#define SO_PRIORITY 12
#define SO_LINGER 13
#define SO_REUSEPORT 15
#define SO_PASSCRED 16
#define SO_PEERCRED 17
#define SO_RCVLOWAT 18
#define SO_SNDLOWAT 19
#define SO_RCVTIMEO 20
#define SO_SNDTIMEO 21
#define SO_TIMESTAMP 29
#define SO_ACCEPTCONN 30
#define SO_SNDBUFFORCE 32
#define SO_RCVBUFFORCE 33
#define SO_MARK 36
#define SO_PROTOCOL 38
#define SO_DOMAIN 39
#define TCP_NODELAY 1
#define TCP_MAXSEG 2
#define TCP_CORK 3
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_DEFER_ACCEPT 9
#define TCP_QUICKACK 12
#define TCP_USER_TIMEOUT 18
#define TCP_FASTOPEN 23
#define IP_TOS 1
#define IP_TTL 2
#define IP_MTU_DISCOVER 10
#define IP_RECVERR 11
#define IP_PKTINFO 8
#define IPV6_UNICAST_HOPS 16
#define IPV6_V6ONLY 26
#define IPV6_RECVERR 25
#define IPV6_TCLASS 67
#define IPV6_RECVPKTINFO 49

#define SNDBUF_MIN 4608         /* SOCK_MIN_SNDBUF */
#define RCVBUF_MIN 2304         /* SOCK_MIN_RCVBUF */
#define INT_MAX_ 0x7fffffff

enum { O_BOOL, O_INT, O_BUF, O_LINGER, O_TIME, O_RO };

struct opt {
    int level, name, kind;
    int *(*field)(struct sockopts *o);
};

#define FIELD(f)                                                                                                     \
    static int *f_##f(struct sockopts *o) { return &o->f; }
FIELD(reuseaddr) FIELD(reuseport) FIELD(keepalive) FIELD(broadcast) FIELD(oobinline) FIELD(dontroute)
FIELD(passcred) FIELD(timestamp) FIELD(sndbuf) FIELD(rcvbuf) FIELD(rcvlowat) FIELD(sndlowat) FIELD(priority)
FIELD(nodelay) FIELD(cork) FIELD(maxseg) FIELD(keepidle) FIELD(keepintvl) FIELD(keepcnt) FIELD(quickack)
FIELD(defer_accept) FIELD(user_timeout) FIELD(fastopen) FIELD(tos) FIELD(ttl) FIELD(v6only) FIELD(unicast_hops)
FIELD(tclass) FIELD(recverr) FIELD(pktinfo) FIELD(mtu_discover)
static int debug_unused;
static int *f_debug(struct sockopts *o) { (void)o; return &debug_unused; }

static const struct opt OPTS[] = {
    {SOL_SOCKET_, SO_DEBUG, O_BOOL, f_debug},
    {SOL_SOCKET_, SO_REUSEADDR, O_BOOL, f_reuseaddr},
    {SOL_SOCKET_, SO_REUSEPORT, O_BOOL, f_reuseport},
    {SOL_SOCKET_, SO_KEEPALIVE, O_BOOL, f_keepalive},
    {SOL_SOCKET_, SO_BROADCAST, O_BOOL, f_broadcast},
    {SOL_SOCKET_, SO_OOBINLINE, O_BOOL, f_oobinline},
    {SOL_SOCKET_, SO_DONTROUTE, O_BOOL, f_dontroute},
    {SOL_SOCKET_, SO_PASSCRED, O_BOOL, f_passcred},
    {SOL_SOCKET_, SO_TIMESTAMP, O_BOOL, f_timestamp},
    {SOL_SOCKET_, SO_SNDBUF, O_BUF, f_sndbuf},
    {SOL_SOCKET_, SO_RCVBUF, O_BUF, f_rcvbuf},
    {SOL_SOCKET_, SO_RCVLOWAT, O_INT, f_rcvlowat},
    {SOL_SOCKET_, SO_SNDLOWAT, O_RO, f_sndlowat},
    {SOL_SOCKET_, SO_PRIORITY, O_INT, f_priority},
    {SOL_SOCKET_, SO_LINGER, O_LINGER, 0},
    {SOL_SOCKET_, SO_RCVTIMEO, O_TIME, 0},
    {SOL_SOCKET_, SO_SNDTIMEO, O_TIME, 0},
    {IPPROTO_TCP_, TCP_NODELAY, O_BOOL, f_nodelay},
    {IPPROTO_TCP_, TCP_CORK, O_BOOL, f_cork},
    {IPPROTO_TCP_, TCP_QUICKACK, O_BOOL, f_quickack},
    {IPPROTO_TCP_, TCP_MAXSEG, O_INT, f_maxseg},
    {IPPROTO_TCP_, TCP_KEEPIDLE, O_INT, f_keepidle},
    {IPPROTO_TCP_, TCP_KEEPINTVL, O_INT, f_keepintvl},
    {IPPROTO_TCP_, TCP_KEEPCNT, O_INT, f_keepcnt},
    {IPPROTO_TCP_, TCP_DEFER_ACCEPT, O_INT, f_defer_accept},
    {IPPROTO_TCP_, TCP_USER_TIMEOUT, O_INT, f_user_timeout},
    {IPPROTO_TCP_, TCP_FASTOPEN, O_INT, f_fastopen},
    {IPPROTO_IP_, IP_TOS, O_INT, f_tos},
    {IPPROTO_IP_, IP_TTL, O_INT, f_ttl},
    {IPPROTO_IP_, IP_RECVERR, O_BOOL, f_recverr},
    {IPPROTO_IP_, IP_PKTINFO, O_BOOL, f_pktinfo},
    {IPPROTO_IP_, IP_MTU_DISCOVER, O_INT, f_mtu_discover},
    {IPPROTO_IPV6_, IPV6_V6ONLY, O_BOOL, f_v6only},
    {IPPROTO_IPV6_, IPV6_UNICAST_HOPS, O_INT, f_unicast_hops},
    {IPPROTO_IPV6_, IPV6_TCLASS, O_INT, f_tclass},
    {IPPROTO_IPV6_, IPV6_RECVERR, O_BOOL, f_recverr},
    {IPPROTO_IPV6_, IPV6_RECVPKTINFO, O_BOOL, f_pktinfo},
};

/* Which levels a socket answers, as Linux routes them: SOL_SOCKET always; TCP for
 * internet streams; IP for internet sockets; IPV6 for IPv6 sockets.  A unix socket has no
 * option of its own (EOPNOTSUPP); an internet socket's unknown level is ENOPROTOOPT when
 * set, and when read EOPNOTSUPP on IPv4 (ip_getsockopt), ENOPROTOOPT on IPv6. */
static long level_ok(const struct vsock *s, int level, int get)
{
    if (level == SOL_SOCKET_)
        return 0;
    if (s->family == AF_UNIX_)
        return -EOPNOTSUPP;
    if ((level == IPPROTO_TCP_ && s->type == SOCK_STREAM_) || level == IPPROTO_IP_ ||
        (level == IPPROTO_IPV6_ && s->family == AF_INET6_))
        return 0;
    return get && s->family == AF_INET_ ? -EOPNOTSUPP : -ENOPROTOOPT;
}

static const struct opt *find(int level, int name)
{
    for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++)
        if (OPTS[i].level == level && OPTS[i].name == name)
            return &OPTS[i];
    return 0;
}

/* struct __kernel_old_timeval */
struct k_timeval {
    int64_t sec, usec;
};

static long set_time(struct vsock *s, int name, const void *val, uint32_t len)
{
    struct k_timeval tv;
    if (len < sizeof tv)
        return -EINVAL;
    memcpy(&tv, val, sizeof tv);
    if (tv.usec < 0 || tv.usec >= 1000000)
        return -EDOM;
    if (tv.sec < 0)
        tv.sec = tv.usec = 0; /* a negative timeout: none */
    if (name == SO_RCVTIMEO)
        s->opt.rcvtimeo.sec = tv.sec, s->opt.rcvtimeo.usec = tv.usec;
    else
        s->opt.sndtimeo.sec = tv.sec, s->opt.sndtimeo.usec = tv.usec;
    return 0;
}

static long set_one(struct vfs *v, struct vsock *s, const struct opt *o, const void *val, uint32_t len)
{
    if (o->kind == O_TIME)
        return set_time(s, o->name, val, len);
    if (o->kind == O_LINGER) {
        int l[2];
        if (len < sizeof l)
            return -EINVAL;
        memcpy(l, val, sizeof l);
        s->opt.linger.onoff = l[0] != 0;
        s->opt.linger.linger = l[0] ? l[1] : s->opt.linger.linger;
        return 0;
    }
    int x;
    if (len >= sizeof x)
        memcpy(&x, val, sizeof x);
    else if (len >= 1 && o->level == IPPROTO_IP_)
        x = *(const uint8_t *)val; /* ip_setsockopt takes a byte */
    else
        return -EINVAL;
    if (o->kind == O_RO)
        return -ENOPROTOOPT; /* SO_SNDLOWAT: Linux refuses to set it */
    if (o->level == SOL_SOCKET_ && o->name == SO_REUSEPORT && x && !sock_inet(s))
        return -EOPNOTSUPP;
    int *field = o->field(&s->opt);
    switch (o->kind) {
    case O_BOOL:
        *field = x != 0;
        break;
    case O_BUF:
        if (x > SOCK_BUF_MAX)
            x = SOCK_BUF_MAX;
        if (x < 0)
            x = 0;
        *field = x * 2 > (o->name == SO_SNDBUF ? SNDBUF_MIN : RCVBUF_MIN)
                     ? x * 2 : (o->name == SO_SNDBUF ? SNDBUF_MIN : RCVBUF_MIN);
        break;
    default:
        if (o->level == SOL_SOCKET_ && o->name == SO_RCVLOWAT) {
            if (x < 0)
                x = INT_MAX_;
            if (sock_inet(s) && s->type == SOCK_STREAM_ && x > s->opt.rcvbuf >> 1)
                x = s->opt.rcvbuf >> 1; /* tcp_set_rcvlowat: at most half the receive buffer */
            if (x == 0)
                x = 1;
        }
        if (o->level == SOL_SOCKET_ && o->name == SO_PRIORITY && (x < 0 || x > 6) && v->uid != 0)
            return -EPERM;
        if (o->level == IPPROTO_TCP_ && o->name == TCP_MAXSEG && (x < 88 || x > 32767) && x != 0)
            return -EINVAL;
        if (o->level == IPPROTO_TCP_ && (o->name == TCP_KEEPIDLE || o->name == TCP_KEEPINTVL) &&
            (x < 1 || x > 32767))
            return -EINVAL;
        if (o->level == IPPROTO_TCP_ && o->name == TCP_KEEPCNT && (x < 1 || x > 127))
            return -EINVAL;
        if (o->level == IPPROTO_IP_ && o->name == IP_TTL) {
            if (x == -1)
                x = 64;
            if (x < 1 || x > 255)
                return -EINVAL;
        }
        if (o->level == IPPROTO_IPV6_ && o->name == IPV6_UNICAST_HOPS) {
            if (x == -1)
                x = 64;
            if (x < -1 || x > 255)
                return -EINVAL;
        }
        if (o->level == IPPROTO_IP_ && o->name == IP_TOS)
            x &= s->type == SOCK_STREAM_ ? 0xfc : 0xff; /* TCP keeps the ECN bits its own */
        *field = x;
    }
    return 0;
}

long vfs_setsockopt(struct vfs *v, int fd, int level, int name, const void *val, uint32_t len)
{
    struct ofd *f;
    struct vsock *s;
    long r = sock_fd(v, fd, &f, &s);
    if (r < 0)
        return r;
    if ((r = level_ok(s, level, 0)) < 0)
        return r;
    if ((int)len < 0)
        return -EINVAL;
    if (level == SOL_SOCKET_ && (name == SO_SNDBUFFORCE || name == SO_RCVBUFFORCE || name == SO_MARK))
        return -EPERM; /* CAP_NET_ADMIN: nobody here has it */
    const struct opt *o = find(level, name);
    if (!o)
        return -ENOPROTOOPT;
    if (len && !val)
        return -EFAULT;
    if (o->level == IPPROTO_IPV6_ && o->name == IPV6_V6ONLY && s->local.len && !s->autobound)
        return -EINVAL; /* only before bind */
    return set_one(v, s, o, val, len);
}

/* the answer's bytes for a read-only option; 0 with *n, or -ENOPROTOOPT */
static long read_only(struct vfs *v, struct vsock *s, int name, void *buf, uint32_t *n)
{
    int x;
    switch (name) {
    case SO_TYPE:
        x = s->type;
        break;
    case SO_PROTOCOL:
        x = s->protocol;
        break;
    case SO_DOMAIN:
        x = s->family;
        break;
    case SO_ACCEPTCONN:
        x = s->state == SS_LISTENING;
        break;
    case SO_ERROR:
        x = s->err;
        s->err = 0;
        break;
    case SO_PEERCRED: {
        /* struct ucred of the peer: the picoprocess itself, for a unix socket connected
         * inside it; nobody otherwise */
        int cred[3] = {0, -1, -1};
        if (s->family == AF_UNIX_ && s->peer)
            cred[0] = 0, cred[1] = (int)v->uid, cred[2] = (int)v->gid;
        memcpy(buf, cred, sizeof cred);
        *n = sizeof cred;
        return 0;
    }
    default:
        return -ENOPROTOOPT;
    }
    memcpy(buf, &x, sizeof x);
    *n = sizeof x;
    return 0;
}

static long answer(struct vfs *v, struct vsock *s, const struct opt *o, int level, int name, void *buf, uint32_t *n)
{
    if (!o)
        return level == SOL_SOCKET_ ? read_only(v, s, name, buf, n) : -ENOPROTOOPT;
    if (o->kind == O_TIME) {
        struct k_timeval tv;
        tv.sec = name == SO_RCVTIMEO ? s->opt.rcvtimeo.sec : s->opt.sndtimeo.sec;
        tv.usec = name == SO_RCVTIMEO ? s->opt.rcvtimeo.usec : s->opt.sndtimeo.usec;
        memcpy(buf, &tv, sizeof tv);
        *n = sizeof tv;
        return 0;
    }
    if (o->kind == O_LINGER) {
        int l[2] = {s->opt.linger.onoff, s->opt.linger.linger};
        memcpy(buf, l, sizeof l);
        *n = sizeof l;
        return 0;
    }
    int x = *o->field(&s->opt);
    if (level == IPPROTO_TCP_ && name == TCP_MAXSEG && s->state == SS_CONNECTED)
        x = 65483; /* the loopback interface's MSS */
    memcpy(buf, &x, sizeof x);
    *n = sizeof x;
    return 0;
}

long vfs_getsockopt(struct vfs *v, int fd, int level, int name, void *val, uint32_t *len)
{
    struct ofd *f;
    struct vsock *s;
    long r = sock_fd(v, fd, &f, &s);
    if (r < 0)
        return r;
    if ((r = level_ok(s, level, 1)) < 0)
        return r;
    if (!len)
        return -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    uint8_t buf[16];
    uint32_t n = 0;
    r = answer(v, s, find(level, name), level, name, buf, &n);
    if (r < 0)
        return r;
    uint32_t give = *len < n ? *len : n;
    if (level == IPPROTO_IP_ && *len < sizeof(int) && *len > 0 && n == sizeof(int)) {
        int x;
        memcpy(&x, buf, sizeof x);
        if (x >= 0 && x <= 255) { /* ip_getsockopt: a byte for a short buffer */
            buf[0] = (uint8_t)x;
            give = 1;
        }
    }
    if (give && !val)
        return -EFAULT;
    memcpy(val, buf, give);
    *len = give;
    return 0;
}
