/* Pipes (pipe, pipe2): a ring of 64 KiB (Linux's default pipe size; F_SETPIPE_SZ changes it) between a
 * read end and a write end, each an open description of its own.
 *
 * As on Linux: read returns what is there (up to n), 0 once no writer is left,
 * -EAGAIN when empty and O_NONBLOCK; write of at most PIPE_BUF (4096) bytes is
 * all or nothing, a larger one may be split; -EPIPE when no reader is left (the
 * program gets the error, not SIGPIPE: the layer raises no signals); lseek and
 * the positional calls are -ESPIPE; fstat shows a FIFO; poll as pipe_poll answers.
 *
 * A blocking read or write that cannot go on waits through env->wait on the
 * pipe's sequence word (bumped by every change) and env->wake wakes the
 * waiters: in the layer, a futex wait with the layer's lock let go, so that
 * another thread can fill or drain the pipe.  Without env->wait (the host
 * build, one thread) such a call answers -EAGAIN instead of waiting forever. */
#include "vfs_int.h"

#define PIPE_BUF_ATOMIC 4096

struct vpipe {
    uint32_t readers, writers;  /* open descriptions of each end */
    uint32_t seq;               /* the futex word waiters sleep on */
    uint64_t ino;
    size_t head, len;           /* bytes [head, head + len) of the ring */
    uint32_t cap;               /* its capacity (F_SETPIPE_SZ): XAX_PIPE_CAPACITY at first */
    uint8_t *buf;               /* cap bytes, from the first write on */
    struct vfs_ts atime, mtime, ctime;
};

static void changed(struct vfs *v, struct vpipe *p)
{
    p->seq++;
    if (v->env.wake)
        v->env.wake(v->env.ctx, &p->seq);
}

static const struct vfs_file_ops pipe_fops;

long vfs_pipe2(struct vfs *v, int *fds, int flags)
{
    if (!v)
        return -EINVAL;
    if (!fds)
        return -EFAULT;
    if (flags & ~(O_CLOEXEC | O_NONBLOCK))
        return -EINVAL; /* O_DIRECT (packet mode) and notification pipes are not offered */
    struct vpipe *p = vmem_zalloc(v, sizeof *p);
    struct ofd *rd = ofd_new(v), *wr = ofd_new(v);
    long rfd = -ENOMEM, wfd = -ENOMEM;
    if (!p || !rd || !wr)
        goto fail;
    if ((rfd = fd_alloc(v, 0)) < 0)
        goto fail;
    fd_install(v, (int)rfd, rd, (flags & O_CLOEXEC) != 0);
    if ((wfd = fd_alloc(v, 0)) < 0) {
        v->fds[rfd] = 0;
        v->cloexec[rfd] = 0;
        goto fail;
    }
    fd_install(v, (int)wfd, wr, (flags & O_CLOEXEC) != 0);
    p->readers = p->writers = 1;
    p->cap = XAX_PIPE_CAPACITY;
    p->ino = v->sh->next_ino++;
    vfs_now(v, &p->ctime);
    p->atime = p->mtime = p->ctime;
    uint32_t nb = flags & O_NONBLOCK;
    *rd = (struct ofd){.refs = 1, .ops = &pipe_fops, .fmode = FM_READ, .flags = O_RDONLY | nb, .priv = p};
    *wr = (struct ofd){.refs = 1, .ops = &pipe_fops, .fmode = FM_WRITE, .flags = O_WRONLY | nb, .priv = p};
    fds[0] = (int)rfd;
    fds[1] = (int)wfd;
    return 0;
fail:
    if (rd)
        vmem_free(v, rd, sizeof *rd);
    if (wr)
        vmem_free(v, wr, sizeof *wr);
    if (p)
        vmem_free(v, p, sizeof *p);
    return rfd < 0 ? rfd : wfd;
}

