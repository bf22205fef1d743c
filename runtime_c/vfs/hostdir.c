/* Host directories the user granted (run --mount HOST:GUEST[:ro|rw], docs/mounts.md):
 * vfs_mount_hostdir and its two tables, read-only and read-write.
 *
 * Every file is the Monitor's: the picoprocess never holds a host fd.  What the vfs
 * learns of a name (lstat: type, permission bits, link count, size, blocks, times, a
 * symlink's target) it asks through env->monitor (MOUNT_STAT for one name; MOUNT_LIST
 * for a whole directory when it is first listed) and keeps as a node, as origin.c keeps
 * what it downloads.  Data is never kept: each read and write is a MOUNT_READ or
 * MOUNT_WRITE of at most one message's payload, at the file's path.  A rw mount's changes
 * (open O_CREAT, mkdir, unlink, rmdir, rename, ftruncate) are made by the Monitor first,
 * through the table's make, remove, rename and truncate, and only then in the nodes.
 *
 * The nodes are a cache of what this picoprocess saw and did: data always comes from the
 * host (a file the host changes meanwhile reads as it is now), names already seen stay
 * as they were seen.  Symlinks are followed by the walker inside the route (path.c: an
 * absolute target starts at the mount's root, ".." stops there), never by the Monitor.
 * Files are owned by the virtual user, as everywhere; sizes, link counts, blocks and
 * times are the host's (a directory's size too).  A file removed while it is open cannot
 * be read or written any more (its data is at its path). */
#include "vfs_int.h"

#include "../include/xax_protocol.h"

#define HD_LISTED 1             /* synth of a directory: every entry it had is a node */
#define HD_MAX_NODES 1000000    /* nodes one mount may hold (-ENOMEM past them) */
#define HD_PATH_ROOM (XAX_MOUNT_PATH_MAX + 1)

/* -- requests ------------------------------------------------------------------ */

/* The Monitor's answer to the request built in rt->iobuf (len bytes): its arg, and its
 * payload in rt->iobuf (*got bytes). */
static long ask(struct vfs *v, struct route *rt, uint16_t type, int32_t arg, uint32_t len, uint32_t *got)
{
    *got = 0;
    if (!v->env.monitor)
        return -EIO;
    long r = v->env.monitor(v->env.ctx, type, rt->mount, arg, rt->iobuf, len, rt->iobuf, XAX_MAX_PAYLOAD, got);
    if (*got > XAX_MAX_PAYLOAD || r < -4095)
        return -EIO;
    return r;
}

/* dir's path in the mount, then "/name" when name is given, into p (HD_PATH_ROOM bytes):
 * its length, or -ENAMETOOLONG / -ENOENT (a removed directory). */
static long rel_path(const struct vnode *dir, const char *name, size_t len, char *p)
{
    long dl = vfs_rel_path(dir, p, HD_PATH_ROOM);
    if (dl < 0)
        return dl;
    size_t n = (size_t)dl;
    if (name) {
        if (n + 1 + len > XAX_MOUNT_PATH_MAX)
            return -ENAMETOOLONG;
        if (n)
            p[n++] = '/';
        memcpy(p + n, name, len);
        n += len;
    }
    return (long)n;
}

static void ts(struct vfs_ts *t, int64_t sec, uint32_t nsec)
{
    t->sec = sec;
    t->nsec = nsec < 1000000000u ? nsec : 0;
}

/* What the host said of a file, on its node (a directory's size is the host's too). */
static void fill(struct vnode *n, const struct xax_mount_stat *st)
{
    uint32_t type = st->mode & S_IFMT;
    n->mode = (type ? type : S_IFREG) | (st->mode & VFS_PERM_MASK);
    n->nlink = st->nlink ? st->nlink : 1;
    n->size = st->size;
    n->data_off = st->blocks;
    ts(&n->atime, st->atime, st->atime_nsec);
    ts(&n->mtime, st->mtime, st->mtime_nsec);
    ts(&n->ctime, st->ctime, st->ctime_nsec);
}

