/* Changing directories: mkdirat, unlinkat (AT_REMOVEDIR) and renameat2
 * (RENAME_NOREPLACE, RENAME_EXCHANGE); their listings are readdir.c's.  Checks in Linux's order (filename_create, do_unlinkat,
 * do_rmdir, do_renameat2, may_delete, may_create, vfs_rename): EEXIST / EISDIR /
 * EBUSY / ENOTEMPTY / EINVAL for ".", ".." and "/", EXDEV across routes, EROFS,
 * ENOENT, EEXIST, ENOTDIR for trailing slashes, EINVAL for moving a directory
 * into itself, EACCES, EISDIR / ENOTDIR between files and directories, EBUSY for
 * mount points, ENOTEMPTY.  The synthetic routes refuse by their permission bits
 * (EACCES; EPERM once those pass) and where a name's absence is final (a deny route,
 * /proc, which has no negative entries) it stays ENOENT. */
#include "vfs_int.h"

static void touch(struct vfs *v, struct vnode *dir)
{
    vfs_now(v, &dir->mtime);
    dir->ctime = dir->mtime;
}

/* a directory that holds route prefixes below it cannot go */
static int holds_mounts(struct vfs *v, const struct vnode *n)
{
    if (!VFS_ISDIR(n->mode))
        return 0;
    const struct vnode *s = skel_of(v, n);
    return s && s->first;
}

long vfs_mkdirat(struct vfs *v, int dirfd, const char *path, uint32_t mode)
{
    if (!v)
        return -EINVAL;
    struct walk w;
    long r = vfs_walk(v, dirfd, path, W_PARENT | W_WRITE, &w);
    if (r < 0)
        return r;
    if (w.type != LAST_NORM)
        return -EEXIST;
    struct vnode *dir = w.dir, *old;
    int how;
    r = lookup_entry(v, dir, w.name, w.len, W_WRITE, &old, &how);
    if (r == 0)
        return -EEXIST;
    if (r != -ENOENT || how == LOOKUP_FINAL)
        return r;
    if (route_rofs(dir->rt))
        return -EROFS;
    if (dir->flags & VN_DEAD)
        return -ENOENT;
    r = vfs_permission(v, dir, MAY_W | MAY_X);
    if (r < 0)
        return r;
    if (!dir->rt->ops->create)
        return -EPERM;
    struct vnode *n;
    r = dir->rt->ops->create(v, dir->rt, S_IFDIR | (mode & 01777 & ~v->umask), &n);
    if (r < 0)
        return r;
    r = node_set_name(v, n, w.name, w.len, 1);
    if (r < 0) {
        n->flags |= VN_DEAD;
        node_destroy(v, n);
        return r;
    }
    node_link(v, dir, n);
    touch(v, dir);
    return 0;
}

long vfs_unlinkat(struct vfs *v, int dirfd, const char *path, int flags)
{
    if (!v)
        return -EINVAL;
    if (flags & ~AT_REMOVEDIR)
        return -EINVAL;
    int rmdir = flags & AT_REMOVEDIR;
    struct walk w;
    long r = vfs_walk(v, dirfd, path, W_PARENT | W_WRITE, &w);
    if (r < 0)
        return r;
    if (rmdir) {
        if (w.type == LAST_DOTDOT)
            return -ENOTEMPTY;
        if (w.type == LAST_DOT)
            return -EINVAL;
        if (w.type == LAST_ROOT)
            return -EBUSY;
    } else if (w.type != LAST_NORM) {
        return -EISDIR;
    }
    struct vnode *dir = w.dir, *n;
    if (route_rofs(dir->rt))
        return -EROFS;
    int how;
    r = lookup_entry(v, dir, w.name, w.len, W_WRITE, &n, &how);
    if (r < 0)
        return r;
    if (!rmdir && w.slash)
        return VFS_ISDIR(n->mode) ? -EISDIR : -ENOTDIR;
    r = vfs_permission(v, dir, MAY_W | MAY_X);
    if (r < 0)
        return r;
    if (rmdir) {
        if (!VFS_ISDIR(n->mode))
            return -ENOTDIR;
        if (how == LOOKUP_MOUNT || holds_mounts(v, n))
            return -EBUSY;
        if (n->first)
            return -ENOTEMPTY;
    } else if (VFS_ISDIR(n->mode)) {
        return -EISDIR;
    }
    if (!dir->rt->ops->create)
        return -EPERM;
    node_unlink(v, n);
    touch(v, dir);
    return 0;
}

