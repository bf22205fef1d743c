/* Data calls on open files: read, pread64, readv, write, pwrite64, writev, lseek,
 * ftruncate, fsync, fdatasync, readiness (vfs_poll) and the helpers for mmap
 * (vfs_mmap_check, vfs_mmap_copy, vfs_tar_offset).  Here the checks every kind of
 * description shares, in Linux's order: EBADF (no fd, O_PATH, wrong access mode), EINVAL
 * for a negative offset or length or an unknown whence, the iovec checks; then the
 * description's own operation (struct vfs_file_ops: a node's file in file.c, the stdio
 * channels, pipes, sockets), or the errno Linux gives a file without it (ESPIPE for
 * positions on a stream, EINVAL).
 *
 * Only regular files map (ENODEV otherwise), but /dev/zero, which maps as zeros; /proc's
 * files cannot be mapped (EIO, as proc_reg_mmap answers). */
#include "vfs_int.h"

long vfs_read(struct vfs *v, int fd, void *buf, size_t n)
{
    struct ofd *f = fd_get_io(v, fd);
    if (!f || !(f->fmode & FM_READ))
        return -EBADF;
    return f->ops->read(v, f, buf, n);
}

long vfs_pread64(struct vfs *v, int fd, void *buf, size_t n, int64_t off)
{
    if (off < 0)
        return -EINVAL;
    struct ofd *f = fd_get_io(v, fd);
    if (!f)
        return -EBADF;
    if (!f->ops->pread)
        return -ESPIPE;
    if (!(f->fmode & FM_READ))
        return -EBADF;
    return f->ops->pread(v, f, buf, n, (uint64_t)off);
}

/* the iovec checks of import_iovec: count, lengths; the total is capped at MAX_RW_COUNT */
static long check_iov(const struct vfs_iovec *iov, int cnt, size_t *total)
{
    if (cnt < 0 || cnt > VFS_UIO_MAXIOV)
        return -EINVAL;
    if (cnt && !iov)
        return -EFAULT;
    size_t t = 0;
    for (int i = 0; i < cnt; i++) {
        if ((int64_t)iov[i].iov_len < 0)
            return -EINVAL;
        if (iov[i].iov_len > (size_t)VFS_MAX_RW - t)
            t = VFS_MAX_RW;
        else
            t += iov[i].iov_len;
    }
    *total = t;
    return 0;
}

long vfs_readv(struct vfs *v, int fd, const struct vfs_iovec *iov, int cnt)
{
    struct ofd *f = fd_get_io(v, fd);
    if (!f || !(f->fmode & FM_READ))
        return -EBADF;
    size_t total;
    long r = check_iov(iov, cnt, &total);
    if (r < 0)
        return r;
    if (total == 0)
        return 0;
    return f->ops->readv(v, f, iov, cnt, total);
}

long vfs_write(struct vfs *v, int fd, const void *buf, size_t n)
{
    struct ofd *f = fd_get_io(v, fd);
    if (!f || !(f->fmode & FM_WRITE))
        return -EBADF;
    return f->ops->write(v, f, buf, n);
}

long vfs_pwrite64(struct vfs *v, int fd, const void *buf, size_t n, int64_t off)
{
    if (off < 0)
        return -EINVAL;
    struct ofd *f = fd_get_io(v, fd);
    if (!f)
        return -EBADF;
    if (!f->ops->pwrite)
        return -ESPIPE;
    if (!(f->fmode & FM_WRITE))
        return -EBADF;
    return f->ops->pwrite(v, f, buf, n, (uint64_t)off);
}

long vfs_writev(struct vfs *v, int fd, const struct vfs_iovec *iov, int cnt)
{
    struct ofd *f = fd_get_io(v, fd);
    if (!f || !(f->fmode & FM_WRITE))
        return -EBADF;
    size_t total;
    long r = check_iov(iov, cnt, &total);
    if (r < 0)
        return r;
    if (total == 0)
        return 0;
    return f->ops->writev(v, f, iov, cnt, total);
}