/* The last fd of one end is gone. */
static void pipe_release(struct vfs *v, struct ofd *f)
{
    struct vpipe *p = f->priv;
    if (f->fmode & FM_READ)
        p->readers--;
    else
        p->writers--;
    if (p->readers || p->writers) {
        changed(v, p); /* a reader waiting for data now sees end of file; a writer, EPIPE */
        return;
    }
    if (p->buf)
        vmem_free(v, p->buf, p->cap);
    vmem_free(v, p, sizeof *p);
}

/* Wait for the pipe to change.  The caller (pipe_read, pipe_write) holds a reference
 * on the description for the whole call, as the kernel holds the file: a close by
 * another thread meanwhile cannot free it under us.  0, or -EAGAIN if nothing can
 * wait here. */
static long wait_change(struct vfs *v, struct vpipe *p, uint32_t seen)
{
    if (!v->env.wait)
        return -EAGAIN;
    return v->env.wait(v->env.ctx, &p->seq, seen);
}

static long read_some(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    if (n == 0)
        return 0;
    if (!buf)
        return -EFAULT;
    struct vpipe *p = f->priv;
    for (;;) {
        if (p->len) {
            size_t k = n < p->len ? n : p->len;
            size_t first = p->cap - p->head < k ? p->cap - p->head : k;
            size_t left = vfs_copy_out(v, buf, p->buf + p->head, first);
            if (!left)
                left = vfs_copy_out(v, (char *)buf + first, p->buf, k - first);
            else
                left += k - first;
            if (left == k)
                return -EFAULT; /* nothing taken: the bytes stay in the pipe */
            k -= left;
            p->head = (p->head + k) % p->cap;
            p->len -= k;
            vfs_now(v, &p->atime);
            changed(v, p);
            return (long)k;
        }
        if (!p->writers)
            return 0;
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        long r = wait_change(v, p, p->seq);
        if (r < 0)
            return r;
    }
}

static long write_some(struct vfs *v, struct ofd *f, const void *buf, size_t n)
{
    if (n == 0)
        return 0;
    if (!buf)
        return -EFAULT;
    struct vpipe *p = f->priv;
    if (n > (size_t)VFS_MAX_RW)
        n = VFS_MAX_RW;
    size_t done = 0;
    for (;;) {
        if (!p->readers)
            return done ? (long)done : -EPIPE;
        if (!p->buf && !(p->buf = vmem_alloc(v, p->cap)))
            return done ? (long)done : -ENOMEM;
        size_t space = p->cap - p->len, left = n - done;
        /* up to PIPE_BUF bytes go in at once or not at all */
        if (space && (left > PIPE_BUF_ATOMIC || space >= left)) {
            size_t k = left < space ? left : space;
            size_t tail = (p->head + p->len) % p->cap;
            size_t first = p->cap - tail < k ? p->cap - tail : k;
            size_t bad = vfs_copy_in(v, p->buf + tail, (const char *)buf + done, first);
            if (!bad)
                bad = vfs_copy_in(v, p->buf, (const char *)buf + done + first, k - first);
            else
                bad += k - first;
            if (bad == k)
                return done ? (long)done : -EFAULT;
            int stop = bad != 0; /* the rest of the caller's buffer cannot be read */
            k -= bad;
            p->len += k;
            done += k;
            vfs_now(v, &p->mtime);
            p->ctime = p->mtime;
            changed(v, p);
            if (done == n || stop)
                return (long)done;
        }
        if (f->flags & O_NONBLOCK)
            return done ? (long)done : -EAGAIN;
        long r = wait_change(v, p, p->seq);
        if (r < 0)
            return done ? (long)done : r;
    }
}

static long pipe_read(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    f->refs++; /* it may wait: held for the call, as the kernel holds the file */
    long r = read_some(v, f, buf, n);
    ofd_put(v, f);
    return r;
}

static long pipe_write(struct vfs *v, struct ofd *f, const void *buf, size_t n)
{
    f->refs++;
    long r = write_some(v, f, buf, n);
    ofd_put(v, f);
    return r;
}

