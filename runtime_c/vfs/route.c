/* The namespace: routes and the skeleton they are mounted on.  route_new, route_attach and
 * route_discard (what each backend's vfs_mount_* calls: the backends know the namespace,
 * the namespace knows them only by their ops tables), route_at; the skeleton (the
 * read-only directories leading to route prefixes, on which routes are mounted); skel_of
 * (the skeleton directory at a node's place, which is how longest-prefix routing happens
 * during a walk), resolve_skel (what the namespace shows at a skeleton directory: "..",
 * out of a route), ns_parent (where ".." leads), vfs_root, and node_path (a node's
 * absolute path, for getcwd and /proc/self/fd). */
#include "vfs_int.h"

/* The skeleton's directories: read-only, and kept in memory (fsync has nothing to do). */
const struct vfs_backend vfs_skel_backend = {.fsync = vfs_fsync_noop};

/* "/" or "/a/b": absolute, no trailing slash, no empty, "." or ".." components */
static long check_prefix(const char *prefix, size_t *lenp)
{
    if (!prefix || prefix[0] != '/')
        return -EINVAL;
    size_t len = 0, comp = 0;
    int depth = 0;
    while (prefix[len]) {
        if (len >= VFS_PATH_MAX - 1)
            return -EINVAL;
        len++;
    }
    if (len == 1) {
        *lenp = 1;
        return 0;
    }
    for (size_t i = 1; i <= len; i++) {
        if (i == len || prefix[i] == '/') {
            const char *c = prefix + i - comp;
            if (comp == 0 || comp > VFS_NAME_MAX || (comp == 1 && c[0] == '.') ||
                (comp == 2 && c[0] == '.' && c[1] == '.'))
                return -EINVAL;
            if (++depth > VFS_SKEL_DEPTH)
                return -EINVAL;
            comp = 0;
        } else {
            comp++;
        }
    }
    *lenp = len;
    return 0;
}

/* The skeleton directory for prefix, created with those leading to it (create), or found. */
static long skel_node(struct vfs *v, const char *prefix, size_t len, int create, struct vnode **out)
{
    struct vnode *s = v->skel_root;
    size_t i = 1;
    while (i < len) {
        size_t j = i;
        while (j < len && prefix[j] != '/')
            j++;
        struct vnode *c = node_child(v, s, prefix + i, j - i);
        if (!c) {
            if (!create)
                return -ENOENT;
            c = node_new(v, &v->skel, S_IFDIR | 0555);
            if (!c)
                return -ENOMEM;
            long r = node_set_name(v, c, prefix + i, j - i, 1);
            if (r < 0) {
                node_destroy(v, c);
                return r;
            }
            node_link(v, s, c);
        }
        s = c;
        i = j + 1;
    }
    *out = s;
    return 0;
}

long route_new(struct vfs *v, const char *prefix, const struct vfs_backend *ops, uint32_t rootmode,
               struct route **out)
{
    size_t len;
    long r = check_prefix(prefix, &len);
    if (r < 0)
        return r;
    struct vnode *s;
    if (skel_node(v, prefix, len, 0, &s) == 0 && s->mount)
        return -EEXIST;
    struct route *rt = vmem_zalloc(v, sizeof *rt);
    if (!rt)
        return -ENOMEM;
    rt->ops = ops;
    rt->dev = v->sh->next_dev++;
    rt->prefix = vmem_alloc(v, len + 1);
    rt->root = node_new(v, rt, S_IFDIR | rootmode);
    if (!rt->prefix || !rt->root) {
        if (rt->root)
            node_destroy(v, rt->root);
        vmem_free(v, rt->prefix, len + 1);
        vmem_free(v, rt, sizeof *rt);
        return -ENOMEM;
    }
    memcpy(rt->prefix, prefix, len + 1);
    rt->prefixlen = len;
    rt->root->parent = rt->root;
    *out = rt;
    return 0;
}

void route_discard(struct vfs *v, struct route *rt)
{
    struct vnode *n = v->sh->all, *next;
    for (; n; n = next) {
        next = n->all_next;
        if (n->rt == rt) {
            n->flags &= ~VN_DEAD;
            node_destroy(v, n);
        }
    }
    route_free(v, rt);
}

void route_free(struct vfs *v, struct route *rt)
{
    if (rt->ops->unmount)
        rt->ops->unmount(v, rt);
    vmem_free(v, rt->prefix, rt->prefixlen + 1);
    vmem_free(v, rt, sizeof *rt);
}

long route_attach(struct vfs *v, struct route *rt)
{
    struct vnode *s;
    long r = skel_node(v, rt->prefix, rt->prefixlen, 1, &s);
    if (r < 0) {
        route_discard(v, rt);
        return r;
    }
    s->mount = rt;
    rt->mountpoint = s;
    rt->next = v->routes;
    v->routes = rt;
    if (v->cwd == s) {
        /* the cwd was this place of the skeleton: it is now the route's root */
        node_get(rt->root);
        node_put(v, v->cwd);
        v->cwd = rt->root;
    }
    return 0;
}

