/* A node's file (vfs_node_fops): the open description of a file, directory or device of
 * the namespace, its data read and written through the node's backend at the file
 * position.  Linux's rules, after io.c has checked the fd and the access mode: EISDIR for
 * data on a directory, EINVAL for what is neither a file nor a device the backend serves,
 * EFAULT, EFBIG past the largest file; O_APPEND writes at the end (pwrite64 too, as on
 * Linux); lseek SEEK_SET/CUR/END, SEEK_DATA/HOLE with the whole file taken as data, and
 * directories seek like tmpfs's (SET and CUR only).
 *
 * Character devices (the synthetic /dev) read and write through their backend and never
 * move the file position (every lseek answers 0, as null_lseek and noop_llseek do).  What
 * differs between backends is theirs to say (struct vfs_backend): how lseek goes (/proc's
 * files: SET and CUR only), fsync (EINVAL without one), ioctl (ENOTTY without one), poll
 * (ready for everything without one, as files without a poll of their own are on Linux). */
#include "vfs_int.h"

/* reads and writes leave the position alone (character devices) */
static int fixed_pos(const struct ofd *f)
{
    return VFS_ISCHR(f->node->mode);
}

static long node_open(struct vfs *v, struct ofd *f, struct vnode *n)
{
    (void)v;
    f->node = n;
    node_get(n);
    return 0;
}

static void node_release(struct vfs *v, struct ofd *f)
{
    node_put(v, f->node);
}

static long node_pread(struct vfs *v, struct ofd *f, void *buf, size_t n, uint64_t off)
{
    struct vnode *node = f->node;
    if (VFS_ISDIR(node->mode))
        return -EISDIR;
    if (!VFS_ISREG(node->mode) && !(VFS_ISCHR(node->mode) && node->rt->ops->read))
        return -EINVAL;
    if (n > (size_t)VFS_MAX_RW)
        n = VFS_MAX_RW;
    if (n == 0)
        return 0;
    if (!buf)
        return -EFAULT;
    return node->rt->ops->read(v, node, buf, n, off);
}

/* A character device's write: the position stays. */
static long chr_write(struct vfs *v, struct vnode *node, const void *buf, size_t n, uint64_t off, uint64_t *end)
{
    *end = off;
    if (n > (size_t)VFS_MAX_RW)
        n = VFS_MAX_RW;
    if (n == 0)
        return 0;
    if (!buf)
        return -EFAULT;
    return node->rt->ops->write(v, node, buf, n, off);
}

/* off is where to write unless the file is O_APPEND; *end gets where it stopped */
static long write_at(struct vfs *v, struct ofd *f, const void *buf, size_t n, uint64_t off, uint64_t *end)
{
    struct vnode *node = f->node;
    if (VFS_ISCHR(node->mode) && node->rt->ops->write)
        return chr_write(v, node, buf, n, off, end);
    if (!VFS_ISREG(node->mode) || !node->rt->ops->write)
        return -EINVAL;
    if (f->flags & O_APPEND)
        off = node->size;
    *end = off;
    if (n > (size_t)VFS_MAX_RW)
        n = VFS_MAX_RW;
    if (n == 0)
        return 0;
    if (!buf)
        return -EFAULT;
    if (off >= (uint64_t)VFS_MAX_FILESIZE)
        return -EFBIG;
    long r = node->rt->ops->write(v, node, buf, n, off);
    if (r > 0)
        *end = off + (uint64_t)r;
    return r;
}

static long node_pwrite(struct vfs *v, struct ofd *f, const void *buf, size_t n, uint64_t off)
{
    uint64_t end;
    return write_at(v, f, buf, n, off, &end); /* O_APPEND appends even here, as Linux does */
}

static long node_read(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    long r = node_pread(v, f, buf, n, f->pos);
    if (r > 0 && !fixed_pos(f))
        f->pos += (uint64_t)r;
    return r;
}

static long node_write(struct vfs *v, struct ofd *f, const void *buf, size_t n)
{
    uint64_t end;
    long r = write_at(v, f, buf, n, f->pos, &end);
    if (r > 0)
        f->pos = end;
    return r;
}

/* buffer by buffer from the position, until one comes short; an error after some bytes is
 * the count so far */
static long node_readv(struct vfs *v, struct ofd *f, const struct vfs_iovec *iov, int cnt, size_t total)
{
    long done = 0;
    for (int i = 0; i < cnt && (size_t)done < total; i++) {
        size_t want = iov[i].iov_len;
        if (want > total - (size_t)done)
            want = total - (size_t)done;
        if (!want)
            continue;
        long r = node_read(v, f, iov[i].iov_base, want);
        if (r < 0)
            return done ? done : r;
        done += r;
        if ((size_t)r < want)
            break;
    }
    return done;
}

