/* What the descriptions with no node behind them share — the stdio channels, pipes and
 * sockets: their vectored reads and writes, alike for all (readv fills the first non-empty
 * buffer only, a short read as a pipe may give; writev stops at the first short write),
 * what fstat shows of an inode of the picoprocess's own, and the read and write of a
 * description that is one of the Monitor's channels (f->chan: stdio, the family's pipes).  Each kind's table (struct
 * vfs_file_ops) names these; nothing here knows the kinds. */
#include "vfs_int.h"

long stream_readv(struct vfs *v, struct ofd *f, const struct vfs_iovec *iov, int cnt, size_t total)
{
    (void)total;
    for (int i = 0; i < cnt; i++)
        if (iov[i].iov_len)
            return f->ops->read(v, f, iov[i].iov_base, iov[i].iov_len);
    return 0;
}

long stream_writev(struct vfs *v, struct ofd *f, const struct vfs_iovec *iov, int cnt, size_t total)
{
    (void)total;
    long done = 0;
    for (int i = 0; i < cnt; i++) {
        if (!iov[i].iov_len)
            continue;
        size_t want = iov[i].iov_len;
        if (want > (size_t)(VFS_MAX_RW - done))
            want = (size_t)(VFS_MAX_RW - done);
        long n = f->ops->write(v, f, iov[i].iov_base, want);
        if (n < 0)
            return done ? done : n;
        done += n;
        if ((size_t)n < iov[i].iov_len || done >= VFS_MAX_RW)
            break;
    }
    return done;
}

/* What fstat shows of a pipe or a socket: an inode of the picoprocess's own (its device
 * is the stdio channels'), owned by the virtual user. */
void stream_stat_fill(struct vfs *v, struct vfs_stat *st, uint64_t ino, uint32_t mode)
{
    memset(st, 0, sizeof *st);
    st->st_dev = v->stdio_dev;
    st->st_ino = ino;
    st->st_mode = mode;
    st->st_nlink = 1;
    st->st_uid = v->uid;
    st->st_gid = v->gid;
    st->st_blksize = 4096;
}

/* One read (rbuf) or write (wbuf) of the channel f->chan, capped at VFS_MAX_RW, waiting or
 * (nonblock: the family's pipes with O_NONBLOCK) answering -EAGAIN where it would wait: an
 * answer longer than asked is the Monitor's lie (-EIO); no channel functions in the env: -EBADF. */
static long chan_transfer(struct vfs *v, struct ofd *f, void *rbuf, const void *wbuf, size_t n, int nonblock)
{
    if (n == 0)
        return 0;
    if (n > (size_t)VFS_MAX_RW)
        n = VFS_MAX_RW;
    long r;
    if (rbuf) {
        long (*read)(void *, int, void *, size_t) = nonblock ? v->env.chan_try_read : v->env.chan_read;
        if (!read)
            return -EBADF;
        r = read(v->env.ctx, f->chan, rbuf, n);
    } else {
        long (*write)(void *, int, const void *, size_t) = nonblock ? v->env.chan_try_write : v->env.chan_write;
        if (!write)
            return -EBADF;
        r = write(v->env.ctx, f->chan, wbuf, n);
    }
    return r > (long)n ? -EIO : r;
}

long stream_chan_read(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    return buf ? chan_transfer(v, f, buf, 0, n, 0) : n ? -EFAULT : 0;
}

long stream_chan_write(struct vfs *v, struct ofd *f, const void *buf, size_t n)
{
    return buf ? chan_transfer(v, f, 0, buf, n, 0) : n ? -EFAULT : 0;
}

/* A description of the family's pipes with O_NONBLOCK: -EAGAIN where the others wait. */
long stream_chan_try_read(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    return buf ? chan_transfer(v, f, buf, 0, n, 1) : n ? -EFAULT : 0;
}

long stream_chan_try_write(struct vfs *v, struct ofd *f, const void *buf, size_t n)
{
    return buf ? chan_transfer(v, f, 0, buf, n, 1) : n ? -EFAULT : 0;
}