/* sendfile: a file's bytes (at *off, which moves, or at its position, which moves) to any
 * fd open for writing, through a bounce buffer, as do_sendfile checks: EBADF for in_fd not
 * open for reading or out_fd not for writing, ESPIPE for an offset on an in_fd that is a
 * stream (a pipe, a socket; without an offset EINVAL: Linux would splice from it, this does
 * not), EINVAL for a negative offset.  It stops at the
 * file's end or at a short write (a non-blocking socket whose buffer is full: what went, or
 * EAGAIN if nothing did). */
#define SENDFILE_PIECE 65536

long vfs_sendfile(struct vfs *v, int out_fd, int in_fd, int64_t *off, size_t count)
{
    struct ofd *in = fd_get_io(v, in_fd), *out = fd_get_io(v, out_fd);
    if (!in || !(in->fmode & FM_READ) || !out || !(out->fmode & FM_WRITE))
        return -EBADF;
    if (!in->ops->pread)
        return off ? -ESPIPE : -EINVAL; /* a stream (pipe, socket) has no position to read at */
    if (off && *off < 0)
        return -EINVAL;
    if (count > (size_t)VFS_MAX_RW)
        count = VFS_MAX_RW;
    if (!count)
        return 0;
    char *buf = vmem_alloc(v, SENDFILE_PIECE);
    if (!buf)
        return -ENOMEM;
    in->refs++, out->refs++; /* the write may wait: both held for the call */
    uint64_t pos = off ? (uint64_t)*off : in->pos;
    long done = 0, r = 0;
    while ((size_t)done < count) {
        size_t want = count - (size_t)done < SENDFILE_PIECE ? count - (size_t)done : SENDFILE_PIECE;
        long got = in->ops->pread(v, in, buf, want, pos);
        if (got <= 0) {
            r = got;
            break;
        }
        long put = 0;
        while (put < got) {
            long w = out->ops->write(v, out, buf + put, (size_t)(got - put));
            if (w <= 0) {
                r = w;
                break;
            }
            put += w;
        }
        done += put;
        pos += (uint64_t)put;
        if (put < got)
            break;
    }
    if (off)
        *off = (int64_t)pos;
    else
        in->pos = pos;
    ofd_put(v, in);
    ofd_put(v, out);
    vmem_free(v, buf, SENDFILE_PIECE);
    return done ? done : r;
}

long vfs_lseek(struct vfs *v, int fd, int64_t off, int whence)
{
    struct ofd *f = fd_get_io(v, fd);
    if (!f)
        return -EBADF;
    if ((unsigned)whence > VFS_SEEK_HOLE)
        return -EINVAL;
    if (!f->ops->lseek)
        return -ESPIPE;
    return f->ops->lseek(v, f, off, whence);
}

long vfs_ftruncate(struct vfs *v, int fd, int64_t len)
{
    if (len < 0)
        return -EINVAL;
    struct ofd *f = fd_get_io(v, fd);
    if (!f)
        return -EBADF;
    if (!f->ops->truncate)
        return -EINVAL;
    return f->ops->truncate(v, f, (uint64_t)len);
}

long vfs_fsync(struct vfs *v, int fd)
{
    struct ofd *f = fd_get_io(v, fd);
    if (!f)
        return -EBADF;
    if (!f->ops->fsync)
        return -EINVAL; /* a pipe */
    return f->ops->fsync(v, f);
}

long vfs_fdatasync(struct vfs *v, int fd)
{
    return vfs_fsync(v, fd);
}

uint32_t ofd_poll(struct vfs *v, struct ofd *f, uint32_t events, int *chan)
{
    *chan = -1;
    uint32_t mask = f->ops->poll ? f->ops->poll(v, f, chan) : VFS_POLL_DEFAULT;
    return mask & (events | POLLERR | POLLHUP);
}

/* file_can_poll: a kind with a poll of its own, or a node whose backend has one */
int ofd_can_poll(const struct ofd *f)
{
    if (f->node)
        return f->node->rt->ops->poll != 0;
    return f->ops->poll != 0;
}

