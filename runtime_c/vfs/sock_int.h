/* Sockets inside the picoprocess: what the socket files share (sock.c, sockaddr.c, sockio.c,
 * sockopt.c).  Nothing here is ever a host socket (DESIGN.md invariant 10): a socket is a
 * struct vsock in the vfs's memory, and it reaches out of the picoprocess only through a
 * channel the Monitor hands over — a browser connection (env.net_accept) or a connection to
 * the image's origin (env.net_connect).
 *
 *   sock.c      the kind (vfs_sock_fops) and the calls: socket, socketpair, bind, listen,
 *               accept4, connect, shutdown, getsockname, getpeername, sendmsg, recvmsg
 *   sockobj.c   the socket object's life (made, referred to, closed, freed) and defaults
 *   sockaddr.c  addresses: parsing and showing them per family, which are this machine's
 *               (loopback only), ports, the names bound in the picoprocess, and who listens
 *   sockio.c    the bytes: a stream's ring, a message queue (datagrams, seqpackets), a
 *               channel's reads and writes, readiness
 *   sockopt.c   setsockopt and getsockopt: every option kept and read back as Linux does
 *
 * Three transports stand behind a connected socket, chosen when it connects:
 *   - a peer in the picoprocess (s->peer): bytes go into the peer's ring or message queue;
 *   - a channel (s->chan >= 0): the Monitor's, read and written with env.net_read/write;
 *   - none (unconnected datagram sockets: each message names its destination). */
#ifndef XAX_VFS_SOCK_INT_H
#define XAX_VFS_SOCK_INT_H

#include "vfs_int.h"

/* <sys/socket.h>, <netinet/in.h>: the kernel's uapi headers do not export these */
#define AF_UNSPEC_ 0
#define AF_UNIX_ 1
#define AF_INET_ 2
#define AF_INET6_ 10
#define SOCK_STREAM_ 1
#define SOCK_DGRAM_ 2
#define SOCK_RAW_ 3
#define SOCK_SEQPACKET_ 5
#define SOCK_TYPE_MASK_ 0xf
#define SOCK_NONBLOCK_ 04000
#define SOCK_CLOEXEC_ 02000000
#define IPPROTO_IP_ 0
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_IPV6_ 41
#define MSG_OOB_ 0x1
#define MSG_PEEK_ 0x2
#define MSG_DONTROUTE_ 0x4
#define MSG_CTRUNC_ 0x8
#define MSG_TRUNC_ 0x20
#define MSG_DONTWAIT_ 0x40
#define MSG_EOR_ 0x80
#define MSG_WAITALL_ 0x100
#define MSG_NOSIGNAL_ 0x4000
#define MSG_MORE_ 0x8000
#define MSG_CMSG_CLOEXEC_ 0x40000000
#define SHUT_RD_ 0
#define SHUT_WR_ 1
#define SHUT_RDWR_ 2
#define SOL_SOCKET_ 1
#define SCM_RIGHTS_ 1
#define UNIX_PATH_MAX_ 108
#define SOCKADDR_MAX 128        /* struct sockaddr_storage */
#define SOCK_LISTEN_MAX 4096    /* net.core.somaxconn */
#define PORT_FIRST 32768        /* net.ipv4.ip_local_port_range */
#define PORT_LAST 60999
#define PORT_PRIVILEGED 1024    /* net.ipv4.ip_unprivileged_port_start */
#define SOCK_BUF_MAX 212992     /* net.core.[rw]mem_max and _default */

/* An address as the socket calls take and give it (a struct sockaddr_storage) */
struct saddr {
    uint32_t len;               /* 0: none */
    union {
        uint16_t family;
        uint8_t b[SOCKADDR_MAX];
    } u;
};

/* An internet endpoint, whatever the family: IPv4 as an IPv4-mapped IPv6 address */
struct ep {
    uint8_t a[16];
    uint16_t port;              /* host order */
};

/* One message of a datagram or seqpacket socket's queue */
struct vmsg {
    struct vmsg *next;
    size_t len;
    struct saddr from;
    uint8_t data[];
};

/* What setsockopt keeps (sockopt.c): what getsockopt reads back */
struct sockopts {
    int reuseaddr, reuseport, keepalive, broadcast, oobinline, dontroute, passcred, timestamp;
    int sndbuf, rcvbuf, rcvlowat, sndlowat, priority, mark;
    struct { int onoff, linger; } linger;
    struct { int64_t sec, usec; } rcvtimeo, sndtimeo;
    /* IPPROTO_TCP */
    int nodelay, cork, maxseg, keepidle, keepintvl, keepcnt, quickack, defer_accept, user_timeout, fastopen;
    /* IPPROTO_IP, IPPROTO_IPV6 */
    int tos, ttl, v6only, unicast_hops, tclass, recverr, pktinfo, mtu_discover;
};

enum { SS_FREE, SS_BOUND, SS_LISTENING, SS_CONNECTED };

