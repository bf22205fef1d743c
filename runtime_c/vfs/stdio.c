/* The stdio channels: vfs_stdio (fds 0, 1, 2 become channels 0, 1, 2), and their kind
 * of description (vfs_stdio_fops): read, write, readv, writev and fstat.  A channel behaves
 * like a pipe: not seekable (ESPIPE), stat shows a FIFO owned by the virtual user; readv
 * reads into the first non-empty buffer only (a short read, as a pipe may give), writev
 * stops at the first short write; it blocks, and refuses O_NONBLOCK (EINVAL).
 *
 * Each channel also has a node (a FIFO of the channels' pseudo-route), which is what
 * /proc/self/fd/N, /dev/stdin and /dev/stdout lead to: stat shows it, and opening it opens
 * the channel again (the backend's fops; in its own direction only: the channels go one
 * way, so the other direction is EACCES).  A channel is closed when its last open
 * description is. */
#include "vfs_int.h"

static long chan_open(struct vfs *v, struct vnode *n, int acc)
{
    (void)v;
    int want = n->arg == 0 ? MAY_R : MAY_W;
    return (acc & (MAY_R | MAY_W)) == want ? 0 : -EACCES;
}

/* a channel has no path: /proc/self/fd/N shows "pipe:[ino]", as for a pipe */
static long chan_dname(struct vfs *v, const struct vnode *n, char *buf, size_t size)
{
    (void)v;
    if (size < 32)
        return -ENAMETOOLONG;
    memcpy(buf, "pipe:[", 6);
    size_t pos = 6 + fmt_u64(buf + 6, n->ino);
    buf[pos++] = ']';
    return (long)pos;
}

const struct vfs_backend vfs_chan_backend = {.dname = chan_dname, .open = chan_open, .fops = &vfs_stdio_fops};

static struct vnode *chan_node(struct vfs *v, int chan)
{
    struct vnode *n = node_new(v, &v->chan_rt, S_IFIFO | 0600);
    if (!n)
        return 0;
    n->ino = 1 + (uint64_t)chan;
    n->arg = chan;
    n->atime = n->mtime = n->ctime = (struct vfs_ts){0, 0};
    return n;
}

long vfs_stdio(struct vfs *v)
{
    if (!v)
        return -EINVAL;
    if (v->fd_limit < 3)
        return -EMFILE;
    for (int fd = 0; fd < 3; fd++)
        if (v->fds[fd])
            return -EBUSY;
    v->chan_rt.ops = &vfs_chan_backend; /* the channels' nodes' pseudo-route */
    v->chan_rt.dev = v->stdio_dev;
    struct ofd *f[3];
    for (int fd = 0; fd < 3; fd++) {
        f[fd] = ofd_new(v);
        if (!f[fd] || (!v->chan_node[fd] && !(v->chan_node[fd] = chan_node(v, fd)))) {
            vmem_free(v, f[fd], sizeof *f[fd]);
            while (fd--)
                vmem_free(v, f[fd], sizeof *f[fd]);
            return -ENOMEM;
        }
    }
    for (int fd = 0; fd < 3; fd++) {
        v->chan_refs[fd] = 1;
        f[fd]->ops = &vfs_stdio_fops;
        f[fd]->chan = fd;
        f[fd]->fmode = fd == 0 ? FM_READ : FM_WRITE;
        f[fd]->flags = fd == 0 ? O_RDONLY : O_WRONLY;
        fd_install(v, fd, f[fd], 0);
    }
    return 0;
}

/* opening a channel's node opens the channel again */
static long stdio_open(struct vfs *v, struct ofd *f, struct vnode *n)
{
    f->chan = n->arg;
    v->chan_refs[f->chan]++;
    return 0;
}

static void stdio_stat(struct vfs *v, struct ofd *f, struct vfs_stat *st)
{
    node_stat(v, v->chan_node[f->chan], st);
}

/* the channels block: non-blocking I/O is refused, not ignored (and nothing else changes) */
static long stdio_setfl(struct vfs *v, struct ofd *f, uint32_t flags)
{
    (void)v;
    (void)f;
    return (flags & (O_NONBLOCK | FASYNC | O_DIRECT)) ? -EINVAL : 0;
}

static struct vnode *stdio_link_node(struct vfs *v, struct ofd *f)
{
    return v->chan_node[f->chan];
}

/* whether a channel can be read or written is the Monitor's to say: the caller asks it */
static uint32_t stdio_poll(struct vfs *v, struct ofd *f, int *chan)
{
    (void)v;
    *chan = f->chan;
    return 0;
}

/* the last description of the channel closes it */
static void stdio_release(struct vfs *v, struct ofd *f)
{
    if (--v->chan_refs[f->chan] == 0 && v->env.chan_close)
        v->env.chan_close(v->env.ctx, f->chan);
}

const struct vfs_file_ops vfs_stdio_fops = {
    .per_process = 1,
    .open = stdio_open,
    .read = stream_chan_read,
    .write = stream_chan_write,
    .readv = stream_readv,
    .writev = stream_writev,
    .stat = stdio_stat,
    .setfl = stdio_setfl,
    .poll = stdio_poll,
    .link_node = stdio_link_node,
    .release = stdio_release,
};
