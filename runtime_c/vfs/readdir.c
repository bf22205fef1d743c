/* Directory listings: getdents64.  "." and "..", then the listing of the directory's
 * backend (vfs_backend.readdir; /proc's fd directory lists the open fds, in order), which
 * is by default dir_list: the entries newest first, as tmpfs lists them, then the route
 * prefixes the directory leads to that its backend lacks.  Positions stay valid while
 * entries come and go, as tmpfs's do.  Records are struct linux_dirent64's; a buffer too
 * small for the next record is EINVAL when nothing went in; one that faults, EFAULT. */
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

/* 1 if it fit, 0 if not (or the caller's buffer faulted: d->fault) */
int dirlist_emit(struct dirlist *d, uint64_t ino, int64_t off, uint8_t type, const char *name, size_t len)
{
    size_t head = __builtin_offsetof(struct vfs_dirent64, d_name);
    size_t reclen = (head + len + 1 + 7) & ~(size_t)7;
    if (reclen > d->size - d->used)
        return 0;
    union {
        struct vfs_dirent64 e;
        char bytes[24];
    } h;
    memset(&h, 0, sizeof h);
    h.e.d_ino = ino;
    h.e.d_off = off;
    h.e.d_reclen = (uint16_t)reclen;
    h.e.d_type = type;
    char *p = d->buf + d->used;
    if (vfs_copy_out(d->v, p, h.bytes, head) || vfs_copy_out(d->v, p + head, name, len) ||
        vfs_zero_out(d->v, p + head + len, reclen - head - len)) {
        d->fault = 1;
        return 0;
    }
    d->used += reclen;
    return 1;
}

/* a skeleton entry is listed unless its route refuses every walk (deny) */
static int shown_skel(struct vfs *v, const struct vnode *sc)
{
    return !(sc->mount && route_enter(v, sc->mount, 0) < 0);
}

/* "." at position 0, ".." at 1: 0, or VFS_DIR_FULL */
static long list_dots(struct vfs *v, struct vnode *dir, struct dirlist *d, uint64_t *pos)
{
    if (*pos == 0) {
        if (!dirlist_emit(d, dir->ino, 1, VFS_DT_DIR, ".", 1))
            return VFS_DIR_FULL;
        *pos = 1;
    }
    if (*pos == 1) {
        if (!dirlist_emit(d, ns_parent(v, dir, 0)->ino, 2, VFS_DT_DIR, "..", 2))
            return VFS_DIR_FULL;
        *pos = 2;
    }
    return 0;
}

/* The directory's own entries, newest first: position 2 is the newest entry, then
 * VFS_SKEL_OFF - k continues below the entry whose dir_off is k. */
static long list_entries(struct vfs *v, struct vnode *dir, struct dirlist *d, uint64_t *pos)
{
    int skelonly = route_is_skel(v, dir->rt);
    uint64_t below = *pos == VFS_DIR_FIRST ? ~(uint64_t)0 : VFS_SKEL_OFF - *pos;
    struct vnode *c = dir->last;
    while (c && c->dir_off >= below)
        c = c->prev;
    for (; c; c = c->prev) {
        if (skelonly && !shown_skel(v, c))
            continue;
        uint64_t next = VFS_SKEL_OFF - c->dir_off;
        if (!dirlist_emit(d, c->ino, (int64_t)next, dtype(c->mode), c->name, c->namelen))
            return VFS_DIR_FULL;
        *pos = next;
    }
    *pos = VFS_SKEL_OFF;
    return 0;
}

/* From VFS_SKEL_OFF on: the route prefixes under this directory that its backend lacks. */
static long list_prefixes(struct vfs *v, struct vnode *dir, struct dirlist *d, uint64_t *pos)
{
    struct vnode *s = skel_of(v, dir);
    uint64_t i = 0;
    for (struct vnode *sc = s ? s->first : 0; sc; sc = sc->next, i++) {
        if (VFS_SKEL_OFF + i < *pos || !shown_skel(v, sc) || node_child(v, dir, sc->name, sc->namelen))
            continue;
        if (!dirlist_emit(d, sc->ino, (int64_t)(VFS_SKEL_OFF + i + 1), VFS_DT_DIR, sc->name, sc->namelen))
            return VFS_DIR_FULL;
        *pos = VFS_SKEL_OFF + i + 1;
    }
    return 0;
}

long dir_list(struct vfs *v, struct vnode *dir, struct dirlist *d, uint64_t *pos)
{
    if (*pos < VFS_SKEL_OFF) {
        long r = list_entries(v, dir, d, pos);
        if (r)
            return r;
    }
    if (route_is_skel(v, dir->rt))
        return 0; /* a skeleton directory's entries are the prefixes */
    return list_prefixes(v, dir, d, pos);
}

long node_getdents(struct vfs *v, struct ofd *f, void *buf, size_t n)
{
    struct vnode *dir = f->node;
    if (!VFS_ISDIR(dir->mode))
        return -ENOTDIR;
    if (dir->flags & VN_DEAD)
        return -ENOENT;
    if (!buf && n)
        return -EFAULT;
    if (n > (size_t)0x7fffffff)
        n = 0x7fffffff;
    struct dirlist d = {v, buf, n, 0, 0};
    uint64_t pos = f->pos;
    long r = list_dots(v, dir, &d, &pos);
    if (r == 0)
        r = dir->rt->ops->readdir ? dir->rt->ops->readdir(v, dir, &d, &pos) : dir_list(v, dir, &d, &pos);
    if (r < 0) {
        f->pos = pos;
        return d.used ? (long)d.used : r;
    }
    if (r == VFS_DIR_FULL && d.used == 0)
        return d.fault ? -EFAULT : -EINVAL; /* not even one record fits, or could be written */
    f->pos = pos;
    return (long)d.used;
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
