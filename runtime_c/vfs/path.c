/* Path resolution: vfs_walk, what every call taking a path uses.  The walker is generic;
 * each step asks the namespace (lookup_entry, lookup.c) and, through its ops table, the
 * backend of the directory it stands in.
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
 * /proc/self/fd/0).  "Magic" links (VN_MAGIC: /proc's fd links) are followed by their
 * backend, which reaches what the fd is open on instead of reading a path.  A route may
 * stop the walk (vfs_backend.enter: deny routes say ENOENT, or EACCES for writing).
 *
 * A name a directory lacks may still be had from outside the vfs (vfs_backend.fetch:
 * origin routes download it).  Such a backend may not be able to tell whether an
 * intermediate component is a directory before it has the file: it says "later", and the
 * walker collects the rest of the path lexically and asks once at the end ("x/../y" is
 * then taken as "y" without asking whether x exists). */
#include "vfs_int.h"

/* the path, and the symlink targets being read inside it */
struct frame {
    const char *p;
    size_t len, pos;
    const struct route *confine; /* a symlink's target: ".." stops at this route's root */
};

/* the components collected for a backend that said VFS_FETCH_LATER */
struct later {
    struct vnode *base;         /* where collecting began (NULL: not collecting) */
    char *path;                 /* relative to base (v->scratch's first half) */
    size_t len;
    int depth;                  /* components in path */
    int dir;                    /* a "." came last: the result must be a directory */
};

struct walker {
    struct vfs *v;
    int flags;                  /* W_* */
    struct walk *w;
    struct frame fr[VFS_MAXSYMLINKS + 1];
    int depth, links;
    struct vnode *cur;          /* where the walk stands */
    int type;                   /* LAST_* of how it got there */
    int slash;                  /* the component had a trailing slash */
    struct later later;
    /* the component being taken */
    const char *c;
    size_t cl;
    int ctype;                  /* LAST_NORM, LAST_DOT, LAST_DOTDOT */
    int last;                   /* nothing but slashes after it */
};

/* what a step says */
enum { STEP_NEXT, STEP_DONE, STEP_RETURN };

/* Checks the path and finds where the walk starts: 0 and *start, 1 when an empty path
 * has already been answered in w, or -errno. */
static long walk_start(struct vfs *v, int dirfd, const char *path, int flags, struct walk *w, size_t *lenp,
                       struct vnode **start)
{
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
    *lenp = len;
    *start = cur;
    if (len)
        return 0;
    if (flags & W_EMPTY_ENOENT && !VFS_ISLNK(cur->mode))
        return -ENOENT;
    w->node = cur;
    w->dir = cur;
    w->empty = 1;
    w->type = LAST_DOT;
    return 1;
}

/* The next component, from the innermost symlink target still being read: 1 with wk->c,
 * cl, ctype, last and slash set, or 0 at the end of the path. */
static int next_component(struct walker *wk)
{
    struct frame *f;
    for (;;) {
        f = &wk->fr[wk->depth - 1];
        while (f->pos < f->len && f->p[f->pos] == '/')
            f->pos++;
        if (f->pos < f->len)
            break;
        if (wk->depth == 1)
            return 0;
        wk->depth--;
    }
    const char *c = f->p + f->pos;
    size_t cl = 0;
    while (f->pos + cl < f->len && c[cl] != '/')
        cl++;
    f->pos += cl;
    /* last if every frame has nothing but slashes left; slash if there is one */
    int last = 1, slash = 0;
    for (int i = wk->depth - 1; i >= 0 && last; i--) {
        for (size_t k = wk->fr[i].pos; k < wk->fr[i].len; k++) {
            if (wk->fr[i].p[k] != '/') {
                last = 0;
                break;
            }
            slash = 1;
        }
    }
    wk->c = c;
    wk->cl = cl;
    wk->last = last;
    wk->slash = last && slash;
    wk->ctype = cl == 1 && c[0] == '.' ? LAST_DOT : cl == 2 && c[0] == '.' && c[1] == '.' ? LAST_DOTDOT : LAST_NORM;
    return 1;
}