/* A file or directory this picoprocess changed: its size, blocks and times as the host
 * has them now (its type, mode and links are the vfs's to keep). */
static void refresh(struct vnode *n, const struct xax_mount_stat *st)
{
    n->size = st->size;
    n->data_off = st->blocks;
    ts(&n->atime, st->atime, st->atime_nsec);
    ts(&n->mtime, st->mtime, st->mtime_nsec);
    ts(&n->ctime, st->ctime, st->ctime_nsec);
}

/* The stats a change's reply carries (count of them, in rt->iobuf): 0, or -EIO if short. */
static long stats_of(const struct route *rt, uint32_t got, struct xax_mount_stat *st, unsigned count)
{
    if (got < count * sizeof *st)
        return -EIO;
    memcpy(st, rt->iobuf, count * sizeof *st);
    return 0;
}

static long new_node(struct vfs *v, struct route *rt, uint32_t mode, struct vnode **out)
{
    if (rt->nodes >= HD_MAX_NODES)
        return -ENOMEM;
    struct vnode *n = node_new(v, rt, mode);
    if (!n)
        return -ENOMEM;
    rt->nodes++;
    *out = n;
    return 0;
}

/* A name of a listing: non-empty, no '/', no NUL, not "." or "..", at most NAME_MAX */
static int good_name(const char *name, size_t len)
{
    if (len == 0 || len > VFS_NAME_MAX || (len == 1 && name[0] == '.') ||
        (len == 2 && name[0] == '.' && name[1] == '.'))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '/' || name[i] == 0)
            return 0;
    return 1;
}

/* dir's entry `name` as the host described it (st; a symlink's target), made a node. */
static long add(struct vfs *v, struct vnode *dir, const char *name, size_t len, const struct xax_mount_stat *st,
                const uint8_t *link, size_t linklen, struct vnode **out)
{
    struct vnode *n;
    long r = new_node(v, dir->rt, S_IFREG, &n);
    if (r < 0)
        return r;
    fill(n, st);
    if (VFS_ISLNK(n->mode)) {
        char *target = vmem_alloc(v, linklen + 1);
        if (!target) {
            node_destroy(v, n);
            return -ENOMEM;
        }
        memcpy(target, link, linklen);
        target[linklen] = 0;
        n->data = (const uint8_t *)target;
        n->size = linklen;
        n->flags |= VN_OWN_DATA;
    }
    r = node_set_name(v, n, name, len, 1);
    if (r < 0) {
        node_destroy(v, n);
        return r;
    }
    uint32_t nlink = dir->nlink;
    node_link(v, dir, n);
    dir->nlink = nlink; /* the host's count has its subdirectories already */
    *out = n;
    return 0;
}

/* -- names ------------------------------------------------------------------------ */

/* A name not seen yet is asked for, unless the directory has been listed whole. */
static long hd_lookup(struct vfs *v, struct vnode *dir, const char *name, size_t len, struct vnode **out,
                      int *final)
{
    (void)final;
    *out = node_child(v, dir, name, len);
    if (*out)
        return 0;
    if ((dir->synth & HD_LISTED) || (dir->flags & VN_DEAD))
        return -ENOENT;
    struct route *rt = dir->rt;
    long pl = rel_path(dir, name, len, (char *)rt->iobuf);
    if (pl < 0)
        return pl;
    uint32_t got;
    long r = ask(v, rt, XAX_MSG_MOUNT_STAT, 0, (uint32_t)pl, &got);
    if (r < 0)
        return r;
    struct xax_mount_stat st;
    if (r != 0 || got < sizeof st || got - sizeof st > XAX_MOUNT_PATH_MAX)
        return -EIO;
    memcpy(&st, rt->iobuf, sizeof st);
    return add(v, dir, name, len, &st, rt->iobuf + sizeof st, got - sizeof st, out);
}

