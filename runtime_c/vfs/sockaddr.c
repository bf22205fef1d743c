/* Socket addresses: what a program's sockaddr says (checked as Linux's bind and connect
 * check it), what getsockname and getpeername show, the ports and names bound inside the
 * picoprocess, and who listens or receives at an address.
 *
 * The picoprocess's machine has one network interface, loopback: its addresses are
 * 127.0.0.0/8 and ::1 (and the IPv4-mapped forms of the first on IPv6 sockets), and the
 * wildcards 0.0.0.0 and :: mean them.  Binding any other address is EADDRNOTAVAIL, as on a
 * host without that address.  Ports are per transport (stream sockets share one space,
 * datagram sockets another, as TCP and UDP do), claimed with Linux's rules: a port is
 * taken where the addresses overlap (a wildcard overlaps everything of its family, and an
 * IPv6 wildcard without IPV6_V6ONLY the IPv4 ones too), unless both sockets set
 * SO_REUSEPORT, or both set SO_REUSEADDR and neither listens.  Ports under 1024 need the
 * virtual user to be root (EACCES).  Ephemeral ports come from 32768-60999.
 *
 * AF_UNIX names are a path (the socket's file, made in the picoprocess's own files: a RAM
 * disk) or an abstract name (a leading NUL), each seen only by this picoprocess. */
#include "sock_int.h"

