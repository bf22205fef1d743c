/* Data calls on open files: read, pread64, readv, write, pwrite64, writev, lseek
 * (SEEK_SET/CUR/END, SEEK_DATA/HOLE with the whole file taken as data;
 * directories seek like tmpfs's: SET and CUR only), ftruncate, fsync,
 * fdatasync, and the helpers for mmap (vfs_mmap_check, vfs_mmap_copy,
 * vfs_tar_offset).  Error
 * order as Linux's: EBADF (no fd, O_PATH, wrong access mode), ESPIPE for
 * positioned I/O on a channel, EISDIR for data on a directory, EINVAL.
 *
 * Character devices (the synthetic /dev) read and write through their backend
 * and never move the file position (every lseek answers 0, as null_lseek and
 * noop_llseek do); they have no fsync (EINVAL) and only /dev/zero can be mapped.
 * /proc's files seek like seq_files (SET and CUR only), have no fsync (EINVAL)
 * and cannot be mapped (EIO, as proc_reg_mmap answers). */
#include "vfs_int.h"

/* reads and writes leave the position alone (character devices) */
static int fixed_pos(const struct ofd *f)
{
    return f->kind == OFD_NODE && VFS_ISCHR(f->node->mode);
}

static long node_read(struct vfs *v, struct ofd *f, void *buf, size_t n, uint64_t off)
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

