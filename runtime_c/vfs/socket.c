/* Unix-domain sockets that reach no one: a picoprocess has no peer to talk to
 * (its only way out is the Monitor's channel), so socket(AF_UNIX, ...) gives an
 * unconnected socket, and connect resolves the path in the picoprocess's own
 * file system as the kernel would: -ENOENT where nothing is there, -EACCES on
 * a search permission, -ECONNREFUSED where a file is there (none of ours is a
 * listening socket) and for every abstract name.  What a program probing for a
 * local daemon (a sound server, a message bus, syslog) sees is a machine where
 * the daemon is not running.
 *
 * Reads and writes are -ENOTCONN; lseek -ESPIPE; fstat shows a socket; poll shows it
 * writable, and a stream or seqpacket socket hung up, as unix_poll does.  Socket
 * options at SOL_SOCKET are accepted (getsockopt answers SO_TYPE, SO_ERROR and
 * SO_DOMAIN; others -ENOPROTOOPT). */
#include "vfs_int.h"

#define AF_UNIX_ 1
#define SOCK_STREAM_ 1
#define SOCK_DGRAM_ 2
#define SOCK_SEQPACKET_ 5
#define SOCK_TYPE_MASK_ 0xf
#define SOCK_NONBLOCK_ 04000
#define SOCK_CLOEXEC_ 02000000
#define SOL_SOCKET_ 1
#define SO_TYPE_ 3
#define SO_ERROR_ 4
#define SO_DOMAIN_ 39
#define UNIX_PATH_MAX_ 108

static const struct vfs_file_ops socket_fops;

long vfs_socket_unix(struct vfs *v, int type, int protocol)
{
    if (!v)
        return -EINVAL;
    int base = type & SOCK_TYPE_MASK_;
    if (type & ~(SOCK_TYPE_MASK_ | SOCK_NONBLOCK_ | SOCK_CLOEXEC_))
        return -EINVAL;
    if (base != SOCK_STREAM_ && base != SOCK_DGRAM_ && base != SOCK_SEQPACKET_)
        return -ESOCKTNOSUPPORT;
    if (protocol != 0)
        return -EPROTONOSUPPORT;
    struct ofd *f = ofd_new(v);
    if (!f)
        return -ENOMEM;
    long fd = fd_alloc(v, 0);
    if (fd < 0) {
        vmem_free(v, f, sizeof *f);
        return fd;
    }
    f->ops = &socket_fops;
    f->chan = base;           /* the socket's type */
    f->fmode = FM_READ | FM_WRITE;
    f->flags = O_RDWR | ((type & SOCK_NONBLOCK_) ? O_NONBLOCK : 0);
    f->pos = v->next_ino++;   /* its inode number, for fstat */
    fd_install(v, (int)fd, f, (type & SOCK_CLOEXEC_) != 0);
    return fd;
}

static long socket_of(struct vfs *v, int fd, struct ofd **out)
{
    struct ofd *f = fd_get(v, fd);
    if (!f)
        return -EBADF;
    if (f->ops != &socket_fops)
        return -ENOTSOCK;
    *out = f;
    return 0;
}

long vfs_connect_unix(struct vfs *v, int fd, const void *addr, uint32_t len)
{
    struct ofd *f;
    long r = socket_of(v, fd, &f);
    if (r < 0)
        return r;
    if (!addr)
        return -EFAULT;
    if (len < 2 || len > 2 + UNIX_PATH_MAX_)
        return -EINVAL;
    const unsigned char *a = addr;
    if ((a[0] | a[1] << 8) != AF_UNIX_)
        return -EINVAL;
    if (len == 2 || a[2] == 0)
        return -ECONNREFUSED; /* an abstract name (or an autobind request): nobody listens */
    char path[UNIX_PATH_MAX_ + 1];
    size_t n = 0;
    while (n < len - 2 && a[2 + n])
        path[n] = (char)a[2 + n], n++;
    path[n] = 0;
    struct walk w;
    r = vfs_walk(v, AT_FDCWD, path, W_FOLLOW, &w);
    if (r < 0)
        return r;
    r = vfs_permission(v, w.node, MAY_W);
    return r < 0 ? r : -ECONNREFUSED;
}

long vfs_setsockopt(struct vfs *v, int fd, int level, int name, const void *val, uint32_t len)
{
    struct ofd *f;
    long r = socket_of(v, fd, &f);
    if (r < 0)
        return r;
    (void)name;
    if (level != SOL_SOCKET_)
        return -ENOPROTOOPT;
    if (len && !val)
        return -EFAULT;
    return len < 4 ? -EINVAL : 0;
}

long vfs_getsockopt(struct vfs *v, int fd, int level, int name, void *val, uint32_t *len)
{
    struct ofd *f;
    long r = socket_of(v, fd, &f);
    if (r < 0)
        return r;
    if (level != SOL_SOCKET_)
        return -ENOPROTOOPT;
    int answer;
    switch (name) {
    case SO_TYPE_:
        answer = f->chan;
        break;
    case SO_ERROR_:
        answer = 0;
        break;
    case SO_DOMAIN_:
        answer = AF_UNIX_;
        break;
    default:
        return -ENOPROTOOPT;
    }
    if (!len || !val)
        return -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    uint32_t n = *len < sizeof answer ? *len : sizeof answer;
    memcpy(val, &answer, n);
    *len = n;
    return 0;
}

static void socket_stat(struct vfs *v, struct ofd *f, struct vfs_stat *st)
{
    stream_stat_fill(v, st, f->pos, S_IFSOCK | 0777);
}

static long socket_read(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    (void)v, (void)f, (void)buf, (void)n;
    return -ENOTCONN;
}

static long socket_write(struct vfs *v, struct ofd *f, const void *buf, size_t n)
{
    (void)v, (void)f, (void)buf, (void)n;
    return -ENOTCONN;
}

/* unix_poll of a socket that is connected to nothing: writable (its buffer is empty), and
 * a stream or seqpacket socket in state CLOSE has hung up */
static uint32_t socket_poll(struct vfs *v, struct ofd *f, int *chan)
{
    (void)v;
    (void)chan;
    uint32_t mask = POLLOUT | POLLWRNORM | POLLWRBAND;
    return f->chan == SOCK_DGRAM_ ? mask : mask | POLLHUP;
}

static const struct vfs_file_ops socket_fops = {
    .read = socket_read,
    .write = socket_write,
    .readv = stream_readv,
    .writev = stream_writev,
    .stat = socket_stat,
    .poll = socket_poll,
};
