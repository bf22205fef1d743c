/* One step of a path: vfs_permission (the virtual user's access rights), lookup_entry
 * (one directory entry as the namespace shows it: a route mounted there, a skeleton
 * directory leading to one, or what the directory's backend has) and vfs_rel_path (a
 * node's path inside its route).  Routes are mounts: a prefix covers whatever the
 * backend below has of that name.  A route that refuses a walk (vfs_backend.enter:
 * deny) refuses it here too, and its refusal is final: the name cannot be made. */
#include "vfs_int.h"

long vfs_permission(struct vfs *v, const struct vnode *n, int mask)
{
    if (!mask)
        return 0;
    uint32_t mode = n->mode;
    if ((mask & MAY_W) && route_rofs(n->rt) && (VFS_ISREG(mode) || VFS_ISDIR(mode) || VFS_ISLNK(mode)))
        return -EROFS;
    if (v->uid == 0) {
        /* root: reads and writes always; execute needs one x bit (directories: search always) */
        if ((mask & MAY_X) && !VFS_ISDIR(mode) && !(mode & 0111))
            return -EACCES;
        return 0;
    }
    /* the virtual user owns every file (the owner's bits) but root's (group's or others' bits) */
    uint32_t perm = (mode >> 6) & 7;
    if ((n->flags & VN_OWNED) && n->uid != v->uid)
        perm = n->gid == v->gid ? (mode >> 3) & 7 : mode & 7;
    return ((uint32_t)mask & perm) == (uint32_t)mask ? 0 : -EACCES;
}

/* The entry the backend has (no mount there): its lookup, or the entry table. */
static long backend_entry(struct vfs *v, struct vnode *dir, const char *name, size_t len, struct vnode **out,
                          int *how)
{
    if (dir->rt->ops->lookup) {
        int final = 0;
        long r = dir->rt->ops->lookup(v, dir, name, len, out, &final);
        if (r < 0 && final)
            *how = LOOKUP_FINAL;
        return r;
    }
    *out = node_child(v, dir, name, len);
    return *out ? 0 : -ENOENT;
}

/* The skeleton has name at dir's place (sc): a route mounted there, or a directory leading
 * to one (dir's backend's own directory of that name, if it has one, else sc). */
static long skel_entry(struct vfs *v, struct vnode *dir, struct vnode *sc, int wflags, struct vnode **out, int *how)
{
    if (sc->mount) {
        long r = route_enter(v, sc->mount, wflags);
        if (r < 0) {
            *how = LOOKUP_FINAL;
            return r;
        }
        *how = LOOKUP_MOUNT;
        *out = sc->mount->root;
        return 0;
    }
    if (!route_is_skel(v, dir->rt)) {
        struct vnode *c = node_child(v, dir, sc->name, sc->namelen);
        if (c && VFS_ISDIR(c->mode)) {
            *out = c;
            return 0;
        }
    }
    *how = LOOKUP_MOUNT;
    *out = sc;
    return 0;
}

long lookup_entry(struct vfs *v, struct vnode *dir, const char *name, size_t len, int wflags,
                  struct vnode **out, int *how)
{
    *out = 0;
    *how = 0;
    if (len > VFS_NAME_MAX)
        return -ENAMETOOLONG;
    long r = route_enter(v, dir->rt, wflags);
    if (r < 0) {
        *how = LOOKUP_FINAL;
        return r;
    }
    return lookup_name(v, dir, name, len, wflags, out, how);
}

long lookup_name(struct vfs *v, struct vnode *dir, const char *name, size_t len, int wflags,
                 struct vnode **out, int *how)
{
    *out = 0;
    *how = 0;
    if (len > VFS_NAME_MAX)
        return -ENAMETOOLONG;
    struct vnode *s = skel_of(v, dir);
    struct vnode *sc = s ? node_child(v, s, name, len) : 0;
    if (sc)
        return skel_entry(v, dir, sc, wflags, out, how);
    return backend_entry(v, dir, name, len, out, how);
}

/* n's path relative to its route's root ("" for the root) */
long vfs_rel_path(const struct vnode *n, char *buf, size_t size)
{
    size_t pos = size;
    while (n != n->rt->root) {
        if (!n->parent || (n->flags & VN_DEAD))
            return -ENOENT;
        if (pos < n->namelen + 1)
            return -ENAMETOOLONG;
        pos -= n->namelen;
        memcpy(buf + pos, n->name, n->namelen);
        buf[--pos] = '/';
        n = n->parent;
    }
    if (pos < size)
        pos++; /* no leading slash */
    size_t len = size - pos;
    memmove(buf, buf + pos, len);
    return (long)len;
}
