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

/* A new node of type (S_IFDIR, S_IFSOCK) at path, as mkdirat makes a directory and a unix
 * socket's bind makes its file: EEXIST where something is, the directory's route and
 * permission checks, then the backend's create; the node is linked (*out, if asked, names it). */
long vfs_make_node(struct vfs *v, int dirfd, const char *path, uint32_t mode, struct vnode **out)
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
    r = dir->rt->ops->create(v, dir->rt, mode, &n);
    if (r < 0)
        return r;
    r = node_set_name(v, n, w.name, w.len, 1);
    if (r == 0 && dir->rt->ops->make)
        r = dir->rt->ops->make(v, dir, w.name, w.len, n); /* made outside first (a host directory) */
    if (r < 0) {
        n->flags |= VN_DEAD;
        node_destroy(v, n);
        return r;
    }
    node_link(v, dir, n);
    touch(v, dir);
    if (out)
        *out = n;
    return 0;
}

long vfs_mkdirat(struct vfs *v, int dirfd, const char *path, uint32_t mode)
{
    if (!v)
        return -EINVAL;
    return vfs_make_node(v, dirfd, path, S_IFDIR | (mode & 01777 & ~v->umask), 0);
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
    if (dir->rt->ops->remove && (r = dir->rt->ops->remove(v, dir, n)) < 0)
        return r;
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

/* a rename between the checks */
struct rename {
    uint32_t flags;
    int exchange;
    struct walk ow, nw;
    struct vnode *odir, *ndir;
    struct vnode *old, *target; /* target: NULL when the new name is free */
    int ohow, nhow;
    int isdir, tisdir;
};

static long rename_flags(struct vfs *v, uint32_t flags)
{
    if (flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return -EINVAL;
    if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) && (flags & RENAME_EXCHANGE))
        return -EINVAL;
    if ((flags & RENAME_WHITEOUT) && v->uid != 0)
        return -EPERM; /* needs CAP_MKNOD */
    return 0;
}

/* The two directories and the two entries (the target may be absent): EXDEV across
 * routes, EBUSY / EEXIST for ".", ".." and "/", EROFS, the lookups' errors. */