long route_at(struct vfs *v, const char *prefix, struct route **out)
{
    size_t len;
    long r = check_prefix(prefix, &len);
    if (r < 0)
        return r;
    struct vnode *s;
    if (skel_node(v, prefix, len, 0, &s) < 0 || !s->mount)
        return -ENOENT;
    *out = s->mount;
    return 0;
}

struct vnode *vfs_root(struct vfs *v)
{
    return v->skel_root->mount ? v->skel_root->mount->root : v->skel_root;
}

/* The skeleton directory at n's place in the namespace, or NULL. */
struct vnode *skel_of(struct vfs *v, const struct vnode *n)
{
    const struct route *rt = n->rt;
    if (route_is_skel(v, rt))
        return (struct vnode *)n;
    struct vnode *mp = rt->mountpoint;
    if (!mp)
        return 0;
    if (n == rt->root)
        return mp;
    if (!mp->first)
        return 0;
    const struct vnode *chain[VFS_SKEL_DEPTH];
    int d = 0;
    for (const struct vnode *p = n; p != rt->root; p = p->parent) {
        if (d == VFS_SKEL_DEPTH || !p->parent || (p->flags & VN_DEAD))
            return 0;
        chain[d++] = p;
    }
    struct vnode *s = mp;
    while (d--) {
        s = node_child(v, s, chain[d]->name, chain[d]->namelen);
        if (!s)
            return 0;
    }
    return s;
}

/* What the namespace shows at skeleton directory s: the directory of the route that
 * holds it if that route has one there, else s itself. */
struct vnode *resolve_skel(struct vfs *v, struct vnode *s)
{
    const struct vnode *chain[VFS_SKEL_DEPTH + 1];
    int d = 0;
    struct vnode *a = s;
    while (!a->mount) {
        if (a == v->skel_root || d == VFS_SKEL_DEPTH)
            return s;
        chain[d++] = a;
        a = a->parent;
    }
    if (route_enter(v, a->mount, 0) < 0)
        return d ? s : a->mount->root; /* nothing of that route is shown */
    struct vnode *pos = a->mount->root;
    while (d--) {
        struct vnode *sc = (struct vnode *)chain[d];
        if (route_is_skel(v, pos->rt)) {
            pos = sc;
            continue;
        }
        struct vnode *c = node_child(v, pos, sc->name, sc->namelen);
        pos = (c && VFS_ISDIR(c->mode)) ? c : sc;
    }
    return pos;
}

/* The directory ".." of n leads to: its parent inside its route; at a route's root, the
 * directory holding the route's prefix (unless the route confines the walk: a symlink's
 * target never leaves its image); at "/", "/" itself. */
struct vnode *ns_parent(struct vfs *v, struct vnode *n, const struct route *confine)
{
    if (!route_is_skel(v, n->rt) && n != n->rt->root)
        return n->parent ? n->parent : n;
    if (n->rt == confine)
        return n;
    struct vnode *s = route_is_skel(v, n->rt) ? n : n->rt->mountpoint;
    if (s == v->skel_root)
        return n;
    return resolve_skel(v, s->parent);
}

/* n's absolute path in the namespace, NUL-terminated; returns its length with the
 * NUL, -ENOENT for a removed node (or, with deleted, its old path followed by
 * " (deleted)", as /proc/self/fd shows it), -ENAMETOOLONG. */
int node_path(struct vfs *v, const struct vnode *n, char *buf, size_t size, int deleted)
{
    static const char mark[] = " (deleted)";
    size_t room = deleted ? sizeof mark - 1 : 0; /* kept free at the end for the mark */
    int dead = 0;
    if (size < room + 2)
        return -ENAMETOOLONG;
    size_t end = size - 1 - room, pos = end;
    buf[pos] = 0;
    for (;;) {
        if (n->flags & VN_DEAD) {
            if (!deleted)
                return -ENOENT;
            dead = 1;
        }
        const struct vnode *up;
        if (!route_is_skel(v, n->rt) && n == n->rt->root)
            n = n->rt->mountpoint; /* a route's root: its place is its mount point's */
        if (route_is_skel(v, n->rt) && n->parent == n)
            break; /* the skeleton's root: "/" */
        up = n->parent;
        if (!up)
            return -ENOENT;
        if (pos < n->namelen + 1)
            return -ENAMETOOLONG;
        pos -= n->namelen;
        memcpy(buf + pos, n->name, n->namelen);
        buf[--pos] = '/';
        n = up;
    }
    if (pos == end)
        buf[--pos] = '/';
    size_t len = end + 1 - pos; /* with the NUL */
    memmove(buf, buf + pos, len);
    if (dead) {
        memcpy(buf + len - 1, mark, sizeof mark);
        len += sizeof mark - 1;
    }
    return (int)len;
}
