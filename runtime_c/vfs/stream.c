/* Open descriptions with no node behind them: the stdio channels, pipes and
 * unconnected sockets.  Their reads, writes and fstat go through here, and so
 * do the vectored forms, alike for all three: readv fills the first non-empty
 * buffer only (a short read, as a pipe may give), writev stops at the first
 * short write. */
#include "vfs_int.h"

long stream_read(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    if (f->kind == OFD_STDIO)
        return stdio_read(v, f, buf, n);
    if (f->kind == OFD_SOCKET)
        return -ENOTCONN;
    f->refs++; /* a pipe's read may wait (pipe.c): held for the call, as the kernel holds the file */
    long r = pipe_read(v, f, buf, n);
    ofd_put(v, f);
    return r;
}

long stream_write(struct vfs *v, struct ofd *f, const void *buf, size_t n)
{
    if (f->kind == OFD_STDIO)
        return stdio_write(v, f, buf, n);
    if (f->kind == OFD_SOCKET)
        return -ENOTCONN;
    f->refs++;
    long r = pipe_write(v, f, buf, n);
    ofd_put(v, f);
    return r;
}

long stream_readv(struct vfs *v, struct ofd *f, const struct vfs_iovec *iov, int cnt)
{
    for (int i = 0; i < cnt; i++)
        if (iov[i].iov_len)
            return stream_read(v, f, iov[i].iov_base, iov[i].iov_len);
    return 0;
}

long stream_writev(struct vfs *v, struct ofd *f, const struct vfs_iovec *iov, int cnt)
{
    long total = 0;
    for (int i = 0; i < cnt; i++) {
        if (!iov[i].iov_len)
            continue;
        size_t want = iov[i].iov_len;
        if (want > (size_t)(VFS_MAX_RW - total))
            want = (size_t)(VFS_MAX_RW - total);
        long n = stream_write(v, f, iov[i].iov_base, want);
        if (n < 0)
            return total ? total : n;
        total += n;
        if ((size_t)n < iov[i].iov_len || total >= VFS_MAX_RW)
            break;
    }
    return total;
}

/* What fstat shows of a pipe or a socket: an inode of the picoprocess's own
 * (its device is the stdio channels'), owned by the virtual user. */
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

void stream_stat(struct vfs *v, struct ofd *f, struct vfs_stat *st)
{
    if (f->kind == OFD_PIPE)
        pipe_stat(v, f, st);
    else if (f->kind == OFD_SOCKET)
        socket_stat(v, f, st);
    else
        stdio_stat(v, f, st);
}