struct vsock {
    struct vsock *next, *prev;  /* every socket of the vfs (v->sh->socks): bound names, listeners */
    uint16_t family, type, protocol;
    uint8_t state;              /* SS_* (bound or not: local.len) */
    uint8_t shut;               /* 1: no more reading (SHUT_RD), 2: no more writing (SHUT_WR) */
    uint8_t rx_end;             /* the other side writes no more: end of file after what is queued */
    uint8_t reset;              /* the connection was reset (its peer went with bytes unread) */
    uint8_t connecting;         /* a non-blocking connect that answered EINPROGRESS, not yet seen done */
    uint8_t autobound;          /* bound by the system (connect, send, listen), not by bind */
    uint8_t closed;             /* its last description is gone (datagram peers still hold it) */
    uint8_t owns_name;          /* AF_UNIX: bound by bind (accepted sockets show the name too) */
    uint32_t seq;               /* bumped on every change; what a blocked call waits on */
    int err;                    /* SO_ERROR: the pending error, reported once */
    uint64_t ino;
    struct saddr local, remote; /* as getsockname and getpeername show them */
    struct vsock *peer;         /* the connected socket of the picoprocess, or NULL */
    int chan;                   /* the channel behind a connection to the outside, or -1 */
    /* the bytes toward it: a stream's ring (cap bytes, allocated on the first write) */
    uint8_t *ring;
    size_t head, len, cap;
    /* the messages toward it (datagrams, seqpackets) */
    struct vmsg *mq, *mq_tail;
    size_t mq_bytes;
    /* listening: connections made and not yet accepted, in order */
    struct vsock *backlog, *backlog_tail, *queued_next;
    struct vsock *listener;     /* the listener whose backlog holds it */
    uint32_t backlog_len, backlog_max;
    uint64_t listen_order;      /* which listened first (the Monitor's connections go to the first) */
    struct vnode *node;         /* AF_UNIX bound to a path: the socket's file */
    struct sockopts opt;
    uint32_t refs;              /* the descriptions and calls holding it; freed at 0 */
};

static inline struct vsock *sock_of_ofd(struct ofd *f)
{
    return (struct vsock *)f->priv;
}

/* sockobj.c: a new socket (listed, one reference), a reference let go (freed at the last),
 * the socket closed (unlisted: no name or listener finds it), a change (its word bumped and
 * its waiters woken), its data freed, a fresh socket's options */
VFS_INTERNAL struct vsock *sock_new(struct vfs *v, int family, int type, int protocol);
VFS_INTERNAL void sock_put(struct vfs *v, struct vsock *s);
VFS_INTERNAL void sock_unlist(struct vfs *v, struct vsock *s);
VFS_INTERNAL void sock_changed(struct vfs *v, struct vsock *s);
VFS_INTERNAL void sock_drop_data(struct vfs *v, struct vsock *s);
VFS_INTERNAL void sockopt_defaults(struct vsock *s);

/* sock.c */
VFS_INTERNAL extern const struct vfs_file_ops vfs_sock_fops;
/* the socket behind fd: 0 with *out, or -EBADF / -ENOTSOCK */
VFS_INTERNAL long sock_fd(struct vfs *v, int fd, struct ofd **f, struct vsock **out);

/* sockaddr.c */
VFS_INTERNAL int sock_inet(const struct vsock *s);
/* an address a program gave, checked as the family's bind and connect check it: 0 with the
 * endpoint (internet families) or -errno; for AF_UNIX the name is checked by unix_name */
VFS_INTERNAL long addr_parse(const struct vsock *s, const void *addr, uint32_t len, struct ep *ep, int for_bind);
VFS_INTERNAL void addr_make(const struct vsock *s, const struct ep *ep, struct saddr *out);
VFS_INTERNAL void addr_ep(const struct saddr *a, struct ep *out);
/* which addresses are this machine's: loopback (127/8, ::1, their mapped forms) and the
 * wildcards; whether one is a wildcard; whether a v4-mapped address */
VFS_INTERNAL int ep_is_local(const struct ep *ep);
VFS_INTERNAL int ep_is_any(const struct ep *ep);
VFS_INTERNAL int ep_is_v4(const struct ep *ep);
/* bind's name check: 0, -EADDRINUSE, -EACCES (a privileged port) */
VFS_INTERNAL long port_claim(struct vfs *v, struct vsock *s, struct ep *ep);
/* the system's binding: an ephemeral port on the wildcard (listen, send) or on the
 * loopback address toward dst (connect) */
VFS_INTERNAL long sock_autobind(struct vfs *v, struct vsock *s, const struct ep *toward);
/* who receives at dst: the listening stream socket, or the bound datagram socket */
VFS_INTERNAL struct vsock *inet_listener(struct vfs *v, const struct vsock *s, const struct ep *dst);
VFS_INTERNAL struct vsock *inet_receiver(struct vfs *v, const struct vsock *s, const struct ep *dst);
/* AF_UNIX: a name checked and copied into out (as the kernel stores it), then bound or looked up */
VFS_INTERNAL long unix_name(const void *addr, uint32_t len, struct saddr *out);
VFS_INTERNAL long unix_bind(struct vfs *v, struct vsock *s, struct saddr *name);
VFS_INTERNAL long unix_autobind(struct vfs *v, struct vsock *s);
VFS_INTERNAL long unix_lookup(struct vfs *v, const struct vsock *s, const struct saddr *name, struct vsock **out);
/* the socket the Monitor's connections go to: the first listening internet socket */
VFS_INTERNAL struct vsock *sock_outside_listener(struct vfs *v);

/* sockio.c: data.  The iovec is the program's; flags MSG_*; the vfs_msghdr's name is kept */
VFS_INTERNAL long sock_send(struct vfs *v, struct ofd *f, const struct vfs_msghdr *m, int flags);
VFS_INTERNAL long sock_recv(struct vfs *v, struct ofd *f, struct vfs_msghdr *m, int flags);
VFS_INTERNAL uint32_t sock_poll_mask(struct vfs *v, struct vsock *s, int *chan);
VFS_INTERNAL long mq_put(struct vfs *v, struct vsock *to, const struct vfs_iovec *iov, int cnt, size_t total,
                         const struct saddr *from);
VFS_INTERNAL size_t sock_rcvbuf(const struct vsock *s);

#endif
