/* Path resolution: vfs_walk (what every call taking a path uses), lookup_entry
 * (one directory entry as the namespace shows it, mounts included) and
 * vfs_permission (the virtual user's access rights).
 *
 * Follows Linux's link_path_walk: a start (the root for absolute paths, else the
 * cwd or dirfd, which must be a directory), then component by component: search
 * permission on each directory, ENOTDIR for a non-directory used as one,
 * ENAMETOOLONG for a component over NAME_MAX, "." and "..", repeated and
 * trailing slashes (a trailing slash means "must be a directory" and follows a
 * final symlink), symlinks followed up to 40 times (ELOOP).
 *
 * Routes are mounts: entering a route prefix enters the route's root, ".." at a
 * route's root goes to the directory holding the prefix, ".." at "/" stays.  A
 * symlink of a tar image resolves inside its route: an absolute target starts
 * at the route's root and ".." in the target stops there; the symlinks of /dev
 * and /proc resolve in the whole namespace, as on Linux (/dev/stdin ->
 * /proc/self/fd/0).  /proc's fd links are "magic": following one does not read a
 * path but reaches what the fd is open on (a file, a device, a channel).  /proc
 * has no negative entries: creating a name there is ENOENT, as on procfs.  On an
 * origin route, components that have not been fetched are collected and fetched
 * as one path at the end of the walk ("x/../y" is then taken as "y" without
 * asking whether x exists).  Deny routes: ENOENT, or EACCES when the walk is for
 * writing. */
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

struct frame {
    const char *p;
    size_t len, pos;
    const struct route *confine; /* a symlink's target: ".." stops at this route's root */
};