static void pipe_stat(struct vfs *v, struct ofd *f, struct vfs_stat *st)
{
    struct vpipe *p = f->priv;
    stream_stat_fill(v, st, p->ino, S_IFIFO | 0600);
    st->st_atime_sec = (uint64_t)p->atime.sec;
    st->st_atime_nsec = p->atime.nsec;
    st->st_mtime_sec = (uint64_t)p->mtime.sec;
    st->st_mtime_nsec = p->mtime.nsec;
    st->st_ctime_sec = (uint64_t)p->ctime.sec;
    st->st_ctime_nsec = p->ctime.nsec;
}

/* pipe_poll: the read end is readable with data in the pipe and hangs up once no writer
 * is left; the write end is writable while PIPE_BUF bytes fit (Linux: while one of its 16
 * page buffers is free) and in error once no reader is left */
static uint32_t pipe_poll(struct vfs *v, struct ofd *f, int *chan)
{
    (void)v;
    (void)chan;
    struct vpipe *p = f->priv;
    uint32_t mask = 0;
    if (f->fmode & FM_READ) {
        if (p->len)
            mask |= POLLIN | POLLRDNORM;
        if (!p->writers)
            mask |= POLLHUP;
    } else {
        if (p->cap - p->len >= PIPE_BUF_ATOMIC)
            mask |= POLLOUT | POLLWRNORM;
        if (!p->readers)
            mask |= POLLERR;
    }
    return mask;
}

/* every change of the pipe is an event (epoll's EPOLLET reports the next one) */
static uint32_t pipe_events(struct vfs *v, struct ofd *f)
{
    (void)v;
    return ((struct vpipe *)f->priv)->seq;
}

static size_t buffered(const struct vpipe *p, uint8_t *out);

/* F_GETPIPE_SZ, F_SETPIPE_SZ: the ring moves into one of the new size, what it holds first. */
static long pipe_size(struct vfs *v, struct ofd *f, uint32_t size)
{
    struct vpipe *p = f->priv;
    if (!size || size == p->cap)
        return p->cap;
    if (p->len > size)
        return -EBUSY;
    if (p->buf) {
        uint8_t *ring = vmem_alloc(v, size);
        if (!ring)
            return -ENOMEM;
        buffered(p, ring);
        vmem_free(v, p->buf, p->cap);
        p->buf = ring;
        p->head = 0;
    }
    p->cap = size;
    changed(v, p); /* a writer waiting for room may have it now */
    return p->cap;
}

static const struct vfs_file_ops pipe_fops = {
    .read = pipe_read,
    .write = pipe_write,
    .readv = stream_readv,
    .writev = stream_writev,
    .stat = pipe_stat,
    .poll = pipe_poll,
    .events = pipe_events,
    .pipe_size = pipe_size,
    .release = pipe_release,
};

/* -- pipes that cross a fork (docs/processes.md) ---------------------------------------------
 *
 * A pipe lives in one process's memory; after a fork each process would have a copy of its own.
 * So before a fork every pipe the process holds becomes a pipe of the Monitor's (two channels
 * of the family, with what is buffered in it), and each of its descriptions a description of
 * one of those channels: reads and writes go to the Monitor, which keeps one buffer for the
 * family and closes an end when no process holds it any more.  A pipe made and used by one
 * process alone never pays for this.  Their reads and writes are stdio's (stream_chan_read,
 * stream_chan_write), or with O_NONBLOCK one try each (EAGAIN when the Monitor's buffer is
 * empty, or has no room: a write of at most PIPE_BUF bytes goes in whole or not at all). */
static void famchan_stat(struct vfs *v, struct ofd *f, struct vfs_stat *st)
{
    stream_stat_fill(v, st, f->pos, S_IFIFO | 0600);
}

#define FAMCHAN_SETFL (O_APPEND | O_NONBLOCK | O_NOATIME) /* F_SETFL's, but O_DIRECT (a packet pipe) */

