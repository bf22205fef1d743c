/* The virtual fd table: fd_get / fd_get_io / fd_alloc / fd_install, open file
 * descriptions (ofd_new, ofd_put: shared by dup'ed fds; the last put lets the kind
 * release what it holds: a node, a stdio channel, a pipe's end), and the calls that work
 * on fds alone: close, close_range, dup, dup2, dup3, fcntl (F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD,
 * F_SETFD, F_GETFL, F_SETFL, F_GETPIPE_SZ and F_SETPIPE_SZ (a pipe's kind answers) — O_APPEND, O_NONBLOCK, O_DIRECT, O_NOATIME, kept and shown,
 * O_APPEND the only one that changes anything, unless the kind says otherwise — and the
 * record locks of a node's file, which always succeed: there is one process), ioctl (the
 * kind's, else ENOTTY).  The reserved fd (vfs_reserve_fd) is never handed out and never
 * found. */
#include "vfs_int.h"

struct ofd *fd_get(struct vfs *v, int fd)
{
    if (!v || fd < 0 || fd >= v->fd_limit || v->reserved[fd])
        return 0;
    return v->fds[fd];
}

struct ofd *fd_get_io(struct vfs *v, int fd)
{
    struct ofd *f = fd_get(v, fd);
    return (f && !(f->fmode & FM_PATH)) ? f : 0;
}

long fd_alloc(struct vfs *v, int from)
{
    if (from < 0)
        from = 0;
    for (int fd = from; fd < v->fd_limit; fd++)
        if (!v->fds[fd] && !v->reserved[fd])
            return fd;
    return -EMFILE;
}

void fd_install(struct vfs *v, int fd, struct ofd *f, int cloexec)
{
    v->fds[fd] = f;
    v->cloexec[fd] = cloexec ? 1 : 0;
}

struct ofd *ofd_new(struct vfs *v)
{
    struct ofd *f = vmem_zalloc(v, sizeof *f);
    if (f)
        f->refs = 1;
    return f;
}

void ofd_put(struct vfs *v, struct ofd *f)
{
    if (!f || --f->refs)
        return;
    if (v->sh->on_release) /* epoll sets holding it let go (epoll.c) */
        v->sh->on_release(v, f);
    if (f->ops && f->ops->release)
        f->ops->release(v, f);
    vmem_free(v, f, sizeof *f);
}

long vfs_close(struct vfs *v, int fd)
{
    struct ofd *f = fd_get(v, fd);
    if (!f)
        return -EBADF;
    v->fds[fd] = 0;
    v->cloexec[fd] = 0;
    ofd_put(v, f);
    return 0;
}

/* close_range(first, last, flags) as Linux 5.11+: EINVAL for a flag other than
 * CLOSE_RANGE_UNSHARE and CLOSE_RANGE_CLOEXEC or for first > last; the open fds of
 * [first, min(last, the table's end)] are closed (CLOEXEC: marked close-on-exec instead);
 * fds not open are passed over; 0.  CLOSE_RANGE_UNSHARE asks the kernel for a table of the
 * caller's own first; the layer's table is the process's, shared by its threads, so it is
 * the one changed: for a caller with no other thread (a child after fork, which is how
 * subprocess and posix_spawn use it) that is exactly Linux's result. */
long vfs_close_range(struct vfs *v, unsigned first, unsigned last, unsigned flags)
{
    if (flags & ~(unsigned)(VFS_CLOSE_RANGE_UNSHARE | VFS_CLOSE_RANGE_CLOEXEC))
        return -EINVAL;
    if (first > last)
        return -EINVAL;
    if (!v)
        return 0;
    for (unsigned fd = first; fd <= last && fd < (unsigned)v->fd_limit; fd++) {
        if (!fd_get(v, (int)fd))
            continue;
        if (flags & VFS_CLOSE_RANGE_CLOEXEC)
            v->cloexec[fd] = 1;
        else
            vfs_close(v, (int)fd);
    }
    return 0;
}

long vfs_dup(struct vfs *v, int fd)
{
    struct ofd *f = fd_get(v, fd);
    if (!f)
        return -EBADF;
    long nfd = fd_alloc(v, 0);
    if (nfd < 0)
        return nfd;
    f->refs++;
    fd_install(v, (int)nfd, f, 0);
    return nfd;
}

static long do_dup2(struct vfs *v, struct ofd *f, int newfd, int cloexec)
{
    struct ofd *old = v->fds[newfd];
    f->refs++;
    fd_install(v, newfd, f, cloexec);
    if (old)
        ofd_put(v, old);
    return newfd;
}

long vfs_dup3(struct vfs *v, int oldfd, int newfd, int flags)
{
    if (!v)
        return -EBADF;
    if (flags & ~O_CLOEXEC)
        return -EINVAL;
    if (oldfd == newfd)
        return -EINVAL;
    if ((unsigned)newfd >= (unsigned)v->fd_limit || v->reserved[newfd])
        return -EBADF;
    struct ofd *f = fd_get(v, oldfd);
    if (!f)
        return -EBADF;
    return do_dup2(v, f, newfd, flags & O_CLOEXEC);
}

long vfs_dup2(struct vfs *v, int oldfd, int newfd)
{
    if (!v)
        return -EBADF;
    if (oldfd == newfd)
        return fd_get(v, oldfd) ? newfd : -EBADF;
    return vfs_dup3(v, oldfd, newfd, 0);
}

