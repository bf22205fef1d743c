/* The current directory: chdir, fchdir (ENOTDIR, EACCES without search
 * permission) and getcwd (ERANGE when the buffer is short, ENOENT once the
 * directory has been removed).  The cwd holds a reference on its node. */
#include "vfs_int.h"

static long set_cwd(struct vfs *v, struct vnode *n)
{
    if (!VFS_ISDIR(n->mode))
        return -ENOTDIR;
    long r = vfs_permission(v, n, MAY_X);
    if (r < 0)
        return r;
    node_get(n);
    struct vnode *old = v->cwd;
    v->cwd = n;
    node_put(v, old);
    return 0;
}

long vfs_chdir(struct vfs *v, const char *path)
{
    if (!v)
        return -EINVAL;
    struct walk w;
    long r = vfs_walk(v, AT_FDCWD, path, W_FOLLOW | W_DIRECTORY, &w);
    if (r < 0)
        return r;
    return set_cwd(v, w.node);
}

long vfs_fchdir(struct vfs *v, int fd)
{
    struct ofd *f = fd_get(v, fd);
    if (!f)
        return -EBADF;
    if (!f->node)
        return -ENOTDIR;
    return set_cwd(v, f->node);
}

long vfs_getcwd(struct vfs *v, char *buf, size_t size)
{
    if (!v)
        return -EINVAL;
    int len = node_path(v, v->cwd, v->scratch, VFS_PATH_MAX, 0);
    if (len < 0)
        return len;
    if ((size_t)len > size)
        return -ERANGE;
    if (!buf)
        return -EFAULT;
    memcpy(buf, v->scratch, (size_t)len);
    return len;
}

/* Where a relative path given with dirfd starts: the cwd for AT_FDCWD, else the node the fd is
 * open on (a directory or not: the caller only names it).  NUL-terminated; its length with the
 * NUL, -EBADF, -ENOENT (removed, or not a node: a pipe, a socket), -ENAMETOOLONG. */
long vfs_dir_name(struct vfs *v, int dirfd, char *buf, size_t size)
{
    if (!v)
        return -EINVAL;
    const struct vnode *n = v->cwd;
    if (dirfd != AT_FDCWD) {
        struct ofd *f = fd_get(v, dirfd);
        if (!f)
            return -EBADF;
        n = f->node;
    }
    if (!n)
        return -ENOENT;
    return node_path(v, n, buf, size, 0);
}
