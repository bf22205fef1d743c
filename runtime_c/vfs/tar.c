/* The tar backend: tar_index (the index, built once when the route is mounted)
 * and the read-only file operations on the image in memory.
 *
 * The image is in the image format (docs/image-format.md).  tarfmt.c reads it a member at
 * a time and refuses every header that breaks a rule of the format; this file adds the
 * rules between members — no name given twice, nothing inside a file or a symlink, a
 * directory's member before the members inside it — and makes the directories that hold
 * members but have no member of their own (0755, time 0: pack writes none for .xax/).  A
 * refusal is -EINVAL, its reason kept for vfs_tar_refusal.  Not checked here, as the
 * document says: where a symlink leads (the walker keeps every path inside its route; the
 * Monitor refuses images whose symlinks leave them), and an app image's own rules
 * (.xax/meta.json first, padding, ELF data on pages: a bare program's --fs-image has no
 * .xax/, and a file whose data is not on a page is copied instead of mapped).  Nothing is
 * copied: names, link targets and file data point into the image. */
#include "tarfmt.h"
#include "vfs_int.h"

#include "xax_image.h"

struct seg {
    const char *p;
    size_t len;
};

/* Components of a path given as one segment (a route's subdir). */
struct comps {
    struct seg s;
    size_t pos;
};

/* next component: 1, 0 at the end, -EINVAL for "..", NUL, or an oversized component */
static int comp_next(struct comps *c, struct seg *out)
{
    const struct seg *s = &c->s;
    for (;;) {
        while (c->pos < s->len && s->p[c->pos] == '/')
            c->pos++;
        if (c->pos == s->len)
            return 0;
        size_t st = c->pos;
        while (c->pos < s->len && s->p[c->pos] != '/') {
            if (s->p[c->pos] == 0)
                return -EINVAL;
            c->pos++;
        }
        size_t n = c->pos - st;
        if (n == 1 && s->p[st] == '.')
            continue;
        if ((n == 2 && s->p[st] == '.' && s->p[st + 1] == '.') || n > VFS_NAME_MAX)
            return -EINVAL;
        out->p = s->p + st;
        out->len = n;
        return 1;
    }
}

/* the node a route's subdir names, without following symlinks */
static struct vnode *find_path(struct vfs *v, struct vnode *root, struct seg path, int *err)
{
    if (path.len == 0 || path.p[0] == '/' || path.len >= VFS_PATH_MAX) {
        *err = -EINVAL;
        return 0;
    }
    struct comps c = {path, 0};
    struct vnode *n = root;
    struct seg s;
    int r;
    while ((r = comp_next(&c, &s)) > 0) {
        n = node_child(v, n, s.p, s.len);
        if (!n) {
            *err = -ENOENT;
            return 0;
        }
    }
    if (r < 0) {
        *err = r;
        return 0;
    }
    return n;
}

/* A refusal of the image: -EINVAL, and why (vfs_tar_refusal). */
static long refuse(struct vfs *v, uint64_t at, const char *why)
{
    v->tar_refusal = why;
    v->tar_refusal_at = at;
    return -EINVAL;
}

/* The directory holding member m, making the ones the image has no member for (implicit:
 * 0755, time 0), and m's last component in *last: 0, -EINVAL (a member that holds it is not
 * a directory), -ENOMEM. */
static long member_dir(struct vfs *v, struct route *rt, const struct tarfmt_member *m, struct vnode **out,
                       struct tarfmt_seg *last)
{
    struct vnode *dir = rt->root;
    size_t pos = 0;
    struct tarfmt_seg c, next;
    tarfmt_component(m, &pos, &c); /* a name has one at least */
    while (tarfmt_component(m, &pos, &next)) {
        struct vnode *ch = node_child(v, dir, c.p, c.len);
        if (!ch) {
            ch = node_new_untimed(v, rt, S_IFDIR | 0755); /* time 0 */
            if (!ch)
                return -ENOMEM;
            ch->flags |= VN_IMPLICIT;
            node_set_name(v, ch, c.p, c.len, 0);
            node_link(v, dir, ch);
        } else if (!VFS_ISDIR(ch->mode)) {
            return refuse(v, m->header_off, XAX_RULE_PARENT ": inside a member that is not a directory");
        }
        dir = ch;
        c = next;
    }
    *out = dir;
    *last = c;
    return 0;
}

static uint32_t member_fmt(int kind)
{
    return kind == TARFMT_DIR ? S_IFDIR : kind == TARFMT_SYMLINK ? S_IFLNK : S_IFREG;
}

/* A new node for member m, named s, in dir: a symlink holds its target, a file its bytes in
 * the image. */
