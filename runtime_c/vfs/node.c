/* Nodes, the same for every backend: node_new, node_set_name, node_own,
 * node_child (lookup in one directory), node_link / node_unlink (directory
 * entries, link counts, listing positions, tmpfs-like directory sizes), node_get
 * / node_put (references from open files and the cwd: an unlinked node lives on
 * until the last one goes, and keeps its old directory alive for ".."),
 * node_destroy, node_is_ancestor, name_eq and vfs_now (the clock).
 *
 * A directory keeps its entries in a list, in the order listings show them; finding
 * one by name goes through the entry table instead: one hash table for the whole vfs,
 * keyed by (directory, name), chained through the nodes, grown by doubling when it
 * holds more entries than buckets.  Lookups and links cost O(1) on average whatever
 * the size of the directory (a list walk made indexing a tar O(n^2) in the size of
 * its directories).  The table takes at most two pointers per node at the most nodes
 * ever linked (it is not shrunk), plus one in each node, and is allocated like every
 * other block of the vfs; when growing it fails, the chains get longer and everything
 * still works.  The hash mixes the directory's address with the name, so the bucket a
 * name lands in depends on where the directory was allocated; a hostile image that
 * still crowds one chain can at worst make its own start-up slow, which its program
 * could do anyway. */
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

/* fsync of a backend whose data is all in memory: nothing to do (tmpfs's noop_fsync) */
long vfs_fsync_noop(struct vfs *v, struct vnode *n)
{
    (void)v;
    (void)n;
    return 0;
}

struct vnode *node_new_untimed(struct vfs *v, struct route *rt, uint32_t mode)
{
    struct vnode *n = vmem_zalloc(v, sizeof *n);
    if (!n)
        return 0;
    n->rt = rt;
    n->mode = mode;
    n->nlink = VFS_ISDIR(mode) ? 2 : 1;
    n->ino = v->sh->next_ino++;
    n->next_off = VFS_DIR_FIRST;
    n->all_next = v->sh->all;
    if (v->sh->all)
        v->sh->all->all_prev = n;
    v->sh->all = n;
    return n;
}

struct vnode *node_new(struct vfs *v, struct route *rt, uint32_t mode)
{
    struct vnode *n = node_new_untimed(v, rt, mode);
    if (n) {
        vfs_now(v, &n->mtime);
        n->atime = n->ctime = n->mtime;
    }
    return n;
}

/* -- the entry table ---------------------------------------------------------- */

#define TABLE_FIRST 256 /* buckets at first: 2 KiB, the allocator's largest small block */

static uint64_t mix(uint64_t h)
{
    /* splitmix64's finalizer: every input bit reaches every output bit */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static uint32_t entry_hash(const struct vfs *v, const struct vnode *dir, const char *name, size_t len)
{
    uint64_t h = (uint64_t)(uintptr_t)dir * 0x9e3779b97f4a7c15ULL ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, name + i, 8); /* one load: -ffreestanding calls memcpy otherwise */
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    uint64_t tail = 0;
    for (size_t k = 0; i < len; i++, k += 8)
        tail |= (uint64_t)(unsigned char)name[i] << k;
    h = mix(h ^ tail);
    (void)v;
#ifdef VFS_DEBUG
    return (uint32_t)h & v->dbg.hash_mask;
#else
    return (uint32_t)h;
#endif
}

/* n's bucket: its hash is not kept (a node fills its 256 bytes), it is computed again */
static struct vnode **bucket_of(struct vfs *v, const struct vnode *n)
{
    return &v->sh->htab[entry_hash(v, n->parent, n->name, n->namelen) & v->sh->hmask];
}

static void table_put(struct vfs *v, struct vnode *n)
{
    struct vnode **b = bucket_of(v, n);
    n->hnext = *b;
    *b = n;
}

/* Rebuilds the table with size buckets; -ENOMEM leaves the old one as it was. */
static int table_resize(struct vfs *v, uint32_t size)
{
    struct vnode **t = vmem_zalloc(v, (size_t)size * sizeof *t);
    if (!t)
        return -ENOMEM;
    struct vnode **old = v->sh->htab;
    uint32_t oldsize = v->sh->hmask + 1;
    v->sh->htab = t;
    v->sh->hmask = size - 1;
    for (uint32_t i = 0; i < oldsize; i++) {
        for (struct vnode *n = old[i], *next; n; n = next) {
            next = n->hnext;
            table_put(v, n);
        }
    }
    vmem_free(v, old, (size_t)oldsize * sizeof *old);
    return 0;
}

long node_table_init(struct vfs *v)
{
#ifdef VFS_DEBUG
    v->dbg.hash_mask = ~0u;
#endif
    v->sh->htab = vmem_zalloc(v, TABLE_FIRST * sizeof *v->sh->htab);
    if (!v->sh->htab)
        return -ENOMEM;
    v->sh->hmask = TABLE_FIRST - 1;
    v->sh->hcount = 0;
    return 0;
}

static void table_insert(struct vfs *v, struct vnode *n)
{
    table_put(v, n);
    n->flags |= VN_HASHED;
    /* at most one entry per bucket on average; a failed growth only lengthens the chains */
    if (++v->sh->hcount > v->sh->hmask + 1 && v->sh->hmask < 0x7fffffffu)
        table_resize(v, (v->sh->hmask + 1) * 2);
}

