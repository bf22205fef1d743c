/* read, write, readv, writev, ioctl — on fds 0, 1, 2, which are the stdio
 * channels in `run` mode.  Blocking semantics on top of the ABI's
 * non-blocking read/write: 0 means "not ready", so poll with block and retry. */
#include <linux/fcntl.h>
#include <asm/stat.h>
#include <linux/stat.h>
#include <linux/uio.h>

#include "../lib/sys.h"
#include "layer.h"
#include "xax_protocol.h"


/* fds 0-2 until the program closes them (the profiles issue brings a full fd table) */
static int stdio_closed[3];

static int stdio_chan(int fd, int for_write)
{
    if (!(layer_host->flags & XAX_BOOT_FLAG_STDIO) || fd < 0 || fd > 2 || stdio_closed[fd])
        return -1;
    if (fd == 0 && !for_write)
        return XAX_STDIN_CHAN;
    if (fd == 1 && for_write)
        return XAX_STDOUT_CHAN;
    if (fd == 2 && for_write)
        return XAX_STDERR_CHAN;
    return -1;
}

static void wait_for(int chan, short events)
{
    xabi_poll_fd p = {chan, events, 0};
    LAYER_ABI->poll(&p, 1, true);
}

static long chan_read(int chan, char *buf, uint64_t len)
{
    if (len == 0)
        return 0;
    if (len > 0x7fffffff)
        len = 0x7fffffff;
    for (;;) {
        int n = LAYER_ABI->read(chan, buf, (int)len);
        if (n > 0)
            return n;
        if (n < 0)
            return 0; /* closed: end of file */
        wait_for(chan, XABI_POLLIN);
    }
}

static long chan_write(int chan, const char *buf, uint64_t len)
{
    uint64_t done = 0;
    while (done < len) {
        uint64_t left = len - done;
        int n = LAYER_ABI->write(chan, (char *)buf + done, left > 0x7fffffff ? 0x7fffffff : (int)left);
        if (n > 0)
            done += n;
        else if (n < 0)
            return done ? (long)done : -EPIPE;
        else
            wait_for(chan, XABI_POLLOUT);
    }
    return (long)done;
}

long layer_read(struct layer_call *c)
{
    int chan = stdio_chan(arg_fd(c->a[0]), 0);
    if (chan < 0)
        return -EBADF;
    return chan_read(chan, (char *)c->a[1], c->a[2]);
}

long layer_write(struct layer_call *c)
{
    int chan = stdio_chan(arg_fd(c->a[0]), 1);
    if (chan < 0)
        return -EBADF;
    return chan_write(chan, (const char *)c->a[1], c->a[2]);
}

long layer_readv(struct layer_call *c)
{
    int chan = stdio_chan(arg_fd(c->a[0]), 0);
    if (chan < 0)
        return -EBADF;
    const struct iovec *iov = (const struct iovec *)c->a[1];
    int cnt = (int)c->a[2];
    if (cnt < 0 || cnt > 1024)
        return -EINVAL;
    /* One read into the first non-empty buffer: a short read is what a pipe gives too. */
    for (int i = 0; i < cnt; i++)
        if (iov[i].iov_len)
            return chan_read(chan, iov[i].iov_base, iov[i].iov_len);
    return 0;
}

long layer_writev(struct layer_call *c)
{
    int chan = stdio_chan(arg_fd(c->a[0]), 1);
    if (chan < 0)
        return -EBADF;
    const struct iovec *iov = (const struct iovec *)c->a[1];
    int cnt = (int)c->a[2];
    if (cnt < 0 || cnt > 1024)
        return -EINVAL;
    long total = 0;
    for (int i = 0; i < cnt; i++) {
        long n = chan_write(chan, iov[i].iov_base, iov[i].iov_len);
        if (n < 0)
            return total ? total : n;
        total += n;
        if ((uint64_t)n < iov[i].iov_len)
            break;
    }
    return total;
}

long layer_ioctl(struct layer_call *c)
{
    int fd = arg_fd(c->a[0]);
    if (stdio_chan(fd, fd != 0) >= 0)
        return -ENOTTY; /* stdio channels are not terminals */
    return -EBADF;
}

long layer_close(struct layer_call *c)
{
    int fd = arg_fd(c->a[0]);
    int chan = stdio_chan(fd, fd != 0);
    if (chan < 0)
        return -EBADF;
    stdio_closed[fd] = 1;
    LAYER_ABI->close(chan);
    return 0;
}

/* fcntl on the stdio fds: their flags (a pipe's: O_RDONLY for 0, O_WRONLY for
 * 1 and 2) and FD_CLOEXEC (accepted: there is no exec to close them on). */
long layer_fcntl(struct layer_call *c)
{
    int fd = arg_fd(c->a[0]);
    if (stdio_chan(fd, fd != 0) < 0)
        return -EBADF;
    switch ((int)c->a[1]) {
    case F_GETFL:
        return fd == 0 ? O_RDONLY : O_WRONLY;
    case F_SETFL: /* the channels block; a request for non-blocking I/O is refused, not ignored */
        return (c->a[2] & (O_NONBLOCK | FASYNC | O_DIRECT)) ? -EINVAL : 0;
    case F_GETFD:
    case F_SETFD:
        return 0;
    default:
        return -EINVAL;
    }
}

/* fstat of a stdio fd: it is a pipe to the Monitor, owned by the virtual user. */
static long stat_stdio(int fd, struct stat *st)
{
    if (stdio_chan(fd, fd != 0) < 0)
        return -EBADF;
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFIFO | 0600;
    st->st_nlink = 1;
    st->st_uid = layer_knobs.identity.uid;
    st->st_gid = layer_knobs.identity.gid;
    st->st_blksize = 4096;
    st->st_ino = 1 + fd;
    return 0;
}

long layer_fstat(struct layer_call *c)
{
    return stat_stdio(arg_fd(c->a[0]), (struct stat *)c->a[1]);
}

long layer_newfstatat(struct layer_call *c)
{
    const char *path = (const char *)c->a[1];
    if ((c->a[3] & AT_EMPTY_PATH) && path && !path[0])
        return stat_stdio(arg_fd(c->a[0]), (struct stat *)c->a[2]);
    layer_host->trace((int)c->nr, XAX_TRACE_MISSING); /* paths: the VFS comes next */
    return -ENOSYS;
}