static const uint8_t V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int sock_inet(const struct vsock *s)
{
    return s->family == AF_INET_ || s->family == AF_INET6_;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

int ep_is_v4(const struct ep *ep)
{
    return memcmp(ep->a, V4_MAPPED, 12) == 0;
}

int ep_is_any(const struct ep *ep)
{
    static const uint8_t zero[16];
    if (ep_is_v4(ep))
        return memcmp(ep->a + 12, zero, 4) == 0;
    return memcmp(ep->a, zero, 16) == 0;
}

static int ep_is_loopback(const struct ep *ep)
{
    static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (ep_is_v4(ep))
        return ep->a[12] == 127;
    return memcmp(ep->a, one, 16) == 0;
}

int ep_is_local(const struct ep *ep)
{
    return ep_is_any(ep) || ep_is_loopback(ep);
}

/* The family's own checks (inet_bind, inet6_bind, tcp_v4_connect, ...): -EINVAL for a short
 * address, -EAFNOSUPPORT for another family (bind on IPv4 takes AF_UNSPEC with 0.0.0.0). */
long addr_parse(const struct vsock *s, const void *addr, uint32_t len, struct ep *ep, int for_bind)
{
    const uint8_t *a = addr;
    memset(ep, 0, sizeof *ep);
    if (s->family == AF_INET_) {
        if (len < 16)
            return -EINVAL;
        uint16_t fam = (uint16_t)(a[0] | a[1] << 8);
        int any = !(a[4] | a[5] | a[6] | a[7]);
        if (fam != AF_INET_ && !(for_bind && fam == AF_UNSPEC_ && any))
            return -EAFNOSUPPORT;
        memcpy(ep->a, V4_MAPPED, 12);
        memcpy(ep->a + 12, a + 4, 4);
        ep->port = be16(a + 2);
        return 0;
    }
    if (len < 24) /* SIN6_LEN_RFC2133: the scope id may be left out */
        return -EINVAL;
    if ((a[0] | a[1] << 8) != AF_INET6_)
        return -EAFNOSUPPORT;
    memcpy(ep->a, a + 8, 16);
    ep->port = be16(a + 2);
    return 0;
}

/* What getsockname shows of an endpoint: the socket's own family, IPv4 as mapped on IPv6 */
void addr_make(const struct vsock *s, const struct ep *ep, struct saddr *out)
{
    memset(out, 0, sizeof *out);
    uint8_t *b = out->u.b;
    b[2] = (uint8_t)(ep->port >> 8);
    b[3] = (uint8_t)ep->port;
    if (s->family == AF_INET_) {
        out->u.family = AF_INET_;
        memcpy(b + 4, ep->a + 12, 4);
        out->len = 16;
    } else {
        out->u.family = AF_INET6_;
        memcpy(b + 8, ep->a, 16);
        out->len = 28;
    }
}

void addr_ep(const struct saddr *a, struct ep *out)
{
    memset(out, 0, sizeof *out);
    out->port = be16(a->u.b + 2);
    if (a->u.family == AF_INET_) {
        memcpy(out->a, V4_MAPPED, 12);
        memcpy(out->a + 12, a->u.b + 4, 4);
    } else if (a->u.family == AF_INET6_) {
        memcpy(out->a, a->u.b + 8, 16);
    }
}

/* -- ports ------------------------------------------------------------------------ */

/* TCP's and UDP's port spaces */
static int same_space(const struct vsock *a, const struct vsock *b)
{
    return (a->type == SOCK_DGRAM_) == (b->type == SOCK_DGRAM_);
}

/* which destinations a bound address takes: IPv4 ones (IPv4 sockets, mapped addresses and
 * an IPv6 wildcard without IPV6_V6ONLY), IPv6 ones (IPv6 sockets' own addresses) */
static int takes_v4(const struct vsock *s, const struct ep *a)
{
    return s->family == AF_INET_ || ep_is_v4(a) || (ep_is_any(a) && !s->opt.v6only);
}

static int takes_v6(const struct vsock *s, const struct ep *a)
{
    return s->family == AF_INET6_ && !ep_is_v4(a);
}

/* whether two bound internet sockets' addresses overlap: a common kind of destination,
 * and the same address or a wildcard */
static int overlaps(const struct vsock *s, const struct ep *a, const struct vsock *t, const struct ep *b)
{
    int common = (takes_v4(s, a) && takes_v4(t, b)) || (takes_v6(s, a) && takes_v6(t, b));
    return common && (ep_is_any(a) || ep_is_any(b) || memcmp(a->a, b->a, 16) == 0);
}

static int port_taken(struct vfs *v, const struct vsock *s, const struct ep *ep)
{
    for (struct vsock *t = v->sh->socks; t; t = t->next) {
        if (t == s || !sock_inet(t) || !t->local.len || !same_space(s, t))
            continue;
        struct ep b;
        addr_ep(&t->local, &b);
        if (b.port != ep->port || !overlaps(s, ep, t, &b))
            continue;
        if (s->opt.reuseport && t->opt.reuseport)
            continue;
        if (s->opt.reuseaddr && t->opt.reuseaddr && t->state != SS_LISTENING && s->state != SS_LISTENING)
            continue;
        return 1;
    }
    return 0;
}

long port_claim(struct vfs *v, struct vsock *s, struct ep *ep)
{
    if (ep->port) {
        if (ep->port < PORT_PRIVILEGED && v->uid != 0)
            return -EACCES;
        return port_taken(v, s, ep) ? -EADDRINUSE : 0;
    }
    uint32_t span = PORT_LAST - PORT_FIRST + 1;
    for (uint32_t i = 0; i < span; i++) {
        ep->port = (uint16_t)(PORT_FIRST + (v->sh->next_port++ % span));
        if (!port_taken(v, s, ep))
            return 0;
    }
    ep->port = 0;
    return -EADDRINUSE; /* the kernel's answer when the ephemeral range is used up */
}

long sock_autobind(struct vfs *v, struct vsock *s, const struct ep *toward)
{
    if (s->local.len)
        return 0;
    if (!sock_inet(s))
        return 0; /* AF_UNIX stays unnamed (autobind is asked for with bind) */
    struct ep ep;
    memset(&ep, 0, sizeof ep);
    if (s->family == AF_INET_ || (toward && ep_is_v4(toward)))
        memcpy(ep.a, V4_MAPPED, 12);
    if (toward) { /* the loopback source the route toward a local address gives */
        if (ep_is_v4(&ep))
            ep.a[12] = 127, ep.a[15] = 1;
        else
            ep.a[15] = 1;
    }
    long r = port_claim(v, s, &ep);
    if (r < 0)
        return r;
    addr_make(s, &ep, &s->local);
    s->autobound = 1;
    if (s->state == SS_FREE)
        s->state = SS_BOUND;
    return 0;
}

/* -- who is there ---------------------------------------------------------------------- */

/* whether t, bound at its local address, takes what is sent to dst (the wildcards 0.0.0.0
 * and :: as destinations mean loopback) */
static int receives_at(const struct vsock *t, const struct ep *dst)
{
    struct ep b;
    addr_ep(&t->local, &b);
    if (b.port != dst->port || !(ep_is_v4(dst) ? takes_v4(t, &b) : takes_v6(t, &b)))
        return 0;
    if (ep_is_any(&b))
        return 1;
    struct ep d = *dst;
    if (ep_is_any(&d)) { /* connect(0.0.0.0) reaches the local host */
        if (ep_is_v4(&d))
            d.a[12] = 127, d.a[15] = 1;
        else
            d.a[15] = 1;
    }
    return memcmp(b.a, d.a, 16) == 0;
}

struct vsock *inet_listener(struct vfs *v, const struct vsock *s, const struct ep *dst)
{
    for (struct vsock *t = v->sh->socks; t; t = t->next)
        if (sock_inet(t) && t->state == SS_LISTENING && t->type == s->type && receives_at(t, dst))
            return t;
    return 0;
}

struct vsock *inet_receiver(struct vfs *v, const struct vsock *s, const struct ep *dst)
{
    for (struct vsock *t = v->sh->socks; t; t = t->next)
        if (sock_inet(t) && t->type == SOCK_DGRAM_ && t->family == s->family && t->local.len && receives_at(t, dst))
            return t;
    return 0;
}

struct vsock *sock_outside_listener(struct vfs *v)
{
    if (!v->outside_accepts)
        return 0;
    struct vsock *first = 0;
    for (struct vsock *t = v->sh->socks; t; t = t->next)
        if (sock_inet(t) && t->state == SS_LISTENING && (!first || t->listen_order < first->listen_order))
            first = t;
    return first;
}

/* -- AF_UNIX names ------------------------------------------------------------------------ */

/* unix_validate_addr and unix_mkname_bsd: a path's name is stored up to its NUL, with it */
long unix_name(const void *addr, uint32_t len, struct saddr *out)
{
    const uint8_t *a = addr;
    if (len <= 2 || len > 2 + UNIX_PATH_MAX_ || (a[0] | a[1] << 8) != AF_UNIX_)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    memcpy(out->u.b, a, len);
    if (a[2]) {
        uint32_t n = 0;
        while (2 + n < len && a[2 + n])
            n++;
        out->u.b[2 + n] = 0;
        out->len = 2 + n + 1;
    } else {
        out->len = len;
    }
    return 0;
}

static int abstract_taken(struct vfs *v, const struct vsock *s, const struct saddr *name)
{
    for (struct vsock *t = v->sh->socks; t; t = t->next)
        if (t != s && t->family == AF_UNIX_ && t->owns_name && t->type == s->type && t->local.len == name->len &&
            t->local.u.b[2] == 0 && memcmp(t->local.u.b, name->u.b, name->len) == 0)
            return 1;
    return 0;
}

long unix_bind(struct vfs *v, struct vsock *s, struct saddr *name)
{
    if (name->u.b[2] == 0) {
        if (abstract_taken(v, s, name))
            return -EADDRINUSE;
        s->local = *name;
        s->owns_name = 1;
        return 0;
    }
    char path[UNIX_PATH_MAX_ + 1];
    memcpy(path, name->u.b + 2, name->len - 2); /* with its NUL */
    struct vnode *n;
    long r = vfs_make_node(v, AT_FDCWD, path, S_IFSOCK | (0777 & ~v->umask), &n);
    if (r < 0)
        return r == -EEXIST ? -EADDRINUSE : r;
    node_get(n);
    s->node = n;
    s->local = *name;
    s->owns_name = 1;
    return 0;
}

/* unix_autobind: an abstract name of five hex digits */
long unix_autobind(struct vfs *v, struct vsock *s)
{
    static const char hex[] = "0123456789abcdef";
    for (uint32_t tries = 0; tries < 0x100000; tries++) {
        struct saddr name;
        memset(&name, 0, sizeof name);
        name.u.family = AF_UNIX_;
        uint32_t k = v->sh->next_autobind++ & 0xfffff;
        for (int i = 0; i < 5; i++)
            name.u.b[3 + i] = (uint8_t)hex[(k >> (4 * (4 - i))) & 0xf];
        name.len = 8;
        if (!abstract_taken(v, s, &name)) {
            s->local = name;
            s->owns_name = 1;
            return 0;
        }
    }
    return -ENOSPC;
}

/* unix_find_other: the abstract name's socket of the same type, or the path's (walked as
 * connect walks it: its errors, write permission, a socket file, the same type) */
long unix_lookup(struct vfs *v, const struct vsock *s, const struct saddr *name, struct vsock **out)
{
    if (name->u.b[2] == 0) {
        for (struct vsock *t = v->sh->socks; t; t = t->next)
            if (t->family == AF_UNIX_ && t->owns_name && t->type == s->type && t->local.len == name->len &&
                memcmp(t->local.u.b, name->u.b, name->len) == 0) {
                *out = t;
                return 0;
            }
        return -ECONNREFUSED;
    }
    char path[UNIX_PATH_MAX_ + 1];
    memcpy(path, name->u.b + 2, name->len - 2);
    struct walk w;
    long r = vfs_walk(v, AT_FDCWD, path, W_FOLLOW, &w);
    if (r < 0)
        return r;
    r = vfs_permission(v, w.node, MAY_W);
    if (r < 0)
        return r;
    if ((w.node->mode & S_IFMT) != S_IFSOCK)
        return -ECONNREFUSED;
    for (struct vsock *t = v->sh->socks; t; t = t->next)
        if (t->family == AF_UNIX_ && t->owns_name && t->node == w.node) {
            if (t->type != s->type)
                return -EPROTOTYPE;
            *out = t;
            return 0;
        }
    return -ECONNREFUSED;
}
