/* openat: flags O_RDONLY/O_WRONLY/O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND,
 * O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC, O_PATH (O_NONBLOCK, O_DIRECT, O_NOATIME,
 * O_SYNC/O_DSYNC are kept for F_GETFL and otherwise change nothing; O_TMPFILE
 * is EOPNOTSUPP).  The checks and their order are those of Linux's
 * build_open_flags, do_sys_openat2 (name, then fd, then walk), lookup_open,
 * do_open and may_open: EINVAL for O_CREAT|O_DIRECTORY, EMFILE, the walk's
 * errors, EEXIST, EISDIR, ENOTDIR, EROFS, ELOOP for O_NOFOLLOW on a symlink,
 * EACCES, ENOSPC.  F_GETFL then shows the flags minus O_CREAT, O_EXCL,
 * O_NOCTTY, O_TRUNC and O_CLOEXEC, plus O_LARGEFILE (O_PATH: only O_PATH,
 * O_DIRECTORY and O_NOFOLLOW).  Devices and FIFOs open through their backend's
 * open (the synthetic /dev, the stdio channels' nodes); elsewhere they are EACCES,
 * as on a nodev mount.  Opening a channel's node (/dev/stdout, /proc/self/fd/1)
 * opens that channel again. */
#include "vfs_int.h"

#define VALID_OPEN_FLAGS                                                                                   \
    (O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | FASYNC | O_DIRECT | \
     O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | __O_SYNC | O_PATH | __O_TMPFILE)
#define O_PATH_FLAGS (O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)

/* Creates a regular file `name` in dir (found absent by the walk). */
static long create_file(struct vfs *v, struct walk *w, uint32_t mode, struct vnode **out)
{
    struct vnode *dir = w->dir;
    if (dir->flags & VN_DEAD)
        return -ENOENT;
    if (route_rofs(dir->rt))
        return -EROFS;
    long r = vfs_permission(v, dir, MAY_W | MAY_X);
    if (r < 0)
        return r;
    if (!dir->rt->ops->create)
        return -EPERM; /* a synthetic route: not even root creates files there */
    struct vnode *n;
    r = dir->rt->ops->create(v, dir->rt, S_IFREG | (mode & VFS_PERM_MASK & ~v->umask), &n);
    if (r < 0)
        return r;
    r = node_set_name(v, n, w->name, w->len, 1);
    if (r == 0 && dir->rt->ops->make)
        r = dir->rt->ops->make(v, dir, w->name, w->len, n); /* made outside first (a host directory) */
    if (r < 0) {
        n->flags |= VN_DEAD;
        node_destroy(v, n);
        return r;
    }
    node_link(v, dir, n);
    vfs_now(v, &dir->mtime);
    dir->ctime = dir->mtime;
    *out = n;
    return 0;
}

/* may_open: what the file's type and the virtual user's rights allow */
static long may_open(struct vfs *v, struct vnode *n, int acc)
{
    switch (n->mode & S_IFMT) {
    case S_IFLNK:
        return -ELOOP;
    case S_IFDIR:
        if (acc & MAY_W)
            return -EISDIR;
        break;
    case S_IFREG:
        break;
    case S_IFSOCK:
        return -ENXIO;
    default: /* devices and FIFOs: their backend opens them, or none does (a nodev mount) */
        if (!n->rt->ops->open)
            return -EACCES;
        long r = vfs_permission(v, n, acc);
        return r < 0 ? r : n->rt->ops->open(v, n, acc);
    }
    return vfs_permission(v, n, acc);
}

/* build_open_flags: the flags kept (*fl), or -EINVAL / -EOPNOTSUPP */
static long check_flags(int flags, uint32_t *flp)
{
    uint32_t fl = (uint32_t)flags & VALID_OPEN_FLAGS;
    if (fl & O_PATH)
        fl &= O_PATH_FLAGS;
    if ((fl & O_CREAT) && (fl & O_DIRECTORY))
        return -EINVAL;
    if (fl & __O_TMPFILE)
        return ((fl & O_TMPFILE) != O_TMPFILE || (fl & O_ACCMODE) == O_RDONLY) ? -EINVAL : -EOPNOTSUPP;
    *flp = fl;
    return 0;
}