long vfs_walk(struct vfs *v, int dirfd, const char *path, int flags, struct walk *w)
{
    memset(w, 0, sizeof *w);
    if (!path)
        return -EFAULT;
    size_t len = 0;
    while (path[len])
        if (++len >= VFS_PATH_MAX)
            return -ENAMETOOLONG;
    if (len == 0 && !(flags & (W_EMPTY | W_EMPTY_ENOENT)))
        return -ENOENT;

    struct vnode *cur;
    if (path[0] == '/') {
        cur = vfs_root(v);
    } else if (dirfd == AT_FDCWD) {
        cur = v->cwd;
    } else {
        struct ofd *f = fd_get(v, dirfd);
        if (!f)
            return -EBADF;
        if (!f->node)
            return len ? -ENOTDIR : -ENOENT;
        cur = f->node;
        if (len && !VFS_ISDIR(cur->mode))
            return -ENOTDIR;
    }
    if (len == 0) {
        if (flags & W_EMPTY_ENOENT && !VFS_ISLNK(cur->mode))
            return -ENOENT;
        w->node = cur;
        w->dir = cur;
        w->empty = 1;
        w->type = LAST_DOT;
        return 0;
    }

    struct frame fr[VFS_MAXSYMLINKS + 1];
    int depth = 1, links = 0;
    fr[0].p = path;
    fr[0].len = len;
    fr[0].pos = 0;
    fr[0].confine = 0;
    int type = path[0] == '/' ? LAST_ROOT : LAST_DOT;
    int slash = 0;

    /* origin: components not fetched yet, relative to pend_base, in v->scratch */
    struct vnode *pend_base = 0;
    size_t pend_len = 0;
    int pend_depth = 0, pend_dir = 0;
    char *pend = v->scratch;

    for (;;) {
        struct frame *f = &fr[depth - 1];
        while (f->pos < f->len && f->p[f->pos] == '/')
            f->pos++;
        if (f->pos == f->len) {
            if (depth == 1)
                break;
            depth--;
            continue;
        }
        const char *c = f->p + f->pos;
        size_t cl = 0;
        while (f->pos + cl < f->len && c[cl] != '/')
            cl++;
        f->pos += cl;
        int last = 1;
        slash = 0;
        for (int i = depth - 1; i >= 0 && last; i--) {
            for (size_t k = fr[i].pos; k < fr[i].len; k++) {
                if (fr[i].p[k] != '/') {
                    last = 0;
                    break;
                }
                slash = 1;
            }
        }
        if (!last)
            slash = 0;
        int ctype = LAST_NORM;
        if (cl == 1 && c[0] == '.')
            ctype = LAST_DOT;
        else if (cl == 2 && c[0] == '.' && c[1] == '.')
            ctype = LAST_DOTDOT;

        if (pend_base) {
            /* origin, past what is known: collect */
            if (last && (flags & W_PARENT))
                return -EROFS;
            if (ctype == LAST_DOT) {
                pend_dir = 1;
                continue;
            }
            if (ctype == LAST_DOTDOT) {
                while (pend_len && pend[pend_len - 1] != '/')
                    pend_len--;
                if (pend_len)
                    pend_len--;
                if (--pend_depth == 0) {
                    cur = pend_base;
                    pend_base = 0;
                    type = LAST_DOTDOT;
                }
                pend_dir = 0;
                continue;
            }
            if (cl > VFS_NAME_MAX)
                return -ENAMETOOLONG;
            if (pend_len + 1 + cl >= VFS_PATH_MAX)
                return -ENAMETOOLONG;
            pend[pend_len++] = '/';
            memcpy(pend + pend_len, c, cl);
            pend_len += cl;
            pend_depth++;
            pend_dir = 0;
            continue;
        }

        long r = route_enter(v, cur->rt, flags);
        if (r < 0)
            return r;
        if (!VFS_ISDIR(cur->mode))
            return -ENOTDIR;
        r = vfs_permission(v, cur, MAY_X);
        if (r < 0)
            return r;
        if (last && (flags & W_PARENT)) {
            w->dir = cur;
            w->name = c;
            w->len = cl;
            w->type = ctype;
            w->slash = slash;
            return 0;
        }
        if (ctype == LAST_DOT) {
            type = LAST_DOT;
            continue;
        }
        if (ctype == LAST_DOTDOT) {
            type = LAST_DOTDOT;
            cur = ns_parent(v, cur, f->confine);
            continue;
        }
        type = LAST_NORM;
        if (last && (flags & W_CREATE) && slash)
            return -EISDIR;
        struct vnode *child;
        int how;
        r = lookup_entry(v, cur, c, cl, flags, &child, &how);
        if (r == -ENOENT && how != LOOKUP_FINAL && cur->rt->ops == &vfs_origin_backend && !(cur->flags & VN_DEAD)) {
            if (last) {
                r = origin_fetch(v, cur, c, cl, &child);
                if (r == -ENOENT && (flags & W_CREATE))
                    return -EROFS;
            } else {
                pend_base = cur;
                memcpy(pend, c, cl);
                pend_len = cl;
                pend_depth = 1;
                pend_dir = 0;
                continue;
            }
        }
        if (r == -ENOENT && last && (flags & W_CREATE) && how != LOOKUP_FINAL) {
            w->dir = cur;
            w->name = c;
            w->len = cl;
            w->type = LAST_NORM;
            return 0;
        }
        if (r < 0)
            return r;
        if (VFS_ISLNK(child->mode) && (!last || (flags & W_FOLLOW) || slash)) {
            if (++links > VFS_MAXSYMLINKS || depth > VFS_MAXSYMLINKS)
                return -ELOOP;
            if (child->flags & VN_MAGIC) {
                r = child->rt->ops->follow(v, child, &cur);
                if (r < 0)
                    return r;
                if (last)
                    break;
                continue;
            }
            if (child->size == 0 || !child->data)
                return -ENOENT;
            int global = child->rt->global_links;
            fr[depth].p = (const char *)child->data;
            fr[depth].len = child->size;
            fr[depth].pos = 0;
            fr[depth].confine = global ? 0 : child->rt;
            depth++;
            if (child->data[0] == '/') {
                cur = global ? vfs_root(v) : child->rt->root;
                type = LAST_ROOT;
            }
            continue;
        }
        cur = child;
        if (last)
            break;
    }

    if (pend_base) {
        if (flags & W_PARENT)
            return -EROFS;
        if ((flags & W_CREATE) && slash)
            return -EISDIR;
        struct vnode *got;
        long r = origin_fetch(v, pend_base, pend, pend_len, &got);
        if (r == -ENOENT && (flags & W_CREATE))
            return -EROFS;
        if (r < 0)
            return r;
        if ((slash || pend_dir) && !VFS_ISDIR(got->mode))
            return -ENOTDIR;
        cur = got;
        type = LAST_NORM;
    }
    long r = route_enter(v, cur->rt, flags);
    if (r < 0)
        return r;
    w->dir = cur;
    w->type = type;
    w->slash = slash;
    if (flags & W_PARENT)
        return 0; /* "/" : no final component */
    w->node = cur;
    if (slash && !VFS_ISDIR(cur->mode))
        return -ENOTDIR;
    if ((flags & W_DIRECTORY) && !VFS_ISDIR(cur->mode))
        return -ENOTDIR;
    return 0;
}

