/* The origin backend: vfs_mount_origin, vfs_pin_sha256; fetching (the walk asks for a path under an origin route that names
 * something not fetched yet: vfs_backend.fetch and fetch_path) and the read-only file
 * operations on what was fetched.
 *
 * The URL is the route's url_prefix followed by the path relative to the route,
 * percent-encoded (so that no name can add a query, a fragment or a "..").  The
 * whole file comes through env->fetch; when the route pins the file's sha256 it
 * is checked (-EIO on a mismatch, and nothing is kept).  What is fetched is kept
 * for later opens: a read-only file (0444) and the directories leading to it
 * (0555).  Failures are not kept: -ENOENT or -EIO each time. */
#include "vfs_int.h"

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '/';
}

static const struct vfs_pin *find_pin(const struct route *rt, const char *path, size_t len)
{
    for (const struct vfs_pin *p = rt->pins; p; p = p->next)
        if (name_eq(p->path, p->len, path, len))
            return p;
    return 0;
}

/* The path of dir's entry rel relative to the route, into v->scratch's second half (its
 * first half may hold rel): its length. */
static long route_path(struct vfs *v, struct vnode *dir, const char *rel, size_t rellen, char **out)
{
    char *full = v->scratch + VFS_PATH_MAX;
    long dl = vfs_rel_path(dir, full, VFS_PATH_MAX);
    if (dl < 0)
        return dl;
    size_t len = (size_t)dl;
    if (len + 1 + rellen >= VFS_PATH_MAX)
        return -ENAMETOOLONG;
    if (len)
        full[len++] = '/';
    memcpy(full + len, rel, rellen);
    len += rellen;
    full[len] = 0;
    *out = full;
    return (long)len;
}

/* The route's URL prefix followed by path, percent-encoded (vmem_alloc(*size)), or NULL. */
static char *make_url(struct vfs *v, const struct route *rt, const char *path, size_t len, size_t *size)
{
    static const char hex[] = "0123456789ABCDEF";
    *size = rt->urllen + 3 * len + 1;
    char *url = vmem_alloc(v, *size);
    if (!url)
        return 0;
    memcpy(url, rt->url, rt->urllen);
    size_t u = rt->urllen;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (unreserved(c)) {
            url[u++] = (char)c;
        } else {
            url[u++] = '%';
            url[u++] = hex[c >> 4];
            url[u++] = hex[c & 15];
        }
    }
    url[u] = 0;
    return url;
}

/* The file at path (relative to the route) through env->fetch, checked against its pin:
 * 0 with *data (env memory, the caller's now; NULL if empty) and *dlen, or -ENOENT / -EIO
 * / -ENOMEM. */
static long download(struct vfs *v, const struct route *rt, const char *path, size_t len, void **data,
                     size_t *dlen)
{
    if (!v->env.fetch)
        return -EIO;
    size_t usize;
    char *url = make_url(v, rt, path, len, &usize);
    if (!url)
        return -ENOMEM;
    *data = 0;
    *dlen = 0;
    int r = v->env.fetch(v->env.ctx, url, data, dlen);
    vmem_free(v, url, usize);
    if (r != 0) {
        if (r > 0 && *data)
            v->env.release(v->env.ctx, *data, *dlen);
        return r == -ENOENT ? -ENOENT : -EIO;
    }
    if (!*data && *dlen)
        return -EIO;
    const struct vfs_pin *pin = find_pin(rt, path, len);
    if (pin) {
        uint8_t h[32];
        vfs_sha256(*data, *dlen, h);
        if (memcmp(h, pin->hash, 32) != 0) {
            if (*data)
                v->env.release(v->env.ctx, *data, *dlen);
            return -EIO;
        }
    }
    return 0;
}

/* The directories leading to rel's last component, made (0555) where they are not known
 * yet: 0 with *last (the directory) and the last component in *name, *namelen (none:
 * NULL), or -ENOTDIR / -ENOMEM. */
