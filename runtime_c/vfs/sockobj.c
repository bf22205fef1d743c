/* The socket object (struct vsock, sock_int.h): its life — made, listed in the vfs's sockets,
 * referred to (a description, a datagram peer, a call that waits), unlisted when it closes,
 * freed when nothing refers to it — its word of changes, and what a fresh one's options read. */
#include "sock_int.h"

struct vsock *sock_new(struct vfs *v, int family, int type, int protocol)
{
    struct vsock *s = vmem_zalloc(v, sizeof *s);
    if (!s)
        return 0;
    s->family = (uint16_t)family;
    s->type = (uint16_t)type;
    s->protocol = (uint16_t)protocol;
    s->chan = -1;
    s->refs = 1;
    s->ino = v->sh->next_ino++;
    sockopt_defaults(s);
    s->next = v->sh->socks;
    if (v->sh->socks)
        v->sh->socks->prev = s;
    v->sh->socks = s;
    return s;
}

/* a socket leaves the names and listeners others find (it is closed), its memory stays
 * while anything refers to it */
void sock_unlist(struct vfs *v, struct vsock *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else if (v->sh->socks == s)
        v->sh->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = 0;
}

void sock_put(struct vfs *v, struct vsock *s)
{
    if (!s || --s->refs)
        return;
    sock_unlist(v, s);
    sock_drop_data(v, s);
    vmem_free(v, s, sizeof *s);
}

void sock_changed(struct vfs *v, struct vsock *s)
{
    s->seq++;
    if (v->env.wake)
        v->env.wake(v->env.ctx, &s->seq);
}

/* what a socket holds of data, freed when it goes */
void sock_drop_data(struct vfs *v, struct vsock *s)
{
    if (s->ring)
        vmem_free(v, s->ring, s->cap);
    s->ring = 0;
    s->len = s->head = s->cap = 0;
    while (s->mq) {
        struct vmsg *m = s->mq;
        s->mq = m->next;
        vmem_free(v, m, sizeof *m + m->len);
    }
    s->mq_tail = 0;
    s->mq_bytes = 0;
}

/* Linux's defaults on a machine with default sysctls: TCP's buffers 16384 and 131072, the
 * others' 212992 (net.core.[rw]mem_default); TCP_MAXSEG 536 before a connection, the
 * keepalive timers 7200, 75 and 9, TTL and hop limit 64 */
void sockopt_defaults(struct vsock *s)
{
    struct sockopts *o = &s->opt;
    memset(o, 0, sizeof *o);
    int tcp = sock_inet(s) && s->type == SOCK_STREAM_;
    o->sndbuf = tcp ? 16384 : SOCK_BUF_MAX;
    o->rcvbuf = tcp ? 131072 : SOCK_BUF_MAX;
    o->rcvlowat = o->sndlowat = 1;
    o->maxseg = 536;
    o->keepidle = 7200;
    o->keepintvl = 75;
    o->keepcnt = 9;
    o->ttl = 64;
    o->unicast_hops = 64;
    o->mtu_discover = s->type == SOCK_STREAM_ ? 1 : 0; /* IP_PMTUDISC_WANT for TCP, DONT for UDP */
}

