/* epoll sets: epoll_create1, epoll_ctl, and the two halves of epoll_wait the layer calls
 * around its wait (vfs_epoll_scan asks each item's description for its readiness, the
 * layer asks the Monitor for what lies with it, vfs_epoll_deliver reports).
 *
 * As on Linux: an item is keyed by its fd and the description it named; it stays while
 * that description is open (a dup keeps it; closing every fd of it removes it) and reports
 * the description's readiness with the item's data.  EPOLLONESHOT disables an item once it
 * reported (EPOLL_CTL_MOD arms it again).  EPOLLET reports an item when it became ready
 * since the last report: a ready bit it did not show then, or any event on the description
 * since (each kind counts its events: vfs_file_ops.events) — so a program that read until
 * EAGAIN is told of the next byte, and one that did not is not told again.  An epoll set
 * in another is readable while one of its items is ready inside the picoprocess.
 * Files that cannot be polled (a regular file, a directory) are EPERM. */
#include "vfs_int.h"

#define EPOLL_CTL_ADD_ 1
#define EPOLL_CTL_DEL_ 2
#define EPOLL_CTL_MOD_ 3
#define EPOLLEXCLUSIVE_ (1U << 28)
#define EPOLLWAKEUP_ (1U << 29)
#define EPOLLONESHOT_ (1U << 30)
#define EPOLLET_ (1U << 31)
#define EPOLL_NESTING_MAX 4       /* EP_MAX_NESTS */

struct epitem {
    struct epitem *next;
    int fd;
    struct ofd *file;
    uint32_t events;
    uint32_t data[2];
    uint64_t id;                /* what a probe names it by (it may go while the layer waits) */
    int disabled;               /* EPOLLONESHOT, after its report */
    uint32_t last_bits, last_seq; /* EPOLLET: what the last report showed */
};

struct vepoll {
    struct vepoll *next_set;    /* v->sh->epolls */
    struct epitem *items;
    uint64_t ino, next_id;
    uint32_t seq;
};

static const struct vfs_file_ops epoll_fops;

static struct vepoll *epoll_of(struct vfs *v, int fd, long *err)
{
    struct ofd *f = fd_get_io(v, fd);
    *err = !f ? -EBADF : f->ops != &epoll_fops ? -EINVAL : 0;
    return *err ? 0 : f->priv;
}

/* a description is closing: it leaves every set (struct vfs.on_release) */
static void forget(struct vfs *v, struct ofd *f)
{
    for (struct vepoll *ep = v->sh->epolls; ep; ep = ep->next_set) {
        for (struct epitem **pi = &ep->items; *pi;) {
            struct epitem *it = *pi;
            if (it->file == f) {
                *pi = it->next;
                vmem_free(v, it, sizeof *it);
                ep->seq++;
            } else {
                pi = &it->next;
            }
        }
    }
}

long vfs_epoll_create1(struct vfs *v, int flags)
{
    if (!v)
        return -EINVAL;
    if (flags & ~O_CLOEXEC)
        return -EINVAL;
    struct vepoll *ep = vmem_zalloc(v, sizeof *ep);
    struct ofd *f = ep ? ofd_new(v) : 0;
    if (!f) {
        if (ep)
            vmem_free(v, ep, sizeof *ep);
        return -ENOMEM;
    }
    long fd = fd_alloc(v, 0);
    if (fd < 0) {
        vmem_free(v, f, sizeof *f);
        vmem_free(v, ep, sizeof *ep);
        return fd;
    }
    ep->ino = v->sh->next_ino++;
    ep->next_id = 1;
    ep->next_set = v->sh->epolls;
    v->sh->epolls = ep;
    v->sh->on_release = forget;
    f->ops = &epoll_fops;
    f->fmode = FM_READ | FM_WRITE;
    f->flags = O_RDWR;
    f->priv = ep;
    fd_install(v, (int)fd, f, (flags & O_CLOEXEC) != 0);
    return fd;
}

