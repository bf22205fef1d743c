/* The /dev route (vfs_mount_dev): what programs open in /dev, made by the vfs,
 * nothing of the host's.
 *
 *   null     1:3  reads end at once, writes swallow everything
 *   zero     1:5  reads give zeros, writes swallow everything; MAP_PRIVATE gives zeros
 *   full     1:7  reads give zeros, writes fail with ENOSPC
 *   random   1:8  reads give bytes from env->random (the layer: the Monitor's
 *   urandom  1:9  getrandom), writes are taken and change nothing (as an
 *                 unprivileged writer's do not credit entropy)
 *   tty      5:0  ENXIO on open: a picoprocess has no controlling terminal
 *   fd -> /proc/self/fd, stdin -> /proc/self/fd/0, stdout -> .../1, stderr -> .../2
 *
 * Modes, owners and device numbers are those of a Debian system (udev's rules:
 * crw-rw-rw- root:root, and root:tty for /dev/tty); st_size is 0 and st_blksize
 * 4096, as devtmpfs shows them.  Anything else under /dev is ENOENT, and nothing
 * can be created there (the directory is root's: EACCES). */
#include "vfs_int.h"

#define TTY_GID 5 /* Debian's "tty" group */
#define RNDGETENTCNT 0x80045200U /* _IOR('R', 0x00, int) */

enum { DEV_NULL = 1, DEV_ZERO, DEV_FULL, DEV_RANDOM, DEV_URANDOM, DEV_TTY };

static const struct {
    const char *name;
    uint32_t synth, major, minor, gid;
} devices[] = {
    {"null", DEV_NULL, 1, 3, 0},     {"zero", DEV_ZERO, 1, 5, 0},       {"full", DEV_FULL, 1, 7, 0},
    {"random", DEV_RANDOM, 1, 8, 0}, {"urandom", DEV_URANDOM, 1, 9, 0}, {"tty", DEV_TTY, 5, 0, TTY_GID},
};

static const struct {
    const char *name, *target;
} links[] = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
};

/* st_rdev as the kernel encodes it (new_encode_dev) */
static uint64_t encode_dev(uint32_t major, uint32_t minor)
{
    return (minor & 0xff) | ((uint64_t)major << 8) | ((uint64_t)(minor & ~0xffU) << 12);
}

static long add(struct vfs *v, struct route *rt, const char *name, uint32_t mode, struct vnode **out)
{
    struct vnode *n = node_new(v, rt, mode);
    if (!n)
        return -ENOMEM;
    node_set_name(v, n, name, strlen(name), 0); /* a constant: never freed */
    node_link(v, rt->root, n);
    *out = n;
    return 0;
}

static long dev_populate(struct vfs *v, struct route *rt)
{
    node_own(rt->root, 0, 0);
    for (unsigned i = 0; i < sizeof devices / sizeof *devices; i++) {
        struct vnode *n;
        long r = add(v, rt, devices[i].name, S_IFCHR | 0666, &n);
        if (r < 0)
            return r;
        node_own(n, 0, devices[i].gid);
        n->synth = devices[i].synth;
        n->rdev = encode_dev(devices[i].major, devices[i].minor);
    }
    for (unsigned i = 0; i < sizeof links / sizeof *links; i++) {
        struct vnode *n;
        long r = add(v, rt, links[i].name, S_IFLNK | 0777, &n);
        if (r < 0)
            return r;
        node_own(n, 0, 0);
        n->data = (const uint8_t *)links[i].target;
        n->size = strlen(links[i].target);
    }
    return 0;
}

/* MAP_PRIVATE of /dev/zero gives zeros; no other device maps (ENODEV) */
static long dev_mmap(struct vfs *v, const struct vnode *n)
{
    (void)v;
    return VFS_ISCHR(n->mode) && n->synth == DEV_ZERO ? VFS_MAP_ZEROS : -ENODEV;
}

/* the devices have no fsync of their own (EINVAL); /dev itself, a directory in memory, has */
static long dev_fsync(struct vfs *v, struct vnode *n)
{
    (void)v;
    return VFS_ISCHR(n->mode) ? -EINVAL : 0;
}

/* Whole requests, as a read of /dev/urandom gives (the source may answer short). */
static long dev_random(struct vfs *v, uint8_t *buf, size_t len)
{
    if (!v->env.random)
        return -EIO;
    size_t done = 0;
    while (done < len) {
        long r = v->env.random(v->env.ctx, buf + done, len - done);
        if (r <= 0 || (size_t)r > len - done)
            return done ? (long)done : (r < 0 ? r : -EIO);
        done += (size_t)r;
    }
    return (long)done;
}

static long dev_read(struct vfs *v, struct vnode *n, void *buf, size_t len, uint64_t off)
{
    (void)off;
    switch (n->synth) {
    case DEV_NULL:
        return 0;
    case DEV_ZERO:
    case DEV_FULL:
        return vfs_moved(len, vfs_zero_out(v, buf, len));
    case DEV_RANDOM:
    case DEV_URANDOM:
        return dev_random(v, buf, len);
    default:
        return -EINVAL;
    }
}

static long dev_write(struct vfs *v, struct vnode *n, const void *buf, size_t len, uint64_t off)
{
    (void)v;
    (void)buf;
    (void)off;
    switch (n->synth) {
    case DEV_FULL:
        return -ENOSPC;
    case DEV_NULL:
    case DEV_ZERO:
    case DEV_RANDOM:
    case DEV_URANDOM:
        return (long)len;
    default:
        return -EINVAL;
    }
}

static long dev_open(struct vfs *v, struct vnode *n, int acc)
{
    (void)v;
    (void)acc;
    return n->synth == DEV_TTY ? -ENXIO : 0; /* no controlling terminal */
}

/* The random devices answer their own ioctls (EINVAL for anything else, TCGETS
 * included); the pool is always ready.  The others are not terminals: ENOTTY. */
static long dev_ioctl(struct vfs *v, struct vnode *n, uint32_t cmd, uint64_t arg)
{
    if (n->synth != DEV_RANDOM && n->synth != DEV_URANDOM)
        return -ENOTTY;
    if (cmd != RNDGETENTCNT)
        return -EINVAL;
    int count = 256; /* POOL_BITS: an initialized pool */
    return vfs_copy_out(v, (void *)(uintptr_t)arg, &count, sizeof count) ? -EFAULT : 0;
}

/* /dev/random polls readable only (random_poll, the pool being ready); the others have no
 * poll of their own: ready for everything */
static uint32_t dev_poll(struct vfs *v, const struct vnode *n)
{
    (void)v;
    return n->synth == DEV_RANDOM ? POLLIN | POLLRDNORM : VFS_POLL_DEFAULT;
}

const struct vfs_backend vfs_dev_backend = {
    .read = dev_read,
    .write = dev_write,
    .fsync = dev_fsync,
    .mmap = dev_mmap,
    .ioctl = dev_ioctl,
    .poll = dev_poll,
    .open = dev_open,
    .perm_only = 1,
};

long vfs_mount_dev(struct vfs *v, const char *prefix)
{
    if (!v)
        return -EINVAL;
    struct route *rt;
    long r = route_new(v, prefix, &vfs_dev_backend, 0755, &rt);
    if (r < 0)
        return r;
    rt->global_links = 1;
    r = dev_populate(v, rt);
    if (r < 0) {
        route_discard(v, rt);
        return r;
    }
    return route_attach(v, rt);
}