static long node_writev(struct vfs *v, struct ofd *f, const struct vfs_iovec *iov, int cnt, size_t total)
{
    long done = 0;
    for (int i = 0; i < cnt && (size_t)done < total; i++) {
        size_t want = iov[i].iov_len;
        if (want > total - (size_t)done)
            want = total - (size_t)done;
        if (!want)
            continue;
        long r = node_write(v, f, iov[i].iov_base, want);
        if (r < 0)
            return done ? done : r;
        done += r;
        if ((size_t)r < want)
            break;
    }
    return done;
}

/* tmpfs's directories: SEEK_SET and SEEK_CUR, to any position >= 0 */
static long dir_lseek(struct ofd *f, int64_t off, int whence)
{
    int64_t pos;
    if (whence == SEEK_CUR)
        pos = (int64_t)((uint64_t)off + f->pos);
    else if (whence == SEEK_SET)
        pos = off;
    else
        return -EINVAL;
    if (pos < 0)
        return -EINVAL;
    f->pos = (uint64_t)pos;
    return pos;
}

/* a file of size bytes, all of them data */
static long file_lseek(struct ofd *f, int64_t off, int whence, uint64_t size)
{
    int64_t pos;
    switch (whence) {
    case SEEK_SET:
        pos = off;
        break;
    case SEEK_CUR:
        if (off == 0)
            return (long)f->pos;
        pos = (int64_t)((uint64_t)off + f->pos);
        break;
    case SEEK_END:
        pos = (int64_t)((uint64_t)off + size);
        break;
    case VFS_SEEK_DATA:
        if ((uint64_t)off >= size)
            return -ENXIO;
        pos = off;
        break;
    default: /* SEEK_HOLE: the only hole is at the end */
        if ((uint64_t)off >= size)
            return -ENXIO;
        pos = (int64_t)size;
        break;
    }
    if (pos < 0)
        return -EINVAL;
    f->pos = (uint64_t)pos;
    return pos;
}

long node_seek(struct ofd *f, int64_t off, int whence)
{
    if (VFS_ISDIR(f->node->mode))
        return dir_lseek(f, off, whence);
    return file_lseek(f, off, whence, f->node->size);
}

static long node_lseek(struct vfs *v, struct ofd *f, int64_t off, int whence)
{
    if (fixed_pos(f)) {
        f->pos = 0;
        return 0;
    }
    if (f->node->rt->ops->seek)
        return f->node->rt->ops->seek(v, f, off, whence);
    return node_seek(f, off, whence);
}

static long node_truncate(struct vfs *v, struct ofd *f, uint64_t len)
{
    struct vnode *n = f->node;
    if (!VFS_ISREG(n->mode) || !(f->fmode & FM_WRITE))
        return -EINVAL;
    if (!n->rt->ops->truncate)
        return -EROFS;
    return n->rt->ops->truncate(v, n, len);
}

static long node_fsync(struct vfs *v, struct ofd *f)
{
    struct vnode *n = f->node;
    return n->rt->ops->fsync ? n->rt->ops->fsync(v, n) : -EINVAL; /* no fsync of its own */
}

static void node_fstat(struct vfs *v, struct ofd *f, struct vfs_stat *st)
{
    node_stat(v, f->node, st);
}

static long node_ioctl(struct vfs *v, struct ofd *f, uint32_t cmd, uint64_t arg)
{
    struct vnode *n = f->node;
    if (n->rt->ops->ioctl)
        return n->rt->ops->ioctl(v, n, cmd, arg);
    return -ENOTTY; /* no fd is a terminal */
}

static uint32_t node_poll(struct vfs *v, struct ofd *f, int *chan)
{
    (void)chan;
    struct vnode *n = f->node;
    return n->rt->ops->poll ? n->rt->ops->poll(v, n) : VFS_POLL_DEFAULT;
}

const struct vfs_file_ops vfs_node_fops = {
    .open = node_open,
    .read = node_read,
    .write = node_write,
    .readv = node_readv,
    .writev = node_writev,
    .pread = node_pread,
    .pwrite = node_pwrite,
    .lseek = node_lseek,
    .getdents = node_getdents,
    .truncate = node_truncate,
    .fsync = node_fsync,
    .stat = node_fstat,
    .ioctl = node_ioctl,
    .poll = node_poll,
    .lock = vfs_lock_granted,
    .release = node_release,
};