/* Collecting for the backend: "." marks a directory, ".." takes a component back (all of
 * them: the walk goes on from where collecting began), a name is added. */
static long step_later(struct walker *wk)
{
    struct later *l = &wk->later;
    if (wk->last && (wk->flags & W_PARENT)) {
        struct vnode *unused;
        return l->base->rt->ops->fetch_path(wk->v, l->base, l->path, l->len, wk->flags, &unused);
    }
    if (wk->ctype == LAST_DOT) {
        l->dir = 1;
        return STEP_NEXT;
    }
    l->dir = 0;
    if (wk->ctype == LAST_DOTDOT) {
        while (l->len && l->path[l->len - 1] != '/')
            l->len--;
        if (l->len)
            l->len--;
        if (--l->depth == 0) {
            wk->cur = l->base;
            l->base = 0;
            wk->type = LAST_DOTDOT;
        }
        return STEP_NEXT;
    }
    if (wk->cl > VFS_NAME_MAX)
        return -ENAMETOOLONG;
    if (l->len + 1 + wk->cl >= VFS_PATH_MAX)
        return -ENAMETOOLONG;
    if (l->depth)
        l->path[l->len++] = '/';
    memcpy(l->path + l->len, wk->c, wk->cl);
    l->len += wk->cl;
    l->depth++;
    return STEP_NEXT;
}

/* The backend said "later" for this component: collecting begins with it. */
static void begin_later(struct walker *wk)
{
    struct later *l = &wk->later;
    l->base = wk->cur;
    l->path = wk->v->scratch;
    l->len = l->depth = l->dir = 0;
    step_later(wk); /* a name: it cannot fail (NAME_MAX checked by the lookup) */
}

/* A symlink to follow: its backend's target (magic links), or its text pushed as a frame. */
static long step_link(struct walker *wk, struct vnode *link)
{
    if (++wk->links > VFS_MAXSYMLINKS || wk->depth > VFS_MAXSYMLINKS)
        return -ELOOP;
    if (link->flags & VN_MAGIC) {
        long r = link->rt->ops->follow(wk->v, link, &wk->cur);
        if (r < 0)
            return r;
        return wk->last ? STEP_DONE : STEP_NEXT;
    }
    if (link->size == 0 || !link->data)
        return -ENOENT;
    int global = link->rt->global_links;
    struct frame *f = &wk->fr[wk->depth++];
    f->p = (const char *)link->data;
    f->len = link->size;
    f->pos = 0;
    f->confine = global ? 0 : link->rt;
    if (link->data[0] == '/') {
        wk->cur = global ? vfs_root(wk->v) : link->rt->root;
        wk->type = LAST_ROOT;
    }
    return STEP_NEXT;
}

/* The final component is absent and may be created (W_CREATE): the walk ends at its
 * directory, with its name. */
static long end_absent(struct walker *wk)
{
    wk->w->dir = wk->cur;
    wk->w->name = wk->c;
    wk->w->len = wk->cl;
    wk->w->type = LAST_NORM;
    return STEP_RETURN;
}

/* A name in the directory the walk stands in: the namespace's entry, else the backend may
 * fetch it; then a symlink is followed, or the walk moves there. */
static long step_name(struct walker *wk)
{
    struct vfs *v = wk->v;
    int flags = wk->flags;
    struct vnode *child;
    int how;
    wk->type = LAST_NORM;
    if (wk->last && (flags & W_CREATE) && wk->slash)
        return -EISDIR;
    long r = lookup_name(v, wk->cur, wk->c, wk->cl, flags, &child, &how); /* step() let it in */
    if (r == -ENOENT && how != LOOKUP_FINAL && wk->cur->rt->ops->fetch) {
        r = wk->cur->rt->ops->fetch(v, wk->cur, wk->c, wk->cl, wk->last, flags, &child);
        if (r == VFS_FETCH_LATER) {
            begin_later(wk);
            return STEP_NEXT;
        }
    }
    if (r == -ENOENT && wk->last && (flags & W_CREATE) && how != LOOKUP_FINAL)
        return end_absent(wk);
    if (r < 0)
        return r;
    if (VFS_ISLNK(child->mode) && (!wk->last || (flags & W_FOLLOW) || wk->slash))
        return step_link(wk, child);
    wk->cur = child;
    return wk->last ? STEP_DONE : STEP_NEXT;
}