/* the name of a node, copied, so that a rename can change it without failing halfway */
static char *copy_name(struct vfs *v, const char *name, size_t len)
{
    char *p = vmem_alloc(v, len + 1);
    if (p) {
        memcpy(p, name, len);
        p[len] = 0;
    }
    return p;
}

long vfs_renameat2(struct vfs *v, int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                   uint32_t flags)
{
    if (!v)
        return -EINVAL;
    if (flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return -EINVAL;
    if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) && (flags & RENAME_EXCHANGE))
        return -EINVAL;
    if ((flags & RENAME_WHITEOUT) && v->uid != 0)
        return -EPERM; /* needs CAP_MKNOD */
    int exchange = flags & RENAME_EXCHANGE;
    struct walk ow, nw;
    long r = vfs_walk(v, olddirfd, oldpath, W_PARENT | W_WRITE, &ow);
    if (r < 0)
        return r;
    r = vfs_walk(v, newdirfd, newpath, W_PARENT | W_WRITE, &nw);
    if (r < 0)
        return r;
    struct vnode *odir = ow.dir, *ndir = nw.dir;
    if (odir->rt != ndir->rt)
        return -EXDEV;
    if (ow.type != LAST_NORM)
        return -EBUSY;
    if (nw.type != LAST_NORM)
        return (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
    if (route_rofs(odir->rt))
        return -EROFS;
    struct vnode *old, *target;
    int ohow, nhow;
    r = lookup_entry(v, odir, ow.name, ow.len, W_WRITE, &old, &ohow);
    if (r < 0)
        return r;
    r = lookup_entry(v, ndir, nw.name, nw.len, W_WRITE, &target, &nhow);
    if (r < 0 && (r != -ENOENT || nhow == LOOKUP_FINAL))
        return r;
    if ((flags & RENAME_NOREPLACE) && target)
        return -EEXIST;
    if (exchange) {
        if (!target)
            return -ENOENT;
        if (!VFS_ISDIR(target->mode) && nw.slash)
            return -ENOTDIR;
    }
    int isdir = VFS_ISDIR(old->mode);
    int tisdir = target && VFS_ISDIR(target->mode);
    if (!isdir && (ow.slash || (!exchange && nw.slash)))
        return -ENOTDIR;
    if (odir != ndir) {
        if (node_is_ancestor(old, ndir))
            return -EINVAL; /* into itself */
        if (target && node_is_ancestor(target, odir))
            return exchange ? -EINVAL : -ENOTEMPTY; /* onto a directory holding it */
    }
    if (old == target)
        return 0;
    r = vfs_permission(v, odir, MAY_W | MAY_X);
    if (r < 0)
        return r;
    if (!target) {
        if (ndir->flags & VN_DEAD)
            return -ENOENT;
        r = vfs_permission(v, ndir, MAY_W | MAY_X);
        if (r < 0)
            return r;
    } else {
        r = vfs_permission(v, ndir, MAY_W | MAY_X);
        if (r < 0)
            return r;
        if (!exchange && isdir && !tisdir)
            return -ENOTDIR;
        if (!exchange && !isdir && tisdir)
            return -EISDIR;
    }
    if (ohow == LOOKUP_MOUNT || nhow == LOOKUP_MOUNT || holds_mounts(v, old) || (target && holds_mounts(v, target)))
        return -EBUSY;
    if (odir != ndir) {
        if (isdir && (r = vfs_permission(v, old, MAY_W)) < 0)
            return r;
        if (exchange && tisdir && (r = vfs_permission(v, target, MAY_W)) < 0)
            return r;
    }
    if (!exchange && target && isdir && target->first)
        return -ENOTEMPTY;
    if (flags & RENAME_WHITEOUT)
        return -EINVAL; /* whiteouts are for overlay filesystems: not here */
    if (!odir->rt->ops->create)
        return -EPERM;
    /* the new names first: nothing changes if memory is short */
    char *nname = copy_name(v, nw.name, nw.len);
    char *oname = exchange ? copy_name(v, ow.name, ow.len) : 0;
    if (!nname || (exchange && !oname)) {
        vmem_free(v, nname, nw.len + 1);
        vmem_free(v, oname, ow.len + 1);
        return -ENOMEM;
    }
    if (exchange) {
        node_move(v, target, odir);
        node_take_name(v, target, oname, ow.len);
        target->ctime = odir->mtime;
    } else if (target) {
        node_unlink(v, target);
    }
    node_move(v, old, ndir);
    node_take_name(v, old, nname, nw.len);
    touch(v, odir);
    touch(v, ndir);
    old->ctime = ndir->mtime;
    return 0;
}