static long famchan_setfl(struct vfs *v, struct ofd *f, uint32_t flags)
{
    if (flags & (FASYNC | O_DIRECT))
        return -EINVAL;
    if ((flags & O_NONBLOCK) && (!v->env.chan_try_read || !v->env.chan_try_write))
        return -EINVAL;
    f->flags = (flags & FAMCHAN_SETFL) | (f->flags & ~(uint32_t)FAMCHAN_SETFL);
    return 0;
}

static long famchan_read(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    return (f->flags & O_NONBLOCK) ? stream_chan_try_read(v, f, buf, n) : stream_chan_read(v, f, buf, n);
}

static long famchan_write(struct vfs *v, struct ofd *f, const void *buf, size_t n)
{
    return (f->flags & O_NONBLOCK) ? stream_chan_try_write(v, f, buf, n) : stream_chan_write(v, f, buf, n);
}

static uint32_t famchan_poll(struct vfs *v, struct ofd *f, int *chan)
{
    (void)v;
    *chan = f->chan;
    return 0;
}

static void famchan_release(struct vfs *v, struct ofd *f)
{
    v->env.chan_close(v->env.ctx, f->chan);
}

/* The family pipe's capacity is the Monitor's (PIPE_SIZE): every process sees one size. */
static long famchan_pipe_size(struct vfs *v, struct ofd *f, uint32_t size)
{
    if (!v->env.monitor)
        return -EBADF;
    uint32_t outlen = 0;
    return v->env.monitor(v->env.ctx, XAX_MSG_PIPE_SIZE, f->chan, (int32_t)size, 0, 0, 0, 0, &outlen);
}

static const struct vfs_file_ops famchan_fops = {
    .per_process = 1,
    .read = famchan_read,
    .write = famchan_write,
    .readv = stream_readv,
    .writev = stream_writev,
    .stat = famchan_stat,
    .setfl = famchan_setfl,
    .pipe_size = famchan_pipe_size,
    .poll = famchan_poll,
    .release = famchan_release,
};

/* The bytes buffered in p, in order, into out (p->cap bytes): how many. */
static size_t buffered(const struct vpipe *p, uint8_t *out)
{
    for (size_t i = 0; i < p->len; i++)
        out[i] = p->buf[(p->head + i) % p->cap];
    return p->len;
}

long vfs_pipes_to_channels(struct vfs *v, vfs_make_pipe make, void *ctx)
{
    if (!v || !make)
        return -EINVAL;
    for (int fd = 0; fd < v->fd_limit; fd++) {
        struct ofd *f = v->fds[fd];
        if (!f || f->ops != &pipe_fops)
            continue;
        struct vpipe *p = f->priv;
        uint8_t *data = p->len ? vmem_alloc(v, p->cap) : 0;
        if (p->len && !data)
            return -ENOMEM;
        size_t len = data ? buffered(p, data) : 0;
        int chans[2];
        long r = make(ctx, data, len, p->cap, chans);
        if (data)
            vmem_free(v, data, p->cap);
        if (r < 0)
            return r;
        uint64_t ino = p->ino;
        for (int g = fd; g < v->fd_limit; g++) { /* every description of p: each end, however often dup'd */
            struct ofd *e = v->fds[g];
            if (!e || e->ops != &pipe_fops || e->priv != p)
                continue;
            e->ops = &famchan_fops;
            e->chan = chans[(e->fmode & FM_READ) ? 0 : 1];
            e->priv = 0;
            e->pos = ino;
        }
        /* An end no fd holds (closed already, or only in a description being read by another
         * thread, which this fork does not see finish) is closed at the Monitor now. */
        if (!p->readers || !p->writers) {
            if (!p->readers)
                v->env.chan_close(v->env.ctx, chans[0]);
            if (!p->writers)
                v->env.chan_close(v->env.ctx, chans[1]);
        }
        if (p->buf)
            vmem_free(v, p->buf, p->cap);
        vmem_free(v, p, sizeof *p);
    }
    return 0;
}