/* What the flags ask: the rights to check (MAY_*), the description's FM_*, the walk's W_*. */
static void open_mode(uint32_t fl, int *accp, uint32_t *fmodep, int *wflagsp)
{
    int acc = 0, wflags = 0;
    uint32_t fmode = 0;
    if (fl & O_PATH) {
        fmode = FM_PATH;
        if (!(fl & O_NOFOLLOW))
            wflags |= W_FOLLOW;
        if (fl & O_DIRECTORY)
            wflags |= W_DIRECTORY;
    } else {
        switch (fl & O_ACCMODE) {
        case O_RDONLY: acc = MAY_R; fmode = FM_READ; break;
        case O_WRONLY: acc = MAY_W; fmode = FM_WRITE; break;
        case O_RDWR: acc = MAY_R | MAY_W; fmode = FM_READ | FM_WRITE; break;
        default: acc = MAY_R | MAY_W; fmode = 0; break; /* 3: rights checked, no reads or writes */
        }
        if (fl & O_TRUNC)
            acc |= MAY_W;
        if (!(fl & O_NOFOLLOW) && !((fl & O_CREAT) && (fl & O_EXCL)))
            wflags |= W_FOLLOW;
        if (fl & O_CREAT)
            wflags |= W_CREATE;
        if ((acc & MAY_W) || (fl & O_CREAT))
            wflags |= W_WRITE;
    }
    *accp = acc;
    *fmodep = fmode;
    *wflagsp = wflags;
}

/* The name's checks, before the fd is taken: -EFAULT, -ENAMETOOLONG, -ENOENT (empty) */
static long check_name(const char *path)
{
    if (!path)
        return -EFAULT;
    size_t len = 0;
    while (path[len])
        if (++len >= VFS_PATH_MAX)
            return -ENAMETOOLONG;
    return len ? 0 : -ENOENT;
}

/* do_open on a node that was there: O_DIRECTORY, the rights (may_open), O_TRUNC */
static long open_existing(struct vfs *v, struct vnode *n, uint32_t fl, int acc)
{
    if ((fl & O_DIRECTORY) && !VFS_ISDIR(n->mode))
        return -ENOTDIR;
    int trunc = VFS_ISREG(n->mode) && (fl & O_TRUNC);
    if (trunc && !n->rt->ops->truncate && route_rofs(n->rt))
        return -EROFS;
    long r = may_open(v, n, acc);
    if (r < 0)
        return r;
    if (trunc && n->size && n->rt->ops->truncate)
        return n->rt->ops->truncate(v, n, 0);
    return 0;
}

/* The node the walk found, or the file O_CREAT makes, ready to be opened. */
static long open_node(struct vfs *v, struct walk *w, uint32_t fl, uint32_t mode, int acc, struct vnode **out)
{
    struct vnode *n = w->node;
    *out = n;
    if (fl & O_PATH)
        return 0;
    if (fl & O_CREAT) {
        if (!n)
            return create_file(v, w, mode, out);
        if (fl & O_EXCL)
            return -EEXIST;
        if (VFS_ISDIR(n->mode))
            return -EISDIR;
    }
    return open_existing(v, n, fl, acc);
}

/* The description on n, at fd: the node's file, or what its backend makes of opening it
 * (a channel's node opens the channel again). */
static long install(struct vfs *v, long fd, struct vnode *n, uint32_t fl, uint32_t fmode)
{
    struct ofd *f = ofd_new(v);
    if (!f)
        return -ENOMEM;
    f->fmode = fmode;
    if (fl & O_PATH)
        f->flags = fl & (O_PATH | O_DIRECTORY | O_NOFOLLOW);
    else
        f->flags = (fl & ~(uint32_t)(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) | O_LARGEFILE;
    f->ops = (fl & O_PATH) || !n->rt->ops->fops ? &vfs_node_fops : n->rt->ops->fops;
    long r = f->ops->open ? f->ops->open(v, f, n) : 0;
    if (r < 0) {
        vmem_free(v, f, sizeof *f);
        return r;
    }
    fd_install(v, (int)fd, f, fl & O_CLOEXEC);
    return fd;
}

long vfs_openat(struct vfs *v, int dirfd, const char *path, int flags, uint32_t mode)
{
    if (!v)
        return -EINVAL;
    uint32_t fl;
    long r = check_flags(flags, &fl);
    if (r < 0)
        return r;
    int acc, wflags;
    uint32_t fmode;
    open_mode(fl, &acc, &fmode, &wflags);
    /* the name first, then the fd, then the walk */
    if ((r = check_name(path)) < 0)
        return r;
    long fd = fd_alloc(v, 0);
    if (fd < 0)
        return fd;
    struct walk w;
    if ((r = vfs_walk(v, dirfd, path, wflags, &w)) < 0)
        return r;
    struct vnode *n;
    if ((r = open_node(v, &w, fl, mode, acc, &n)) < 0)
        return r;
    return install(v, fd, n, fl, fmode);
}
