/* eventfd2: a 64-bit counter as a file.  As on Linux: a read of at least 8 bytes takes the
 * whole count (EFD_SEMAPHORE: one) and blocks, or is EAGAIN, while it is 0; a write of 8
 * bytes adds to it and blocks, or is EAGAIN, while the sum would pass 0xfffffffffffffffe
 * (0xffffffffffffffff itself is EINVAL); poll shows it readable while the count is not 0
 * and writable while 1 more fits.  fstat shows an anonymous inode (mode 0600, no type).
 * A blocked call waits through env.wait on the counter's word, as a pipe's does. */
#include "vfs_int.h"

#define EFD_SEMAPHORE_ 1
#define COUNT_MAX 0xfffffffffffffffeULL

struct vevent {
    uint64_t count;
    uint32_t seq;               /* bumped on every change: what waiters and epoll's edges see */
    int semaphore;
    uint64_t ino;
};

static const struct vfs_file_ops eventfd_fops;

static void changed(struct vfs *v, struct vevent *e)
{
    e->seq++;
    if (v->env.wake)
        v->env.wake(v->env.ctx, &e->seq);
}

long vfs_eventfd2(struct vfs *v, unsigned initval, int flags)
{
    if (!v)
        return -EINVAL;
    if (flags & ~(EFD_SEMAPHORE_ | O_CLOEXEC | O_NONBLOCK))
        return -EINVAL;
    struct vevent *e = vmem_zalloc(v, sizeof *e);
    struct ofd *f = e ? ofd_new(v) : 0;
    if (!f) {
        if (e)
            vmem_free(v, e, sizeof *e);
        return -ENOMEM;
    }
    long fd = fd_alloc(v, 0);
    if (fd < 0) {
        vmem_free(v, f, sizeof *f);
        vmem_free(v, e, sizeof *e);
        return fd;
    }
    e->count = initval;
    e->semaphore = (flags & EFD_SEMAPHORE_) != 0;
    e->ino = v->sh->next_ino++;
    f->ops = &eventfd_fops;
    f->fmode = FM_READ | FM_WRITE;
    f->flags = O_RDWR | (flags & O_NONBLOCK);
    f->priv = e;
    fd_install(v, (int)fd, f, (flags & O_CLOEXEC) != 0);
    return fd;
}

static long wait_change(struct vfs *v, struct vevent *e, uint32_t seen)
{
    if (!v->env.wait)
        return -EAGAIN;
    return v->env.wait(v->env.ctx, &e->seq, seen);
}

static long eventfd_read(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    struct vevent *e = f->priv;
    if (n < sizeof(uint64_t))
        return -EINVAL;
    if (!buf)
        return -EFAULT;
    f->refs++; /* it may wait: held for the call */
    long r = 0;
    while (!e->count) {
        if ((f->flags & O_NONBLOCK) || (r = wait_change(v, e, e->seq)) < 0) {
            ofd_put(v, f);
            return r < 0 ? r : -EAGAIN;
        }
    }
    uint64_t got = e->semaphore ? 1 : e->count;
    e->count -= got;
    changed(v, e);
    ofd_put(v, f);
    /* as Linux: the count is taken, then copied out (-EFAULT if it cannot be) */
    return vfs_copy_out(v, buf, &got, sizeof got) ? -EFAULT : (long)sizeof got;
}

static long eventfd_write(struct vfs *v, struct ofd *f, const void *buf, size_t n)
{
    struct vevent *e = f->priv;
    if (n < sizeof(uint64_t))
        return -EINVAL;
    if (!buf)
        return -EFAULT;
    uint64_t add;
    if (vfs_copy_in(v, &add, buf, sizeof add))
        return -EFAULT;
    if (add == ~0ULL)
        return -EINVAL;
    f->refs++;
    long r = 0;
    while (COUNT_MAX - e->count < add) {
        if ((f->flags & O_NONBLOCK) || (r = wait_change(v, e, e->seq)) < 0) {
            ofd_put(v, f);
            return r < 0 ? r : -EAGAIN;
        }
    }
    e->count += add;
    changed(v, e);
    ofd_put(v, f);
    return sizeof add;
}

static void eventfd_stat(struct vfs *v, struct ofd *f, struct vfs_stat *st)
{
    struct vevent *e = f->priv;
    stream_stat_fill(v, st, e->ino, 0600);
}

static uint32_t eventfd_poll(struct vfs *v, struct ofd *f, int *chan)
{
    (void)v;
    (void)chan;
    struct vevent *e = f->priv;
    uint32_t mask = 0;
    if (e->count)
        mask |= POLLIN | POLLRDNORM;
    if (e->count < COUNT_MAX)
        mask |= POLLOUT | POLLWRNORM;
    return mask;
}

static uint32_t eventfd_events(struct vfs *v, struct ofd *f)
{
    (void)v;
    return ((struct vevent *)f->priv)->seq;
}

static void eventfd_release(struct vfs *v, struct ofd *f)
{
    vmem_free(v, f->priv, sizeof(struct vevent));
}

static const struct vfs_file_ops eventfd_fops = {
    .read = eventfd_read,
    .write = eventfd_write,
    .readv = stream_readv,
    .writev = stream_writev,
    .stat = eventfd_stat,
    .poll = eventfd_poll,
    .events = eventfd_events,
    .release = eventfd_release,
};