/* off is where to write unless the file is O_APPEND; *end gets where it stopped */
static long node_write(struct vfs *v, struct ofd *f, const void *buf, size_t n, uint64_t off, uint64_t *end)
{
    struct vnode *node = f->node;
    if (VFS_ISCHR(node->mode) && node->rt->ops->write) {
        *end = off; /* the position stays */
        if (n > (size_t)VFS_MAX_RW)
            n = VFS_MAX_RW;
        if (n == 0)
            return 0;
        if (!buf)
            return -EFAULT;
        return node->rt->ops->write(v, node, buf, n, off);
    }
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

long vfs_read(struct vfs *v, int fd, void *buf, size_t n)
{
    struct ofd *f = fd_get_io(v, fd);
    if (!f || !(f->fmode & FM_READ))
        return -EBADF;
    if (f->kind != OFD_NODE)
        return stream_read(v, f, buf, n);
    long r = node_read(v, f, buf, n, f->pos);
    if (r > 0 && !fixed_pos(f))
        f->pos += (uint64_t)r;
    return r;
}

long vfs_pread64(struct vfs *v, int fd, void *buf, size_t n, int64_t off)
{
    if (off < 0)
        return -EINVAL;
    struct ofd *f = fd_get_io(v, fd);
    if (!f)
        return -EBADF;
    if (f->kind != OFD_NODE)
        return -ESPIPE;
    if (!(f->fmode & FM_READ))
        return -EBADF;
    return node_read(v, f, buf, n, (uint64_t)off);
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
    if (f->kind != OFD_NODE)
        return stream_readv(v, f, iov, cnt);
    long done = 0;
    for (int i = 0; i < cnt && (size_t)done < total; i++) {
        size_t want = iov[i].iov_len;
        if (want > total - (size_t)done)
            want = total - (size_t)done;
        if (!want)
            continue;
        r = node_read(v, f, iov[i].iov_base, want, f->pos);
        if (r < 0)
            return done ? done : r;
        if (!fixed_pos(f))
            f->pos += (uint64_t)r;
        done += r;
        if ((size_t)r < want)
            break;
    }
    return done;
}

long vfs_write(struct vfs *v, int fd, const void *buf, size_t n)
{
    struct ofd *f = fd_get_io(v, fd);
    if (!f || !(f->fmode & FM_WRITE))
        return -EBADF;
    if (f->kind != OFD_NODE)
        return stream_write(v, f, buf, n);
    uint64_t end;
    long r = node_write(v, f, buf, n, f->pos, &end);
    if (r > 0)
        f->pos = end;
    return r;
}

long vfs_pwrite64(struct vfs *v, int fd, const void *buf, size_t n, int64_t off)
{
    if (off < 0)
        return -EINVAL;
    struct ofd *f = fd_get_io(v, fd);
    if (!f)
        return -EBADF;
    if (f->kind != OFD_NODE)
        return -ESPIPE;
    if (!(f->fmode & FM_WRITE))
        return -EBADF;
    uint64_t end;
    /* O_APPEND appends even here, as Linux does */
    return node_write(v, f, buf, n, (uint64_t)off, &end);
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
    if (f->kind != OFD_NODE)
        return stream_writev(v, f, iov, cnt);
    long done = 0;
    for (int i = 0; i < cnt && (size_t)done < total; i++) {
        size_t want = iov[i].iov_len;
        if (want > total - (size_t)done)
            want = total - (size_t)done;
        if (!want)
            continue;
        uint64_t end;
        r = node_write(v, f, iov[i].iov_base, want, f->pos, &end);
        if (r < 0)
            return done ? done : r;
        f->pos = end;
        done += r;
        if ((size_t)r < want)
            break;
    }
    return done;
}

long vfs_lseek(struct vfs *v, int fd, int64_t off, int whence)
{
    struct ofd *f = fd_get_io(v, fd);
    if (!f)
        return -EBADF;
    if ((unsigned)whence > VFS_SEEK_HOLE)
        return -EINVAL;
    if (f->kind != OFD_NODE)
        return -ESPIPE;
    struct vnode *n = f->node;
    int64_t pos;
    if (fixed_pos(f)) {
        f->pos = 0;
        return 0;
    }
    if (n->rt->kind == RT_PROC && whence != SEEK_SET && whence != SEEK_CUR)
        return -EINVAL;
    if (VFS_ISDIR(n->mode)) {
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
    uint64_t size = n->size;
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

long vfs_ftruncate(struct vfs *v, int fd, int64_t len)
{
    if (len < 0)
        return -EINVAL;
    struct ofd *f = fd_get_io(v, fd);
    if (!f)
        return -EBADF;
    if (f->kind != OFD_NODE || !VFS_ISREG(f->node->mode) || !(f->fmode & FM_WRITE))
        return -EINVAL;
    struct vnode *n = f->node;
    if (!n->rt->ops->truncate)
        return -EROFS;
    return n->rt->ops->truncate(v, n, (uint64_t)len);
}

long vfs_fsync(struct vfs *v, int fd)
{
    struct ofd *f = fd_get_io(v, fd);
    if (!f)
        return -EBADF;
    if (f->kind != OFD_NODE)
        return -EINVAL; /* a pipe */
    if (VFS_ISCHR(f->node->mode) || f->node->rt->kind == RT_PROC)
        return -EINVAL; /* no fsync of their own */
    return 0;
}

long vfs_fdatasync(struct vfs *v, int fd)
{
    return vfs_fsync(v, fd);
}

/* The description an mmap of fd reads, or 0 with *err, in Linux's order: EBADF,
 * EACCES (do_mmap's check comes before the file's own), ENODEV, EIO (/proc),
 * EINVAL, EOVERFLOW.  *zero: a device that maps as zeros (/dev/zero). */
static struct ofd *mmap_ofd(struct vfs *v, int fd, uint64_t off, size_t len, long *err, int *zero)
{
    struct ofd *f = fd_get_io(v, fd);
    *zero = f && f->kind == OFD_NODE && f->node->rt->kind == RT_DEV && VFS_ISCHR(f->node->mode) &&
            dev_maps_zeros(f->node);
    *err = !f ? -EBADF
         : !(f->fmode & FM_READ) ? -EACCES
         : !*zero && (f->kind != OFD_NODE || !VFS_ISREG(f->node->mode)) ? -ENODEV
         : !*zero && f->node->rt->kind == RT_PROC ? -EIO
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
    if (f->kind != OFD_NODE || !VFS_ISREG(f->node->mode) || f->node->rt->kind != RT_TAR)
        return -ENODEV;
    if (!offset)
        return -EFAULT;
    *offset = f->node->data_off;
    return 0;
}
