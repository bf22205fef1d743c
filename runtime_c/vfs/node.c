/* Nodes, the same for every backend: node_new, node_set_name, node_own,
 * node_child (lookup in one directory), node_link / node_unlink (directory
 * entries, link counts, listing positions, tmpfs-like directory sizes), node_get
 * / node_put (references from open files and the cwd: an unlinked node lives on
 * until the last one goes, and keeps its old directory alive for ".."),
 * node_destroy, node_is_ancestor, name_eq and vfs_now (the clock). */
#include "vfs_int.h"

int name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

void vfs_now(struct vfs *v, struct vfs_ts *t)
{
    t->sec = 0;
    t->nsec = 0;
    if (v->env.clock)
        v->env.clock(v->env.ctx, &t->sec, &t->nsec);
    if (t->nsec >= 1000000000u)
        t->nsec = 0;
}

struct vnode *node_new(struct vfs *v, struct route *rt, uint32_t mode)
{
    struct vnode *n = vmem_zalloc(v, sizeof *n);
    if (!n)
        return 0;
    n->rt = rt;
    n->mode = mode;
    n->nlink = VFS_ISDIR(mode) ? 2 : 1;
    n->ino = v->next_ino++;
    n->next_off = VFS_DIR_FIRST;
    vfs_now(v, &n->mtime);
    n->atime = n->ctime = n->mtime;
    n->all_next = v->all;
    if (v->all)
        v->all->all_prev = n;
    v->all = n;
    return n;
}

/* copy: the name is copied into vfs memory; else it must outlive the node (tar image) */
int node_set_name(struct vfs *v, struct vnode *n, const char *name, size_t len, int copy)
{
    if (len > VFS_NAME_MAX)
        return -ENAMETOOLONG;
    const char *old = n->name;
    size_t oldlen = n->namelen;
    int owned = n->flags & VN_OWN_NAME;
    if (copy) {
        char *p = vmem_alloc(v, len + 1);
        if (!p)
            return -ENOMEM;
        memcpy(p, name, len);
        p[len] = 0;
        n->name = p;
        n->flags |= VN_OWN_NAME;
    } else {
        n->name = name;
        n->flags &= ~VN_OWN_NAME;
    }
    n->namelen = (uint32_t)len;
    if (owned)
        vmem_free(v, (void *)old, oldlen + 1);
    return 0;
}

/* The node belongs to uid:gid rather than to the virtual user (root's devices and /proc files). */
void node_own(struct vnode *n, uint32_t uid, uint32_t gid)
{
    n->uid = uid;
    n->gid = gid;
    n->flags |= VN_OWNED;
}

struct vnode *node_child(const struct vnode *dir, const char *name, size_t len)
{
    if (!dir || !VFS_ISDIR(dir->mode))
        return 0;
    for (struct vnode *c = dir->first; c; c = c->next)
        if (name_eq(c->name, c->namelen, name, len))
            return c;
    return 0;
}

/* Appends n to dir's entries (listings show them newest first, as tmpfs does). */
void node_link(struct vnode *dir, struct vnode *n)
{
    n->parent = dir;
    n->next = 0;
    n->prev = dir->last;
    if (dir->last)
        dir->last->next = n;
    else
        dir->first = n;
    dir->last = n;
    n->dir_off = dir->next_off++;
    dir->nentries++;
    if (VFS_ISDIR(n->mode))
        dir->nlink++;
}

static void node_detach(struct vnode *n)
{
    struct vnode *dir = n->parent;
    if (n->prev)
        n->prev->next = n->next;
    else
        dir->first = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        dir->last = n->prev;
    n->next = n->prev = 0;
    dir->nentries--;
    if (VFS_ISDIR(n->mode))
        dir->nlink--;
}

void node_get(struct vnode *n)
{
    n->refs++;
}

/* Removes n from its directory.  It dies now, or when its last reference goes. */
void node_unlink(struct vfs *v, struct vnode *n)
{
    if (!n->parent || n->parent == n || (n->flags & VN_DEAD))
        return;
    node_detach(n);
    n->flags |= VN_DEAD;
    n->nlink = 0;
    node_get(n->parent); /* ".." of a removed directory still leads there */
    if (n->refs == 0)
        node_destroy(v, n);
}

/* Moves n (already checked) into dir. */
void node_move(struct vnode *n, struct vnode *dir)
{
    node_detach(n);
    node_link(dir, n);
}

void node_put(struct vfs *v, struct vnode *n)
{
    if (n->refs)
        n->refs--;
    if (n->refs == 0 && (n->flags & VN_DEAD))
        node_destroy(v, n);
}

/* Frees a dead node (or, from vfs_free, any node); a dead node's reference on its old
 * directory is dropped after, iteratively (chains of removed directories). */
void node_destroy(struct vfs *v, struct vnode *n)
{
    while (n) {
        struct vnode *parent = (n->flags & VN_DEAD) ? n->parent : 0;
        if (n->rt && n->rt->ops && n->rt->ops->drop)
            n->rt->ops->drop(v, n);
        if (n->flags & VN_OWN_NAME)
            vmem_free(v, (void *)n->name, n->namelen + 1);
        if (n->all_prev)
            n->all_prev->all_next = n->all_next;
        else
            v->all = n->all_next;
        if (n->all_next)
            n->all_next->all_prev = n->all_prev;
        vmem_free(v, n, sizeof *n);
        n = 0;
        if (parent && parent->refs && --parent->refs == 0 && (parent->flags & VN_DEAD))
            n = parent;
    }
}

/* a is n or one of n's directories (within one route) */
int node_is_ancestor(const struct vnode *a, const struct vnode *n)
{
    for (;;) {
        if (n == a)
            return 1;
        if (!n->parent || n->parent == n || (n->flags & VN_DEAD))
            return 0;
        n = n->parent;
    }
}