/* The records of one MOUNT_LIST reply (got bytes in rt->iobuf), made nodes where new. */
static long take_entries(struct vfs *v, struct vnode *dir, uint32_t got, uint32_t *next)
{
    const uint8_t *buf = dir->rt->iobuf;
    struct xax_mount_list head;
    if (got < sizeof head)
        return -EIO;
    memcpy(&head, buf, sizeof head);
    size_t at = sizeof head;
    for (uint32_t i = 0; i < head.count; i++) {
        struct xax_mount_entry e;
        struct xax_mount_stat st;
        if (got - at < sizeof e + sizeof st)
            return -EIO;
        memcpy(&e, buf + at, sizeof e);
        memcpy(&st, buf + at + sizeof e, sizeof st);
        size_t rec = (sizeof e + sizeof st + e.namelen + e.linklen + 7) & ~(size_t)7;
        if (rec > got - at)
            return -EIO;
        const char *name = (const char *)buf + at + sizeof e + sizeof st;
        if (!good_name(name, e.namelen) || e.linklen > XAX_MOUNT_PATH_MAX)
            return -EIO;
        struct vnode *n;
        if (!node_child(v, dir, name, e.namelen)) {
            long r = add(v, dir, name, e.namelen, &st, (const uint8_t *)name + e.namelen, e.linklen, &n);
            if (r < 0)
                return r;
        }
        at += rec;
    }
    *next = head.next;
    return 0;
}

/* Every entry of dir, asked for a reply's worth at a time. */
static long list(struct vfs *v, struct vnode *dir)
{
    struct route *rt = dir->rt;
    uint32_t from = 0, next;
    do {
        long pl = rel_path(dir, 0, 0, (char *)rt->iobuf);
        if (pl < 0)
            return pl;
        uint32_t got;
        long r = ask(v, rt, XAX_MSG_MOUNT_LIST, (int32_t)from, (uint32_t)pl, &got);
        if (r < 0)
            return r;
        if (r != 0 || (r = take_entries(v, dir, got, &next)) < 0)
            return r ? r : -EIO;
        if (next && (next <= from || next > 0x7fffffffu))
            return -EIO; /* a listing that does not move on */
        from = next;
    } while (from);
    dir->synth |= HD_LISTED;
    return 0;
}

static long hd_readdir(struct vfs *v, struct vnode *dir, struct dirlist *d, uint64_t *pos)
{
    if (!(dir->synth & HD_LISTED) && !(dir->flags & VN_DEAD)) {
        long r = list(v, dir);
        if (r < 0)
            return r;
    }
    return dir_list(v, dir, d, pos);
}

/* -- data ---------------------------------------------------------------------------- */

/* The request's header and n's path in rt->iobuf: its length (the header's included). */
static long io_request(struct vnode *n, uint64_t off, uint32_t len)
{
    uint8_t *buf = n->rt->iobuf;
    long pl = rel_path(n, 0, 0, (char *)buf + sizeof(struct xax_mount_io));
    if (pl < 0)
        return pl;
    struct xax_mount_io io = {off, len, (uint32_t)pl};
    memcpy(buf, &io, sizeof io);
    return (long)sizeof io + pl;
}

static long hd_read(struct vfs *v, struct vnode *n, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        uint32_t want = len - done < XAX_MAX_PAYLOAD ? (uint32_t)(len - done) : XAX_MAX_PAYLOAD;
        long rl = io_request(n, off + done, want), r = rl;
        uint32_t got = 0;
        if (rl >= 0)
            r = ask(v, n->rt, XAX_MSG_MOUNT_READ, 0, (uint32_t)rl, &got);
        if (r >= 0 && (r != (long)got || r > (long)want))
            r = -EIO;
        if (r < 0)
            return done ? (long)done : r;
        size_t left = vfs_copy_out(v, (char *)buf + done, n->rt->iobuf, (size_t)r); /* the caller's buffer */
        if (left && left == (size_t)r && done == 0)
            return -EFAULT;
        done += (size_t)r - left;
        if (left || (uint32_t)r < want)
            break;
    }
    if (off + done > n->size)
        n->size = off + done; /* the host's file grew */
    return (long)done;
}