static long member_node(struct vfs *v, struct route *rt, const struct tarfmt_member *m, struct vnode *dir,
                        struct tarfmt_seg s)
{
    uint32_t fmt = member_fmt(m->kind);
    uint32_t perm = fmt == S_IFLNK ? 0777 : m->mode & VFS_PERM_MASK; /* as Linux shows every symlink */
    struct vnode *n = node_new_untimed(v, rt, fmt | perm); /* its times are the member's */
    if (!n)
        return -ENOMEM;
    n->mtime.sec = m->mtime;
    n->mtime.nsec = 0;
    n->atime = n->ctime = n->mtime;
    node_set_name(v, n, s.p, s.len, 0);
    if (m->kind == TARFMT_SYMLINK) {
        n->data = (const uint8_t *)m->link.p;
        n->size = m->link.len;
    } else if (m->kind == TARFMT_FILE) {
        n->data = rt->image + m->data_off;
        n->data_off = m->data_off;
        n->size = m->size;
    }
    node_link(v, dir, n);
    return 0;
}

/* One member into the index, with the rules between members. */
static long add_member(struct vfs *v, struct route *rt, const struct tarfmt_member *m)
{
    struct vnode *dir;
    struct tarfmt_seg s;
    long err = member_dir(v, rt, m, &dir, &s);
    if (err < 0)
        return err;
    struct vnode *old = node_child(v, dir, s.p, s.len);
    if (old && !(old->flags & VN_IMPLICIT))
        return refuse(v, m->header_off, XAX_RULE_DUPLICATE ": a name an earlier member has");
    if (old && m->kind == TARFMT_DIR)
        return refuse(v, m->header_off, XAX_RULE_DIR_ORDER ": a directory's member after members inside it");
    if (old)
        return refuse(v, m->header_off, XAX_RULE_PARENT ": earlier members are inside it, and it is not a directory");
    return member_node(v, rt, m, dir, s);
}

/* The route shows the image's directory subdir: it becomes the route's root. */
static long index_subdir(struct vfs *v, struct route *rt, const char *subdir)
{
    size_t n = 0;
    while (subdir[n])
        if (++n >= VFS_PATH_MAX)
            return -EINVAL;
    int err;
    struct vnode *root = find_path(v, rt->root, (struct seg){subdir, n}, &err);
    if (!root)
        return err == -ENOENT ? -ENOENT : -EINVAL;
    if (!VFS_ISDIR(root->mode))
        return -ENOTDIR;
    rt->root = root;
    node_make_root(v, root);
    return 0;
}

static long tar_index(struct vfs *v, struct route *rt, const char *subdir)
{
    rt->root->mtime.sec = 0;
    rt->root->mtime.nsec = 0; /* time 0, as the directories the image has no member for */
    rt->root->atime = rt->root->ctime = rt->root->mtime;
    struct tarfmt_scan sc;
    struct tarfmt_member m;
    int more;
    tarfmt_start(&sc, rt->image, rt->image_size);
    while ((more = tarfmt_next(&sc, &m)) > 0) {
        long r = add_member(v, rt, &m);
        if (r < 0)
            return r;
    }
    if (more < 0)
        return refuse(v, sc.why_off, sc.why);
    return subdir[0] ? index_subdir(v, rt, subdir) : 0;
}

static long tar_image_offset(struct vfs *v, const struct vnode *n, uint64_t *off)
{
    (void)v;
    *off = n->data_off;
    return 0;
}

static long tar_read(struct vfs *v, struct vnode *n, void *buf, size_t len, uint64_t off)
{
    if (off >= n->size || !n->data)
        return 0;
    if (len > n->size - off)
        len = n->size - off;
    return vfs_moved(len, vfs_copy_out(v, buf, n->data + off, len));
}

const struct vfs_backend vfs_tar_backend = {
    .read = tar_read,
    .fsync = vfs_fsync_noop,
    .image_offset = tar_image_offset,
};

long vfs_mount_tar(struct vfs *v, const char *prefix, const void *tar, size_t size, const char *subdir)
{
    if (!v || (!tar && size))
        return -EINVAL;
    v->tar_refusal = 0;
    v->tar_refusal_at = 0;
    struct route *rt;
    long r = route_new(v, prefix, &vfs_tar_backend, 0755, &rt);
    if (r < 0)
        return r;
    rt->image = tar;
    rt->image_size = size;
    r = tar_index(v, rt, subdir ? subdir : "");
    if (r < 0) {
        route_discard(v, rt);
        return r;
    }
    return route_attach(v, rt);
}

const char *vfs_tar_refusal(struct vfs *v, uint64_t *offset)
{
    if (offset)
        *offset = v->tar_refusal_at;
    return v->tar_refusal;
}