/* One component from a directory: the route may stop the walk, the directory must be
 * one and searchable; W_PARENT stops before the final component. */
static long step(struct walker *wk)
{
    struct vfs *v = wk->v;
    long r = route_enter(v, wk->cur->rt, wk->flags);
    if (r < 0)
        return r;
    if (!VFS_ISDIR(wk->cur->mode))
        return -ENOTDIR;
    r = vfs_permission(v, wk->cur, MAY_X);
    if (r < 0)
        return r;
    if (wk->last && (wk->flags & W_PARENT)) {
        struct walk *w = wk->w;
        w->dir = wk->cur;
        w->name = wk->c;
        w->len = wk->cl;
        w->type = wk->ctype;
        w->slash = wk->slash;
        return STEP_RETURN;
    }
    if (wk->ctype == LAST_DOT) {
        wk->type = LAST_DOT;
        return STEP_NEXT;
    }
    if (wk->ctype == LAST_DOTDOT) {
        wk->type = LAST_DOTDOT;
        wk->cur = ns_parent(v, wk->cur, wk->fr[wk->depth - 1].confine);
        return STEP_NEXT;
    }
    return step_name(wk);
}

/* The walk ended while collecting: the backend is asked for the whole path once. */
static long finish_later(struct walker *wk)
{
    struct later *l = &wk->later;
    if ((wk->flags & W_CREATE) && wk->slash && !(wk->flags & W_PARENT))
        return -EISDIR;
    struct vnode *got;
    long r = l->base->rt->ops->fetch_path(wk->v, l->base, l->path, l->len, wk->flags, &got);
    if (r < 0)
        return r;
    if ((wk->slash || l->dir) && !VFS_ISDIR(got->mode))
        return -ENOTDIR;
    wk->cur = got;
    wk->type = LAST_NORM;
    return 0;
}

/* Where the walk stands is its result: the route may still refuse it; the checks of the
 * final node (a trailing slash or W_DIRECTORY: a directory). */
static long finish(struct walker *wk)
{
    struct walk *w = wk->w;
    long r = route_enter(wk->v, wk->cur->rt, wk->flags);
    if (r < 0)
        return r;
    w->dir = wk->cur;
    w->type = wk->type;
    w->slash = wk->slash;
    if (wk->flags & W_PARENT)
        return 0; /* "/" : no final component */
    w->node = wk->cur;
    if (wk->slash && !VFS_ISDIR(wk->cur->mode))
        return -ENOTDIR;
    if ((wk->flags & W_DIRECTORY) && !VFS_ISDIR(wk->cur->mode))
        return -ENOTDIR;
    return 0;
}

long vfs_walk(struct vfs *v, int dirfd, const char *path, int flags, struct walk *w)
{
    memset(w, 0, sizeof *w);
    struct walker wk;
    size_t len;
    long r = walk_start(v, dirfd, path, flags, w, &len, &wk.cur);
    if (r != 0)
        return r < 0 ? r : 0;
    wk.v = v;
    wk.flags = flags;
    wk.w = w;
    wk.fr[0] = (struct frame){path, len, 0, 0};
    wk.depth = 1;
    wk.links = 0;
    wk.type = path[0] == '/' ? LAST_ROOT : LAST_DOT;
    wk.slash = 0;
    wk.later.base = 0;
    while (next_component(&wk)) {
        r = wk.later.base ? step_later(&wk) : step(&wk);
        if (r < 0)
            return r;
        if (r == STEP_RETURN)
            return 0;
        if (r == STEP_DONE)
            break;
    }
    if (wk.later.base && (r = finish_later(&wk)) < 0)
        return r;
    return finish(&wk);
}