long vfs_lock_granted(struct vfs *v, struct ofd *f, int cmd, struct vfs_flock *fl)
{
    (void)v;
    if (fl->l_whence < 0 || fl->l_whence > 2)
        return -EINVAL;
    if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
        if (fl->l_type != F_RDLCK && fl->l_type != F_WRLCK && fl->l_type != F_UNLCK)
            return -EINVAL;
        fl->l_type = F_UNLCK; /* nobody else holds a lock */
        return 0;
    }
    switch (fl->l_type) {
    case F_RDLCK:
        return (f->fmode & FM_READ) ? 0 : -EBADF;
    case F_WRLCK:
        return (f->fmode & FM_WRITE) ? 0 : -EBADF;
    case F_UNLCK:
        return 0;
    default:
        return -EINVAL;
    }
}

static long do_lock(struct vfs *v, struct ofd *f, int cmd, struct vfs_flock *fl)
{
    if (!fl)
        return -EFAULT;
    if (!f->ops->lock)
        return -EINVAL; /* pipes take locks on Linux; the channels and our pipes do not */
    return f->ops->lock(v, f, cmd, fl);
}

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#endif

/* F_SETPIPE_SZ as Linux's pipe_set_size: the size rounded up to a power of two, at least a
 * page; above 2^31, EINVAL; growing past pipe-max-size, EPERM (no CAP_SYS_RESOURCE here). */
static long set_pipe_size(struct vfs *v, struct ofd *f, uint32_t arg)
{
    if (arg > (1u << 31))
        return -EINVAL;
    uint32_t size = XAX_PIPE_MIN_SIZE;
    while (size < arg)
        size <<= 1;
    if (size > XAX_PIPE_MAX_SIZE) {
        long now = f->ops->pipe_size(v, f, 0);
        if (now < 0 || size > (uint32_t)now)
            return -EPERM;
    }
    return f->ops->pipe_size(v, f, size);
}

#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME)

long vfs_fcntl(struct vfs *v, int fd, int cmd, uint64_t arg)
{
    struct ofd *f = fd_get(v, fd);
    if (!f)
        return -EBADF;
    if ((f->fmode & FM_PATH) && cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC && cmd != F_GETFD &&
        cmd != F_SETFD && cmd != F_GETFL)
        return -EBADF;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        unsigned from = (unsigned)(int)arg;
        if (from >= (unsigned)v->fd_limit)
            return -EINVAL;
        long nfd = fd_alloc(v, (int)from);
        if (nfd < 0)
            return nfd;
        f->refs++;
        fd_install(v, (int)nfd, f, cmd == F_DUPFD_CLOEXEC);
        return nfd;
    }
    case F_GETFD:
        return v->cloexec[fd] ? FD_CLOEXEC : 0;
    case F_SETFD:
        v->cloexec[fd] = (arg & FD_CLOEXEC) ? 1 : 0;
        return 0;
    case F_GETFL:
        return f->flags;
    case F_SETFL: {
        uint32_t a = (uint32_t)arg;
        if (f->ops->setfl)
            return f->ops->setfl(v, f, a);
        f->flags = (a & SETFL_MASK) | (f->flags & ~(uint32_t)SETFL_MASK);
        return 0;
    }
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
        return do_lock(v, f, cmd, (struct vfs_flock *)(uintptr_t)arg);
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ:
        if (!f->ops->pipe_size)
            return -EBADF; /* not a pipe: Linux's pipe_fcntl */
        return cmd == F_GETPIPE_SZ ? f->ops->pipe_size(v, f, 0) : set_pipe_size(v, f, (uint32_t)arg);
    default:
        return -EINVAL;
    }
}

#define FIONBIO_ 0x5421
#define FIONCLEX_ 0x5450
#define FIOCLEX_ 0x5451

/* What do_vfs_ioctl answers for every file before its own ioctl: FIOCLEX and FIONCLEX
 * (close-on-exec), FIONBIO (O_NONBLOCK, from the int at arg; the stdio channels refuse it
 * as their F_SETFL does). */
long vfs_ioctl(struct vfs *v, int fd, uint32_t cmd, uint64_t arg)
{
    struct ofd *f = fd_get_io(v, fd); /* O_PATH fds: EBADF, as Linux */
    if (!f)
        return -EBADF;
    if (cmd == FIOCLEX_ || cmd == FIONCLEX_) {
        v->cloexec[fd] = cmd == FIOCLEX_;
        return 0;
    }
    if (cmd == FIONBIO_) {
        const int *on = (const int *)(uintptr_t)arg;
        if (!on)
            return -EFAULT;
        uint32_t flags = *on ? f->flags | O_NONBLOCK : f->flags & ~(uint32_t)O_NONBLOCK;
        if (f->ops->setfl)
            return f->ops->setfl(v, f, flags);
        f->flags = flags;
        return 0;
    }
    if (!f->ops->ioctl)
        return -ENOTTY; /* no fd is a terminal */
    return f->ops->ioctl(v, f, cmd, arg);
}

/* execve: the fds marked close-on-exec are closed, as the kernel closes them. */
void vfs_close_on_exec(struct vfs *v)
{
    for (int fd = 0; v && fd < v->fd_limit; fd++)
        if (v->fds[fd] && v->cloexec[fd])
            vfs_close(v, fd);
}
