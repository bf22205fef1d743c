/* What is known about a file without opening it: fstat, newfstatat
 * (AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW), statx, faccessat/faccessat2,
 * readlinkat; node_stat fills a struct stat.  Every file is owned by the
 * virtual user but root's devices and /proc files; a directory's size is
 * tmpfs's (40 + 20 per entry); blocks are counted in 4 KiB pages; a backend
 * changes what differs (vfs_backend.stat: /proc shows what procfs shows, the RAM
 * disk counts the bytes a file holds).  The layouts of vfs.h's structures are checked
 * here against the kernel's headers. */
#include <asm/stat.h>
#include <linux/stat.h>

#include "vfs_int.h"

#define SAME_FIELD(a, fa, b, fb) \
    _Static_assert(__builtin_offsetof(a, fa) == __builtin_offsetof(b, fb), #fa)
_Static_assert(sizeof(struct vfs_stat) == sizeof(struct stat), "struct stat");
SAME_FIELD(struct vfs_stat, st_ino, struct stat, st_ino);
SAME_FIELD(struct vfs_stat, st_mode, struct stat, st_mode);
SAME_FIELD(struct vfs_stat, st_size, struct stat, st_size);
SAME_FIELD(struct vfs_stat, st_blocks, struct stat, st_blocks);
SAME_FIELD(struct vfs_stat, st_mtime_sec, struct stat, st_mtime);
SAME_FIELD(struct vfs_stat, st_ctime_nsec, struct stat, st_ctime_nsec);
_Static_assert(sizeof(struct vfs_statx) == sizeof(struct statx), "struct statx");
SAME_FIELD(struct vfs_statx, stx_mode, struct statx, stx_mode);
SAME_FIELD(struct vfs_statx, stx_ino, struct statx, stx_ino);
SAME_FIELD(struct vfs_statx, stx_mtime, struct statx, stx_mtime);
SAME_FIELD(struct vfs_statx, stx_dev_minor, struct statx, stx_dev_minor);
SAME_FIELD(struct vfs_statx, stx_mnt_id, struct statx, stx_mnt_id);
SAME_FIELD(struct vfs_statx, stx_dio_offset_align, struct statx, stx_dio_offset_align);

#ifndef STATX__RESERVED
#define STATX__RESERVED 0x80000000U
#endif

static uint64_t dir_size(const struct vnode *n)
{
    return 2 * VFS_BOGO_DIRENT + (uint64_t)n->nentries * VFS_BOGO_DIRENT;
}

void node_stat(struct vfs *v, const struct vnode *n, struct vfs_stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_dev = n->rt->dev;
    st->st_ino = n->ino;
    st->st_nlink = n->nlink;
    st->st_mode = n->mode;
    st->st_uid = (n->flags & VN_OWNED) ? n->uid : v->uid;
    st->st_gid = (n->flags & VN_OWNED) ? n->gid : v->gid;
    st->st_rdev = n->rdev;
    st->st_blksize = 4096;
    if (VFS_ISDIR(n->mode)) {
        st->st_size = (int64_t)dir_size(n);
    } else {
        st->st_size = (int64_t)n->size;
        if (VFS_ISREG(n->mode))
            st->st_blocks = (int64_t)(((n->size + 4095) / 4096) * 8);
    }
    st->st_atime_sec = (uint64_t)n->atime.sec;
    st->st_atime_nsec = n->atime.nsec;
    st->st_mtime_sec = (uint64_t)n->mtime.sec;
    st->st_mtime_nsec = n->mtime.nsec;
    st->st_ctime_sec = (uint64_t)n->ctime.sec;
    st->st_ctime_nsec = n->ctime.nsec;
    if (n->rt->ops->stat)
        n->rt->ops->stat(v, n, st); /* what the backend shows otherwise */
}

long vfs_fstat(struct vfs *v, int fd, struct vfs_stat *st)
{
    struct ofd *f = fd_get(v, fd);
    if (!f)
        return -EBADF;
    if (!st)
        return -EFAULT;
    f->ops->stat(v, f, st);
    return 0;
}

/* the file a (dirfd, path, AT_* flags) names: a description with no node (empty path) in *chan */
static long stat_target(struct vfs *v, int dirfd, const char *path, int flags, struct vnode **node,
                        struct ofd **chan)
{
    *node = 0;
    *chan = 0;
    if ((flags & AT_EMPTY_PATH) && (!path || !path[0])) {
        if (dirfd == AT_FDCWD) {
            *node = v->cwd;
            return 0;
        }
        struct ofd *f = fd_get(v, dirfd);
        if (!f)
            return -EBADF;
        if (!f->node)
            *chan = f;
        else
            *node = f->node;
        return 0;
    }
    struct walk w;
    long r = vfs_walk(v, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : W_FOLLOW, &w);
    if (r < 0)
        return r;
    *node = w.node;
    return 0;
}

long vfs_newfstatat(struct vfs *v, int dirfd, const char *path, struct vfs_stat *st, int flags)
{
    if (!v)
        return -EINVAL;
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
        return -EINVAL;
    struct vnode *n;
    struct ofd *chan;
    long r = stat_target(v, dirfd, path, flags, &n, &chan);
    if (r < 0)
        return r;
    if (!st)
        return -EFAULT;
    if (chan)
        chan->ops->stat(v, chan, st);
    else
        node_stat(v, n, st);
    return 0;
}

long vfs_statx(struct vfs *v, int dirfd, const char *path, int flags, uint32_t mask, struct vfs_statx *stx)
{
    if (!v)
        return -EINVAL;
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
        return -EINVAL;
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
        return -EINVAL;
    if (mask & STATX__RESERVED)
        return -EINVAL;
    struct vnode *n;
    struct ofd *chan;
    long r = stat_target(v, dirfd, path, flags, &n, &chan);
    if (r < 0)
        return r;
    if (!stx)
        return -EFAULT;
    struct vfs_stat st;
    if (chan)
        chan->ops->stat(v, chan, &st);
    else
        node_stat(v, n, &st);
    memset(stx, 0, sizeof *stx);
    stx->stx_mask = STATX_BASIC_STATS | STATX_MNT_ID;
    stx->stx_blksize = (uint32_t)st.st_blksize;
    stx->stx_nlink = (uint32_t)st.st_nlink;
    stx->stx_uid = st.st_uid;
    stx->stx_gid = st.st_gid;
    stx->stx_mode = (uint16_t)st.st_mode;
    stx->stx_ino = st.st_ino;
    stx->stx_size = (uint64_t)st.st_size;
    stx->stx_blocks = (uint64_t)st.st_blocks;
    stx->stx_atime.tv_sec = (int64_t)st.st_atime_sec;
    stx->stx_atime.tv_nsec = (uint32_t)st.st_atime_nsec;
    stx->stx_mtime.tv_sec = (int64_t)st.st_mtime_sec;
    stx->stx_mtime.tv_nsec = (uint32_t)st.st_mtime_nsec;
    stx->stx_ctime.tv_sec = (int64_t)st.st_ctime_sec;
    stx->stx_ctime.tv_nsec = (uint32_t)st.st_ctime_nsec;
    /* st_rdev as the kernel encodes it (new_encode_dev): major in bits 8-19, minor in 0-7 and 20-31 */
    stx->stx_rdev_major = (uint32_t)((st.st_rdev >> 8) & 0xfff);
    stx->stx_rdev_minor = (uint32_t)((st.st_rdev & 0xff) | ((st.st_rdev >> 12) & ~0xffULL));
    stx->stx_dev_major = 0;
    stx->stx_dev_minor = (uint32_t)st.st_dev;
    stx->stx_mnt_id = st.st_dev;
    return 0;
}

long vfs_faccessat2(struct vfs *v, int dirfd, const char *path, int mode, int flags)
{
    if (!v)
        return -EINVAL;
    if (mode & ~7)
        return -EINVAL;
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EACCESS | AT_EMPTY_PATH))
        return -EINVAL;
    struct vnode *n;
    struct ofd *chan;
    long r = stat_target(v, dirfd, path, flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), &n, &chan);
    if (r < 0)
        return r;
    if (chan)
        return (mode & MAY_X) ? -EACCES : 0; /* a stream: checked as a pipe, 0600 */
    r = vfs_permission(v, n, mode);
    if (r == 0 && (mode & MAY_W) && route_rofs(n->rt) && !VFS_ISSPECIAL(n->mode))
        r = -EROFS; /* "report a read-only filesystem too" (not for devices and FIFOs) */
    return r;
}