static long hd_write(struct vfs *v, struct vnode *n, const void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    long r = 0;
    while (done < len) {
        long rl = io_request(n, off + done, 0);
        if (rl < 0) {
            r = rl;
            break;
        }
        size_t room = XAX_MAX_PAYLOAD - (size_t)rl, chunk = len - done < room ? len - done : room;
        /* the caller's bytes first: what cannot be read is not written (the file grows by what arrived) */
        size_t left = vfs_copy_in(v, n->rt->iobuf + rl, (const char *)buf + done, chunk);
        if (left == chunk) {
            r = -EFAULT;
            break;
        }
        chunk -= left;
        struct xax_mount_io io;
        memcpy(&io, n->rt->iobuf, sizeof io);
        io.len = (uint32_t)chunk;
        memcpy(n->rt->iobuf, &io, sizeof io);
        uint32_t got;
        struct xax_mount_stat st;
        r = ask(v, n->rt, XAX_MSG_MOUNT_WRITE, 0, (uint32_t)(rl + (long)chunk), &got);
        if (r >= 0 && ((size_t)r > chunk || stats_of(n->rt, got, &st, 1) < 0))
            r = -EIO;
        if (r <= 0)
            break;
        refresh(n, &st);
        done += (size_t)r;
        if ((size_t)r < chunk || left)
            break;
    }
    return done ? (long)done : r;
}

static long hd_truncate(struct vfs *v, struct vnode *n, uint64_t len)
{
    long rl = io_request(n, len, 0);
    uint32_t got;
    struct xax_mount_stat st;
    long r = rl < 0 ? rl : ask(v, n->rt, XAX_MSG_MOUNT_TRUNCATE, 0, (uint32_t)rl, &got);
    if (r < 0 || (r = stats_of(n->rt, got, &st, 1)) < 0)
        return r;
    refresh(n, &st);
    return 0;
}

/* blocks and a directory's size as the host has them */
static void hd_stat(struct vfs *v, const struct vnode *n, struct vfs_stat *st)
{
    (void)v;
    if (VFS_ISDIR(n->mode))
        st->st_size = (int64_t)n->size;
    st->st_blocks = (int64_t)n->data_off;
}

/* -- changes (rw mounts): the host's first ------------------------------------------------- */

static long hd_create(struct vfs *v, struct route *rt, uint32_t mode, struct vnode **out)
{
    return new_node(v, rt, mode, out);
}

static long hd_make(struct vfs *v, struct vnode *dir, const char *name, size_t len, struct vnode *n)
{
    struct route *rt = dir->rt;
    long pl = rel_path(dir, name, len, (char *)rt->iobuf);
    if (pl < 0)
        return pl;
    uint32_t got;
    uint16_t type = VFS_ISDIR(n->mode) ? XAX_MSG_MOUNT_MKDIR : XAX_MSG_MOUNT_CREATE;
    long r = ask(v, rt, type, (int32_t)(n->mode & VFS_PERM_MASK), (uint32_t)pl, &got);
    struct xax_mount_stat st[2]; /* the new entry's, its directory's */
    if (r < 0 || (r = stats_of(rt, got, st, 2)) < 0)
        return r;
    if ((st[0].mode & S_IFMT) != (n->mode & S_IFMT))
        return -EIO;
    fill(n, &st[0]);
    refresh(dir, &st[1]);
    if (VFS_ISDIR(n->mode))
        n->synth |= HD_LISTED; /* new: nothing in it but what is made here */
    return 0;
}

static long hd_remove(struct vfs *v, struct vnode *dir, struct vnode *n)
{
    struct route *rt = dir->rt;
    long pl = rel_path(dir, n->name, n->namelen, (char *)rt->iobuf);
    if (pl < 0)
        return pl;
    uint32_t got;
    int what = VFS_ISDIR(n->mode) ? XAX_MOUNT_REMOVE_DIR : XAX_MOUNT_REMOVE_FILE;
    long r = ask(v, rt, XAX_MSG_MOUNT_REMOVE, what, (uint32_t)pl, &got);
    struct xax_mount_stat st;
    if (r < 0 || (r = stats_of(rt, got, &st, 1)) < 0)
        return r;
    refresh(dir, &st);
    return 0;
}