static void table_remove(struct vfs *v, struct vnode *n)
{
    if (!(n->flags & VN_HASHED))
        return;
    struct vnode **p = bucket_of(v, n);
    while (*p != n)
        p = &(*p)->hnext;
    *p = n->hnext;
    n->hnext = 0;
    n->flags &= ~VN_HASHED;
    v->sh->hcount--;
}

/* n's name becomes name (own: vfs memory to free with it); a linked node moves to the
 * bucket of its new name (taken out while it still has the old one) */
static void replace_name(struct vfs *v, struct vnode *n, const char *name, size_t len, int own)
{
    int hashed = n->flags & VN_HASHED;
    if (hashed)
        table_remove(v, n);
    if (n->flags & VN_OWN_NAME)
        vmem_free(v, (void *)n->name, n->namelen + 1);
    n->name = name;
    n->namelen = (uint32_t)len;
    n->flags = own ? n->flags | VN_OWN_NAME : n->flags & ~VN_OWN_NAME;
    if (hashed)
        table_insert(v, n);
}

/* copy: the name is copied into vfs memory; else it must outlive the node (tar image) */
int node_set_name(struct vfs *v, struct vnode *n, const char *name, size_t len, int copy)
{
    if (len > VFS_NAME_MAX)
        return -ENAMETOOLONG;
    if (copy) {
        char *p = vmem_alloc(v, len + 1);
        if (!p)
            return -ENOMEM;
        memcpy(p, name, len);
        p[len] = 0;
        name = p;
    }
    replace_name(v, n, name, len, copy);
    return 0;
}

void node_take_name(struct vfs *v, struct vnode *n, char *name, size_t len)
{
    replace_name(v, n, name, len, 1);
}

/* The node belongs to uid:gid rather than to the virtual user (root's devices and /proc files). */
void node_own(struct vnode *n, uint32_t uid, uint32_t gid)
{
    n->uid = uid;
    n->gid = gid;
    n->flags |= VN_OWNED;
}

struct vnode *node_child(struct vfs *v, const struct vnode *dir, const char *name, size_t len)
{
    if (!dir || !VFS_ISDIR(dir->mode))
        return 0;
    VFS_DEBUG_COUNT(v, lookups);
    for (struct vnode *c = v->sh->htab[entry_hash(v, dir, name, len) & v->sh->hmask]; c; c = c->hnext) {
        VFS_DEBUG_COUNT(v, probes);
        if (c->parent == dir && name_eq(c->name, c->namelen, name, len))
            return c;
    }
    return 0;
}

/* Appends n to dir's entries (listings show them newest first, as tmpfs does). */
void node_link(struct vfs *v, struct vnode *dir, struct vnode *n)
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
    table_insert(v, n);
}

static void node_detach(struct vfs *v, struct vnode *n)
{
    struct vnode *dir = n->parent;
    table_remove(v, n);
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
    node_detach(v, n);
    n->flags |= VN_DEAD;
    n->nlink = 0;
    node_get(n->parent); /* ".." of a removed directory still leads there */
    if (n->refs == 0)
        node_destroy(v, n);
}

/* Moves n (already checked) into dir. */
void node_move(struct vfs *v, struct vnode *n, struct vnode *dir)
{
    node_detach(v, n);
    node_link(v, dir, n);
}

void node_make_root(struct vfs *v, struct vnode *n)
{
    if (n->parent && n->parent != n)
        node_detach(v, n);
    n->parent = n;
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
        table_remove(v, n);
        if (n->rt && n->rt->ops && n->rt->ops->drop)
            n->rt->ops->drop(v, n);
        if (n->flags & VN_OWN_NAME)
            vmem_free(v, (void *)n->name, n->namelen + 1);
        if (n->all_prev)
            n->all_prev->all_next = n->all_next;
        else
            v->sh->all = n->all_next;
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

#ifdef VFS_DEBUG
long vfs_debug_stats(struct vfs *v, uint64_t out[5])
{
    uint64_t longest = 0;
    for (uint32_t i = 0; i <= v->sh->hmask; i++) {
        uint64_t k = 0;
        for (struct vnode *n = v->sh->htab[i]; n; n = n->hnext)
            k++;
        if (k > longest)
            longest = k;
    }
    out[0] = v->dbg.lookups;
    out[1] = v->dbg.probes;
    out[2] = (uint64_t)v->sh->hmask + 1;
    out[3] = v->sh->hcount;
    out[4] = longest;
    return 0;
}

long vfs_debug_hash_mask(struct vfs *v, uint32_t mask)
{
    v->dbg.hash_mask = mask;
    struct vnode **t = v->sh->htab;
    uint32_t size = v->sh->hmask + 1;
    /* re-bucket in place: gather every entry, then put each back */
    struct vnode *all = 0;
    for (uint32_t i = 0; i < size; i++) {
        for (struct vnode *n = t[i], *next; n; n = next) {
            next = n->hnext;
            n->hnext = all;
            all = n;
        }
        t[i] = 0;
    }
    for (struct vnode *n = all, *next; n; n = next) {
        next = n->hnext;
        table_put(v, n);
    }
    return 0;
}
#endif