/* chmod, fchmod and fchmodat: in Linux's order, a read-only route first (EROFS), then the owner
 * (the virtual user, or uid 0: else EPERM); a symlink's own mode cannot change (EOPNOTSUPP, as
 * fchmodat2 answers); a stream's (a channel, a pipe, a socket) is fixed here (EPERM). */
static long change_mode(struct vfs *v, struct vnode *n, uint32_t mode)
{
    if (route_rofs(n->rt) && !VFS_ISSPECIAL(n->mode))
        return -EROFS;
    uint32_t owner = (n->flags & VN_OWNED) ? n->uid : v->uid;
    if (v->uid != 0 && v->uid != owner)
        return -EPERM;
    if (VFS_ISLNK(n->mode))
        return -EOPNOTSUPP;
    if (!n->rt->ops->chmod)
        return -EPERM;
    return n->rt->ops->chmod(v, n, mode & VFS_PERM_MASK);
}

long vfs_fchmodat(struct vfs *v, int dirfd, const char *path, uint32_t mode, int flags)
{
    if (!v)
        return -EINVAL;
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct vnode *n;
    struct ofd *chan;
    long r = stat_target(v, dirfd, path, flags, &n, &chan);
    if (r < 0)
        return r;
    return chan ? -EPERM : change_mode(v, n, mode);
}

long vfs_fchmod(struct vfs *v, int fd, uint32_t mode)
{
    if (!v)
        return -EINVAL;
    struct ofd *f = fd_get_io(v, fd); /* O_PATH: EBADF */
    if (!f)
        return -EBADF;
    return f->node ? change_mode(v, f->node, mode) : -EPERM;
}

long vfs_faccessat(struct vfs *v, int dirfd, const char *path, int mode)
{
    return vfs_faccessat2(v, dirfd, path, mode, 0);
}

long vfs_readlinkat(struct vfs *v, int dirfd, const char *path, char *buf, int n)
{
    if (!v)
        return -EINVAL;
    if (n <= 0)
        return -EINVAL;
    struct walk w;
    long r = vfs_walk(v, dirfd, path, W_EMPTY_ENOENT, &w);
    if (r < 0)
        return r;
    struct vnode *node = w.node;
    if (!VFS_ISLNK(node->mode))
        return -EINVAL;
    if (!buf)
        return -EFAULT;
    const char *text = (const char *)node->data;
    size_t size = node->size;
    if (node->flags & VN_MAGIC) { /* made now by its backend (/proc/self/fd/N: what the fd is open on) */
        r = node->rt->ops->readlink(v, node, v->scratch, VFS_PATH_MAX);
        if (r < 0)
            return r;
        text = v->scratch;
        size = (size_t)r;
    }
    size_t len = size < (size_t)n ? size : (size_t)n;
    memcpy(buf, text, len);
    return (long)len;
}