static struct epitem *find(struct vepoll *ep, int fd, struct ofd *f)
{
    for (struct epitem *it = ep->items; it; it = it->next)
        if (it->fd == fd && it->file == f)
            return it;
    return 0;
}

/* whether the set `inner` holds `outer`, at any depth (a loop: ELOOP), or nests too deep */
static int reaches(struct vepoll *inner, struct vepoll *outer, int depth)
{
    if (inner == outer || depth > EPOLL_NESTING_MAX)
        return 1;
    for (struct epitem *it = inner->items; it; it = it->next)
        if (it->file->ops == &epoll_fops && reaches(it->file->priv, outer, depth + 1))
            return 1;
    return 0;
}

long vfs_epoll_ctl(struct vfs *v, int epfd, int op, int fd, const struct vfs_epoll_event *ev)
{
    if (!v)
        return -EINVAL;
    if ((op == EPOLL_CTL_ADD_ || op == EPOLL_CTL_MOD_) && !ev)
        return -EFAULT;
    struct ofd *ef = fd_get_io(v, epfd), *tf = fd_get_io(v, fd);
    if (!ef || !tf)
        return -EBADF;
    if (!ofd_can_poll(tf))
        return -EPERM;
    if (ef->ops != &epoll_fops || epfd == fd)
        return -EINVAL;
    if (op != EPOLL_CTL_ADD_ && op != EPOLL_CTL_DEL_ && op != EPOLL_CTL_MOD_)
        return -EINVAL;
    struct vepoll *ep = ef->priv;
    uint32_t events = ev ? ev->events : 0;
    if (op != EPOLL_CTL_DEL_ && (events & EPOLLEXCLUSIVE_) &&
        (op == EPOLL_CTL_MOD_ || tf->ops == &epoll_fops || (events & ~(EPOLLEXCLUSIVE_ | EPOLLET_ | EPOLLWAKEUP_ |
                                                                        POLLIN | POLLOUT | POLLERR | POLLHUP))))
        return -EINVAL;
    struct epitem *it = find(ep, fd, tf);
    switch (op) {
    case EPOLL_CTL_ADD_:
        if (it)
            return -EEXIST;
        if (tf->ops == &epoll_fops && reaches(tf->priv, ep, 1))
            return -ELOOP;
        if (!(it = vmem_zalloc(v, sizeof *it)))
            return -ENOMEM;
        it->fd = fd;
        it->file = tf;
        it->id = ep->next_id++;
        it->next = ep->items;
        ep->items = it;
        break;
    case EPOLL_CTL_MOD_:
        if (!it)
            return -ENOENT;
        break;
    default:
        if (!it)
            return -ENOENT;
        for (struct epitem **pi = &ep->items; *pi; pi = &(*pi)->next)
            if (*pi == it) {
                *pi = it->next;
                break;
            }
        vmem_free(v, it, sizeof *it);
        ep->seq++;
        return 0;
    }
    /* EPOLLERR and EPOLLHUP are always reported (ep_item_poll adds them) */
    it->events = events | POLLERR | POLLHUP;
    it->data[0] = ev->data[0];
    it->data[1] = ev->data[1];
    it->disabled = 0;
    it->last_bits = 0;
    it->last_seq = ofd_events(v, tf) - 1; /* the first scan is news */
    ep->seq++;
    return 0;
}

/* the readiness an item shows (what it asked for, EPOLLERR and EPOLLHUP), and the channel
 * the rest lies with */
static uint32_t item_poll(struct vfs *v, struct epitem *it, int *chan)
{
    return ofd_poll(v, it->file, it->events & ~(EPOLLET_ | EPOLLONESHOT_ | EPOLLWAKEUP_ | EPOLLEXCLUSIVE_), chan);
}

