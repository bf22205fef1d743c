/* Directories: getdents64 (with "." and "..", and the route prefixes a
 * directory leads to even when its backend lacks them; positions stay valid
 * while entries come and go, as tmpfs's do; /proc's fd directory lists the open
 * fds, in order), mkdirat, unlinkat (AT_REMOVEDIR) and renameat2
 * (RENAME_NOREPLACE).  Checks in Linux's order (filename_create, do_unlinkat,
 * do_rmdir, do_renameat2, may_delete, may_create, vfs_rename): EEXIST / EISDIR /
 * EBUSY / ENOTEMPTY / EINVAL for ".", ".." and "/", EXDEV across routes, EROFS,
 * ENOENT, EEXIST, ENOTDIR for trailing slashes, EINVAL for moving a directory
 * into itself, EACCES, EISDIR / ENOTDIR between files and directories, EBUSY for
 * mount points, ENOTEMPTY.  The synthetic routes refuse by their permission bits
 * (EACCES; EPERM once those pass) and /proc has no negative entries (ENOENT). */
#include "vfs_int.h"

static uint8_t dtype(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return VFS_DT_REG;
    case S_IFDIR: return VFS_DT_DIR;
    case S_IFLNK: return VFS_DT_LNK;
    case S_IFCHR: return VFS_DT_CHR;
    case S_IFBLK: return VFS_DT_BLK;
    case S_IFIFO: return VFS_DT_FIFO;
    case S_IFSOCK: return VFS_DT_SOCK;
    default: return VFS_DT_UNKNOWN;
    }
}

/* the directory ".." of n shows */
static const struct vnode *parent_of(struct vfs *v, struct vnode *n)
{
    if (n->rt->kind != RT_SKEL && n != n->rt->root)
        return n->parent ? n->parent : n;
    struct vnode *s = n->rt->kind == RT_SKEL ? n : n->rt->mountpoint;
    if (s == v->skel_root)
        return n;
    return resolve_skel(v, s->parent);
}

struct dbuf {
    char *buf;
    size_t size, used;
};

/* 1 if it fit, 0 if not */
static int emit(struct dbuf *d, uint64_t ino, int64_t off, uint8_t type, const char *name, size_t len)
{
    size_t reclen = (19 + len + 1 + 7) & ~(size_t)7;
    if (reclen > d->size - d->used)
        return 0;
    char *p = d->buf + d->used;
    memset(p, 0, reclen);
    struct vfs_dirent64 *e = (struct vfs_dirent64 *)p;
    e->d_ino = ino;
    e->d_off = off;
    e->d_reclen = (uint16_t)reclen;
    e->d_type = type;
    memcpy(e->d_name, name, len);
    d->used += reclen;
    return 1;
}

static int shown_skel(const struct vnode *sc)
{
    return !(sc->mount && sc->mount->kind == RT_DENY);
}

long vfs_getdents64(struct vfs *v, int fd, void *buf, size_t n)
{
    struct ofd *f = fd_get_io(v, fd);
    if (!f)
        return -EBADF;
    if (!f->ops->getdents)
        return -ENOTDIR;
    return f->ops->getdents(v, f, buf, n);
}

/* a node's file: its listing if it is a directory */
long node_getdents(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    if (!VFS_ISDIR(f->node->mode))
        return -ENOTDIR;
    struct vnode *dir = f->node;
    if (dir->flags & VN_DEAD)
        return -ENOENT;
    if (!buf && n)
        return -EFAULT;
    if (n > (size_t)0x7fffffff)
        n = 0x7fffffff;
    struct dbuf d = {buf, n, 0};
    uint64_t pos = f->pos;
    int full = 0;
    if (pos == 0) {
        if (!emit(&d, dir->ino, 1, VFS_DT_DIR, ".", 1))
            full = 1;
        else
            pos = 1;
    }
    if (!full && pos == 1) {
        if (!emit(&d, parent_of(v, dir)->ino, 2, VFS_DT_DIR, "..", 2))
            full = 1;
        else
            pos = 2;
    }
    if (dir->flags & VN_FDDIR) {
        /* the open fds: fd k is at position k + 2 (as procfs numbers them) */
        for (uint64_t fd = pos - VFS_DIR_FIRST; !full && pos >= VFS_DIR_FIRST && fd < (uint64_t)v->fd_limit; fd++) {
            if (!fd_get(v, (int)fd))
                continue;
            struct vnode *link = proc_fd_node(v, dir, (int)fd);
            if (!link) {
                f->pos = pos;
                return d.used ? (long)d.used : -ENOMEM;
            }
            if (!emit(&d, link->ino, (int64_t)fd + 3, VFS_DT_LNK, link->name, link->namelen))
                full = 1;
            else
                pos = fd + 3;
        }
        if (full && d.used == 0)
            return -EINVAL;
        f->pos = full ? pos : VFS_DIR_FIRST + (uint64_t)v->fd_limit;
        return (long)d.used;
    }
    int skelonly = dir->rt->kind == RT_SKEL;
    if (!full && pos < VFS_SKEL_OFF) {
        /* newest first, as tmpfs lists: position 2 is the newest entry, then
         * VFS_SKEL_OFF - k continues below the entry whose dir_off is k */
        uint64_t below = pos == VFS_DIR_FIRST ? ~(uint64_t)0 : VFS_SKEL_OFF - pos;
        struct vnode *c = dir->last;
        while (c && c->dir_off >= below)
            c = c->prev;
        for (; c; c = c->prev) {
            if (skelonly && !shown_skel(c))
                continue;
            uint64_t next = VFS_SKEL_OFF - c->dir_off;
            if (!emit(&d, c->ino, (int64_t)next, dtype(c->mode), c->name, c->namelen)) {
                full = 1;
                break;
            }
            pos = next;
        }
        if (!full)
            pos = VFS_SKEL_OFF;
    }
    if (!full && !skelonly) {
        /* route prefixes under this directory that its backend does not have */
        struct vnode *s = skel_of(v, dir);
        uint64_t i = 0;
        for (struct vnode *sc = s ? s->first : 0; sc; sc = sc->next, i++) {
            if (VFS_SKEL_OFF + i < pos || !shown_skel(sc) || node_child(v, dir, sc->name, sc->namelen))
                continue;
            if (!emit(&d, sc->ino, (int64_t)(VFS_SKEL_OFF + i + 1), VFS_DT_DIR, sc->name, sc->namelen)) {
                full = 1;
                break;
            }
            pos = VFS_SKEL_OFF + i + 1;
        }
    }
    if (full && d.used == 0)
        return -EINVAL;
    f->pos = pos;
    return (long)d.used;
}

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
    int mnt;
    r = lookup_entry(v, dir, w.name, w.len, W_WRITE, &old, &mnt);
    if (r == 0)
        return -EEXIST;
    if (r != -ENOENT || mnt == 2 || dir->rt->kind == RT_PROC)
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
    int mnt;
    r = lookup_entry(v, dir, w.name, w.len, W_WRITE, &n, &mnt);
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
        if (mnt || holds_mounts(v, n))
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
    int omnt, nmnt;
    r = lookup_entry(v, odir, ow.name, ow.len, W_WRITE, &old, &omnt);
    if (r < 0)
        return r;
    r = lookup_entry(v, ndir, nw.name, nw.len, W_WRITE, &target, &nmnt);
    if (r < 0 && (r != -ENOENT || nmnt == 2 || ndir->rt->kind == RT_PROC))
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
    if (omnt || nmnt || holds_mounts(v, old) || (target && holds_mounts(v, target)))
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