uint32_t ofd_events(struct vfs *v, struct ofd *f)
{
    return f->ops->events ? f->ops->events(v, f) : 0;
}

/* do_pollfd: POLLNVAL for an fd that is not open (O_PATH included); else the kind's mask,
 * filtered by what was asked (POLLERR and POLLHUP are always reported). */
long vfs_poll(struct vfs *v, int fd, uint32_t events, int *chan)
{
    if (!chan)
        return -EFAULT;
    *chan = -1;
    struct ofd *f = fd_get_io(v, fd);
    if (!f)
        return POLLNVAL;
    return (long)ofd_poll(v, f, events, chan);
}

/* How the file maps: 0 (its bytes), VFS_MAP_ZEROS, or -errno (its backend's answer;
 * without one, regular files map and nothing else does) */
static long map_kind(struct vfs *v, const struct vnode *n)
{
    if (!n)
        return -ENODEV; /* a stream */
    if (n->rt->ops->mmap)
        return n->rt->ops->mmap(v, n);
    return VFS_ISREG(n->mode) ? 0 : -ENODEV;
}

/* The description an mmap of fd reads, or 0 with *err, in Linux's order: EBADF,
 * EACCES (do_mmap's check comes before the file's own), the file's own (ENODEV, EIO),
 * EINVAL, EOVERFLOW.  *zero: a device that maps as zeros (/dev/zero). */
static struct ofd *mmap_ofd(struct vfs *v, int fd, uint64_t off, size_t len, long *err, int *zero)
{
    struct ofd *f = fd_get_io(v, fd);
    long how = f && (f->fmode & FM_READ) ? map_kind(v, f->node) : 0;
    *zero = how == VFS_MAP_ZEROS;
    *err = !f ? -EBADF
         : !(f->fmode & FM_READ) ? -EACCES
         : how < 0 ? how
         : (off & 4095) || len == 0 ? -EINVAL
         : off + len < off || off + len > (uint64_t)VFS_MAX_FILESIZE ? -EOVERFLOW
         : 0;
    return *err ? 0 : f;
}

long vfs_mmap_check(struct vfs *v, int fd, uint64_t off, size_t len, uint64_t *size)
{
    long err;
    int zero;
    struct ofd *f = mmap_ofd(v, fd, off, len, &err, &zero);
    if (f && !size)
        return -EFAULT;
    if (f)
        *size = zero ? 0 : f->node->size;
    return err;
}

long vfs_mmap_copy(struct vfs *v, int fd, uint64_t off, void *dst, size_t len)
{
    long err;
    int zero;
    struct ofd *f = mmap_ofd(v, fd, off, len, &err, &zero);
    if (!f)
        return err;
    if (!dst)
        return -EFAULT;
    struct vnode *n = f->node;
    size_t from_file = 0;
    if (!zero && off < n->size) {
        uint64_t avail = n->size - off;
        from_file = avail < len ? (size_t)avail : len;
        size_t done = 0;
        while (done < from_file) {
            size_t chunk = from_file - done;
            if (chunk > (size_t)VFS_MAX_RW)
                chunk = VFS_MAX_RW;
            long r = n->rt->ops->read(v, n, (char *)dst + done, chunk, off + done);
            if (r <= 0)
                break;
            done += (size_t)r;
        }
        from_file = done;
    }
    if (len > from_file)
        memset((char *)dst + from_file, 0, len - from_file);
    return (long)from_file;
}

long vfs_tar_offset(struct vfs *v, int fd, uint64_t *offset)
{
    struct ofd *f = fd_get(v, fd);
    if (!f)
        return -EBADF;
    struct vnode *n = f->node;
    if (!n || !VFS_ISREG(n->mode) || !n->rt->ops->image_offset)
        return -ENODEV;
    if (!offset)
        return -EFAULT;
    return n->rt->ops->image_offset(v, n, offset);
}