long vfs_epoll_scan(struct vfs *v, int epfd, struct vfs_epoll_probe *out, int cap)
{
    long err;
    struct vepoll *ep = epoll_of(v, epfd, &err);
    if (!ep)
        return err;
    int n = 0;
    for (struct epitem *it = ep->items; it; it = it->next) {
        if (it->disabled)
            continue;
        if (n < cap) {
            struct vfs_epoll_probe *p = &out[n];
            p->id = it->id;
            p->chan = -1;
            p->events = it->events;
            p->revents = item_poll(v, it, &p->chan);
            p->seq = ofd_events(v, it->file);
        }
        n++;
    }
    return n;
}

static struct epitem *by_id(struct vepoll *ep, uint64_t id)
{
    for (struct epitem *it = ep->items; it; it = it->next)
        if (it->id == id)
            return it;
    return 0;
}

long vfs_epoll_deliver(struct vfs *v, int epfd, const struct vfs_epoll_probe *p, int n, struct vfs_epoll_event *out,
                       int max)
{
    long err;
    struct vepoll *ep = epoll_of(v, epfd, &err);
    if (!ep)
        return err;
    int got = 0, commit = out != 0;
    for (int i = 0; i < n && got < max; i++) {
        struct epitem *it = by_id(ep, p[i].id);
        if (!it || it->disabled)
            continue;
        uint32_t bits = p[i].revents & it->events;
        if (it->events & EPOLLET_) {
            int news = (bits & ~it->last_bits) || p[i].seq != it->last_seq;
            if (commit) {
                it->last_bits = bits; /* a bit that fell may rise again: news then */
                if (bits)
                    it->last_seq = p[i].seq;
            }
            if (!news)
                continue;
        }
        if (!bits)
            continue;
        if (commit) {
            out[got].events = bits;
            out[got].data[0] = it->data[0];
            out[got].data[1] = it->data[1];
            if (it->events & EPOLLONESHOT_)
                it->disabled = 1;
        }
        got++;
    }
    return got;
}

static void epoll_stat(struct vfs *v, struct ofd *f, struct vfs_stat *st)
{
    stream_stat_fill(v, st, ((struct vepoll *)f->priv)->ino, 0600);
}

/* an epoll set in another (or in poll): readable while an item is ready inside the
 * picoprocess (what lies with the Monitor is not asked here) */
static uint32_t epoll_poll(struct vfs *v, struct ofd *f, int *chan)
{
    (void)chan;
    struct vepoll *ep = f->priv;
    for (struct epitem *it = ep->items; it; it = it->next) {
        int inner = -1;
        if (!it->disabled && item_poll(v, it, &inner))
            return POLLIN | POLLRDNORM;
    }
    return 0;
}

static uint32_t epoll_events(struct vfs *v, struct ofd *f)
{
    (void)v;
    return ((struct vepoll *)f->priv)->seq;
}

static void epoll_release(struct vfs *v, struct ofd *f)
{
    struct vepoll *ep = f->priv;
    while (ep->items) {
        struct epitem *it = ep->items;
        ep->items = it->next;
        vmem_free(v, it, sizeof *it);
    }
    for (struct vepoll **pe = &v->sh->epolls; *pe; pe = &(*pe)->next_set)
        if (*pe == ep) {
            *pe = ep->next_set;
            break;
        }
    if (!v->sh->epolls)
        v->sh->on_release = 0;
    vmem_free(v, ep, sizeof *ep);
}

/* an epoll set is read only by epoll_wait */
static long epoll_read(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    (void)v, (void)f, (void)buf, (void)n;
    return -EINVAL;
}

static long epoll_write(struct vfs *v, struct ofd *f, const void *buf, size_t n)
{
    (void)v, (void)f, (void)buf, (void)n;
    return -EINVAL;
}

static const struct vfs_file_ops epoll_fops = {
    .read = epoll_read,
    .write = epoll_write,
    .readv = stream_readv,
    .writev = stream_writev,
    .stat = epoll_stat,
    .poll = epoll_poll,
    .events = epoll_events,
    .release = epoll_release,
};