static long keep_dirs(struct vfs *v, struct vnode *dir, const char *rel, size_t rellen, struct vnode **last,
                      const char **name, size_t *namelen)
{
    struct vnode *d = dir;
    size_t i = 0;
    *name = 0;
    *namelen = 0;
    while (i < rellen) {
        while (i < rellen && rel[i] == '/')
            i++;
        size_t j = i;
        while (j < rellen && rel[j] != '/')
            j++;
        if (j == i)
            break;
        size_t k = j;
        while (k < rellen && rel[k] == '/')
            k++;
        if (k == rellen) {
            *name = rel + i;
            *namelen = j - i;
            break;
        }
        struct vnode *c = node_child(v, d, rel + i, j - i);
        if (!c) {
            c = node_new(v, dir->rt, S_IFDIR | 0555);
            if (!c)
                return -ENOMEM;
            long err = node_set_name(v, c, rel + i, j - i, 1);
            if (err < 0) {
                node_destroy(v, c);
                return err;
            }
            node_link(v, d, c);
        } else if (!VFS_ISDIR(c->mode)) {
            return -ENOTDIR;
        }
        d = c;
        i = j;
    }
    *last = d;
    return 0;
}

/* What was downloaded is kept: the directories leading to it, then the file (0444),
 * which owns data from now on.  On failure data is released. */
static long keep(struct vfs *v, struct vnode *dir, const char *rel, size_t rellen, void *data, size_t dlen,
                 struct vnode **out)
{
    struct vnode *d, *n = 0;
    const char *name;
    size_t namelen;
    long err = keep_dirs(v, dir, rel, rellen, &d, &name, &namelen);
    if (!err && (!name || node_child(v, d, name, namelen)))
        err = -EIO;
    if (!err) {
        n = node_new(v, dir->rt, S_IFREG | 0444);
        if (!n)
            err = -ENOMEM;
        else if ((err = node_set_name(v, n, name, namelen, 1)) < 0)
            node_destroy(v, n);
    }
    if (err) {
        if (data)
            v->env.release(v->env.ctx, data, dlen);
        return err;
    }
    n->data = data;
    n->size = dlen;
    n->flags |= VN_OWN_DATA;
    node_link(v, d, n);
    *out = n;
    return 0;
}

/* dir's entry rel (a name, or a path of names), fetched and kept. */
static long origin_fetch(struct vfs *v, struct vnode *dir, const char *rel, size_t rellen, struct vnode **out)
{
    *out = 0;
    if (rellen == 0)
        return -ENOENT;
    char *full;
    long len = route_path(v, dir, rel, rellen, &full);
    if (len < 0)
        return len;
    void *data;
    size_t dlen;
    long r = download(v, dir->rt, full, (size_t)len, &data, &dlen);
    if (r < 0)
        return r;
    return keep(v, dir, rel, rellen, data, dlen, out);
}

static long origin_read(struct vfs *v, struct vnode *n, void *buf, size_t len, uint64_t off)
{
    if (off >= n->size || !n->data)
        return 0;
    if (len > n->size - off)
        len = (size_t)(n->size - off);
    return vfs_moved(len, vfs_copy_out(v, buf, n->data + off, len));
}

/* the route's URL prefix and its pins */
static void origin_unmount(struct vfs *v, struct route *rt)
{
    for (struct vfs_pin *p = rt->pins, *next; p; p = next) {
        next = p->next;
        vmem_free(v, p->path, p->len + 1);
        vmem_free(v, p, sizeof *p);
    }
    rt->pins = 0;
    if (rt->url)
        vmem_free(v, rt->url, rt->urllen + 1);
    rt->url = 0;
}

static void origin_drop(struct vfs *v, struct vnode *n)
{
    if ((n->flags & VN_OWN_DATA) && n->data)
        v->env.release(v->env.ctx, (void *)n->data, n->size);
    n->data = 0;
}

/* The whole path at once.  Nothing is known of a directory not fetched yet, so a walk
 * that would write into one (W_PARENT) and a file the origin lacks that a walk would
 * create (W_CREATE) are EROFS: nothing is ever made here. */