static long hd_rename(struct vfs *v, struct vnode *odir, const char *oname, size_t olen, struct vnode *ndir,
                      const char *nname, size_t nlen, uint32_t flags)
{
    struct route *rt = odir->rt;
    char *paths = (char *)rt->iobuf + sizeof(struct xax_mount_rename);
    long ol = rel_path(odir, oname, olen, paths);
    if (ol < 0)
        return ol;
    long nl = rel_path(ndir, nname, nlen, paths + ol);
    if (nl < 0)
        return nl;
    struct xax_mount_rename h = {(uint32_t)ol, (uint32_t)nl};
    memcpy(rt->iobuf, &h, sizeof h);
    uint32_t got;
    long r = ask(v, rt, XAX_MSG_MOUNT_RENAME, (int32_t)flags, (uint32_t)(sizeof h + (size_t)ol + (size_t)nl), &got);
    struct xax_mount_stat st[2]; /* the old path's directory, the new path's */
    if (r < 0 || (r = stats_of(rt, got, st, 2)) < 0)
        return r;
    refresh(odir, &st[0]);
    refresh(ndir, &st[1]);
    return 0;
}

/* -- life ------------------------------------------------------------------------------ */

static void hd_drop(struct vfs *v, struct vnode *n)
{
    if ((n->flags & VN_OWN_DATA) && n->data)
        vmem_free(v, (void *)n->data, n->size + 1);
    n->data = 0;
    if (n->rt->nodes)
        n->rt->nodes--;
}

static void hd_unmount(struct vfs *v, struct route *rt)
{
    if (rt->iobuf)
        vmem_free(v, rt->iobuf, XAX_MAX_PAYLOAD);
    rt->iobuf = 0;
}

const struct vfs_backend vfs_hostdir_ro_backend = {
    .lookup = hd_lookup,
    .stat = hd_stat,
    .read = hd_read,
    .readdir = hd_readdir,
    .fsync = vfs_fsync_noop,
    .drop = hd_drop,
    .unmount = hd_unmount,
};

/* Writes go through at once: fsync has nothing left to do. */
const struct vfs_backend vfs_hostdir_rw_backend = {
    .lookup = hd_lookup,
    .stat = hd_stat,
    .read = hd_read,
    .write = hd_write,
    .truncate = hd_truncate,
    .readdir = hd_readdir,
    .fsync = vfs_fsync_noop,
    .create = hd_create,
    .drop = hd_drop,
    .unmount = hd_unmount,
    .make = hd_make,
    .remove = hd_remove,
    .rename = hd_rename,
};

long vfs_mount_hostdir(struct vfs *v, const char *prefix, int number, int rw)
{
    if (!v || number < 0 || number >= XAX_MAX_MOUNTS)
        return -EINVAL;
    struct route *rt;
    long r = route_new(v, prefix, rw ? &vfs_hostdir_rw_backend : &vfs_hostdir_ro_backend, 0755, &rt);
    if (r < 0)
        return r;
    rt->mount = number;
    rt->iobuf = vmem_alloc(v, XAX_MAX_PAYLOAD);
    uint32_t got = 0;
    r = rt->iobuf ? ask(v, rt, XAX_MSG_MOUNT_STAT, 0, 0, &got) : -ENOMEM;
    struct xax_mount_stat st;
    if (r >= 0 && got < sizeof st)
        r = -EIO;
    if (r >= 0) {
        memcpy(&st, rt->iobuf, sizeof st);
        r = (st.mode & S_IFMT) == S_IFDIR ? 0 : -ENOTDIR;
    }
    if (r < 0) {
        route_discard(v, rt);
        return r;
    }
    fill(rt->root, &st);
    return route_attach(v, rt);
}