static long rename_find(struct vfs *v, struct rename *rn, int olddirfd, const char *oldpath, int newdirfd,
                        const char *newpath)
{
    long r = vfs_walk(v, olddirfd, oldpath, W_PARENT | W_WRITE, &rn->ow);
    if (r < 0)
        return r;
    r = vfs_walk(v, newdirfd, newpath, W_PARENT | W_WRITE, &rn->nw);
    if (r < 0)
        return r;
    rn->odir = rn->ow.dir;
    rn->ndir = rn->nw.dir;
    if (rn->odir->rt != rn->ndir->rt)
        return -EXDEV;
    if (rn->ow.type != LAST_NORM)
        return -EBUSY;
    if (rn->nw.type != LAST_NORM)
        return (rn->flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
    if (route_rofs(rn->odir->rt))
        return -EROFS;
    r = lookup_entry(v, rn->odir, rn->ow.name, rn->ow.len, W_WRITE, &rn->old, &rn->ohow);
    if (r < 0)
        return r;
    r = lookup_entry(v, rn->ndir, rn->nw.name, rn->nw.len, W_WRITE, &rn->target, &rn->nhow);
    if (r < 0 && (r != -ENOENT || rn->nhow == LOOKUP_FINAL))
        return r;
    rn->isdir = VFS_ISDIR(rn->old->mode);
    rn->tisdir = rn->target && VFS_ISDIR(rn->target->mode);
    return 0;
}

/* What the names allow: EEXIST (NOREPLACE), ENOENT (EXCHANGE with nothing), ENOTDIR for
 * trailing slashes on a file, EINVAL / ENOTEMPTY for moving into itself or onto a
 * directory holding it. */
static long rename_shapes(struct rename *rn)
{
    int exchange = rn->exchange;
    if ((rn->flags & RENAME_NOREPLACE) && rn->target)
        return -EEXIST;
    if (exchange) {
        if (!rn->target)
            return -ENOENT;
        if (!rn->tisdir && rn->nw.slash)
            return -ENOTDIR;
    }
    if (!rn->isdir && (rn->ow.slash || (!exchange && rn->nw.slash)))
        return -ENOTDIR;
    if (rn->odir != rn->ndir) {
        if (node_is_ancestor(rn->old, rn->ndir))
            return -EINVAL; /* into itself */
        if (rn->target && node_is_ancestor(rn->target, rn->odir))
            return exchange ? -EINVAL : -ENOTEMPTY; /* onto a directory holding it */
    }
    return 0;
}

/* may_delete, may_create, vfs_rename: the rights on both directories, file vs directory,
 * mount points (EBUSY), moving a directory (its own W), a non-empty target, EPERM where
 * nothing can be made. */
static long rename_rights(struct vfs *v, struct rename *rn)
{
    struct vnode *target = rn->target;
    long r = vfs_permission(v, rn->odir, MAY_W | MAY_X);
    if (r < 0)
        return r;
    if (!target && (rn->ndir->flags & VN_DEAD))
        return -ENOENT;
    r = vfs_permission(v, rn->ndir, MAY_W | MAY_X);
    if (r < 0)
        return r;
    if (target && !rn->exchange && rn->isdir && !rn->tisdir)
        return -ENOTDIR;
    if (target && !rn->exchange && !rn->isdir && rn->tisdir)
        return -EISDIR;
    if (rn->ohow == LOOKUP_MOUNT || rn->nhow == LOOKUP_MOUNT || holds_mounts(v, rn->old) ||
        (target && holds_mounts(v, target)))
        return -EBUSY;
    if (rn->odir != rn->ndir) {
        if (rn->isdir && (r = vfs_permission(v, rn->old, MAY_W)) < 0)
            return r;
        if (rn->exchange && rn->tisdir && (r = vfs_permission(v, target, MAY_W)) < 0)
            return r;
    }
    if (!rn->exchange && target && rn->isdir && target->first)
        return -ENOTEMPTY;
    if (rn->flags & RENAME_WHITEOUT)
        return -EINVAL; /* whiteouts are for overlay filesystems: not here */
    if (!rn->odir->rt->ops->create)
        return -EPERM;
    return 0;
}

/* The move itself; the new names are made first, so that nothing changes if memory is short. */
static long rename_commit(struct vfs *v, struct rename *rn)
{
    struct walk *ow = &rn->ow, *nw = &rn->nw;
    char *nname = copy_name(v, nw->name, nw->len);
    char *oname = rn->exchange ? copy_name(v, ow->name, ow->len) : 0;
    long r = !nname || (rn->exchange && !oname) ? -ENOMEM : 0;
    if (r == 0 && rn->odir->rt->ops->rename) /* made outside first (a host directory) */
        r = rn->odir->rt->ops->rename(v, rn->odir, ow->name, ow->len, rn->ndir, nw->name, nw->len, rn->flags);
    if (r < 0) {
        vmem_free(v, nname, nw->len + 1);
        vmem_free(v, oname, ow->len + 1);
        return r;
    }
    if (rn->exchange) {
        node_move(v, rn->target, rn->odir);
        node_take_name(v, rn->target, oname, ow->len);
        rn->target->ctime = rn->odir->mtime;
    } else if (rn->target) {
        node_unlink(v, rn->target);
    }
    node_move(v, rn->old, rn->ndir);
    node_take_name(v, rn->old, nname, nw->len);
    touch(v, rn->odir);
    touch(v, rn->ndir);
    rn->old->ctime = rn->ndir->mtime;
    return 0;
}

long vfs_renameat2(struct vfs *v, int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                   uint32_t flags)
{
    if (!v)
        return -EINVAL;
    long r = rename_flags(v, flags);
    if (r < 0)
        return r;
    struct rename rn = {.flags = flags, .exchange = (flags & RENAME_EXCHANGE) != 0};
    if ((r = rename_find(v, &rn, olddirfd, oldpath, newdirfd, newpath)) < 0)
        return r;
    if ((r = rename_shapes(&rn)) < 0)
        return r;
    if (rn.old == rn.target)
        return 0; /* the same file: nothing to do */
    if ((r = rename_rights(v, &rn)) < 0)
        return r;
    return rename_commit(v, &rn);
}