static long origin_fetch_path(struct vfs *v, struct vnode *dir, const char *rel, size_t len, int wflags,
                              struct vnode **out)
{
    if (wflags & W_PARENT)
        return -EROFS;
    long r = origin_fetch(v, dir, rel, len, out);
    return r == -ENOENT && (wflags & W_CREATE) ? -EROFS : r;
}

/* One name: fetched now if it is the path's last, else the rest of the path is awaited
 * (whether it is a directory shows only once the file is there).  A removed directory
 * has nothing more to fetch. */
static long origin_fetch_name(struct vfs *v, struct vnode *dir, const char *name, size_t len, int last, int wflags,
                              struct vnode **out)
{
    if (dir->flags & VN_DEAD)
        return -ENOENT;
    if (!last)
        return VFS_FETCH_LATER;
    return origin_fetch_path(v, dir, name, len, wflags, out);
}

const struct vfs_backend vfs_origin_backend = {
    .fetch = origin_fetch_name,
    .fetch_path = origin_fetch_path,
    .read = origin_read,
    .fsync = vfs_fsync_noop,
    .drop = origin_drop,
    .unmount = origin_unmount,
};

long vfs_mount_origin(struct vfs *v, const char *prefix, const char *url_prefix)
{
    if (!v || !url_prefix)
        return -EINVAL;
    size_t ulen = 0;
    while (url_prefix[ulen])
        if (++ulen >= VFS_PATH_MAX)
            return -EINVAL;
    struct route *rt;
    long r = route_new(v, prefix, &vfs_origin_backend, 0555, &rt);
    if (r < 0)
        return r;
    rt->url = vmem_alloc(v, ulen + 1);
    if (!rt->url) {
        route_discard(v, rt);
        return -ENOMEM;
    }
    memcpy(rt->url, url_prefix, ulen + 1);
    rt->urllen = ulen;
    return route_attach(v, rt);
}

/* relpath normalized into buf (components joined by one '/', no "."; ".." refused): its
 * length, or -EINVAL / -ENAMETOOLONG */
static long pin_path(const char *relpath, char *buf)
{
    size_t n = 0, i = 0;
    while (relpath[i]) {
        while (relpath[i] == '/')
            i++;
        size_t j = i;
        while (relpath[j] && relpath[j] != '/')
            j++;
        if (j == i)
            break;
        if (j - i == 1 && relpath[i] == '.') {
            i = j;
            continue;
        }
        if ((j - i == 2 && relpath[i] == '.' && relpath[i + 1] == '.') || j - i > VFS_NAME_MAX)
            return -EINVAL;
        if (n + (j - i) + 1 >= VFS_PATH_MAX)
            return -ENAMETOOLONG;
        if (n)
            buf[n++] = '/';
        memcpy(buf + n, relpath + i, j - i);
        n += j - i;
        i = j;
    }
    return n ? (long)n : -EINVAL;
}

long vfs_pin_sha256(struct vfs *v, const char *prefix, const char *relpath, const uint8_t hash[32])
{
    if (!v || !relpath || !hash)
        return -EINVAL;
    struct route *rt;
    long r = route_at(v, prefix, &rt);
    if (r < 0)
        return r;
    if (rt->ops != &vfs_origin_backend)
        return -ENOENT;
    char *buf = v->scratch;
    long len = pin_path(relpath, buf);
    if (len < 0)
        return len;
    size_t n = (size_t)len;
    struct vfs_pin *p = vmem_zalloc(v, sizeof *p);
    char *path = vmem_alloc(v, n + 1);
    if (!p || !path) {
        vmem_free(v, p, sizeof *p);
        vmem_free(v, path, n + 1);
        return -ENOMEM;
    }
    memcpy(path, buf, n);
    path[n] = 0;
    p->path = path;
    p->len = n;
    memcpy(p->hash, hash, 32);
    p->next = rt->pins;
    rt->pins = p;
    return 0;
}
