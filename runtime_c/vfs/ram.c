/* The RAM disk backend: file data in vfs memory, read, write, truncate, create
 * and drop (free a dead node's data).
 *
 * A file holds bytes [0, used) in a buffer; bytes between used and its size
 * (after an ftruncate that grows it) read as zeros and cost nothing, as holes do
 * on tmpfs.  The route's cap bounds the sum of the files' used bytes: a write
 * that would pass it writes what fits (a short write) or fails with ENOSPC, as
 * tmpfs does when full.  The number of nodes is bounded too (ENOSPC). */
#include "vfs_int.h"

#define RAM_MAX_NODES 1000000

static long ram_read(struct vfs *v, struct vnode *n, void *buf, size_t len, uint64_t off)
{
    if (off >= n->size)
        return 0;
    if (len > n->size - off)
        len = (size_t)(n->size - off);
    size_t from_buf = 0, left = 0;
    if (off < n->used) {
        from_buf = n->used - (size_t)off;
        if (from_buf > len)
            from_buf = len;
        left = vfs_copy_out(v, buf, n->buf + off, from_buf);
    }
    if (!left && len > from_buf) /* past the bytes written: a hole, zeros */
        left = vfs_zero_out(v, (char *)buf + from_buf, len - from_buf);
    else if (left)
        left += len - from_buf;
    return vfs_moved(len, left);
}

/* room for end bytes; the route's budget is checked by the caller */
static long ram_reserve(struct vfs *v, struct vnode *n, size_t end, size_t spare)
{
    if (end <= n->cap)
        return 0;
    size_t cap = n->cap ? n->cap : 64;
    while (cap < end && cap < ((size_t)1 << 62))
        cap *= 2;
    if (cap > end + spare)
        cap = end + spare; /* never much past what the cap allows */
    if (cap < end)
        cap = end;
    cap = (cap + 63) & ~(size_t)63;
    uint8_t *nb = vmem_alloc(v, cap);
    if (!nb)
        return -ENOSPC;
    if (n->used)
        memcpy(nb, n->buf, n->used);
    if (n->buf)
        vmem_free(v, n->buf, n->cap);
    n->buf = nb;
    n->cap = cap;
    return 0;
}

static long ram_write(struct vfs *v, struct vnode *n, const void *buf, size_t len, uint64_t off)
{
    struct route *rt = n->rt;
    if (len == 0)
        return 0;
    if (off >= (uint64_t)VFS_MAX_FILESIZE)
        return -EFBIG;
    if (len > (uint64_t)VFS_MAX_FILESIZE - off)
        len = (size_t)((uint64_t)VFS_MAX_FILESIZE - off);
    uint64_t end = off + len;
    if (end > n->used) {
        uint64_t need = end - n->used;
        uint64_t room = rt->cap - rt->used;
        if (need > room) {
            uint64_t allowed_end = n->used + room;
            if (allowed_end <= off)
                return -ENOSPC;
            end = allowed_end;
            len = (size_t)(end - off);
            need = room;
        }
        long r = ram_reserve(v, n, (size_t)end, (size_t)(room - need));
        if (r < 0)
            return r;
        if (off > n->used) /* the hole before it: zeros (past `used`, unseen until it grows) */
            memset(n->buf + n->used, 0, (size_t)(off - n->used));
    }
    /* The caller's bytes first; the file grows by what arrived (a bad buffer: by nothing). */
    size_t left = vfs_copy_in(v, n->buf + off, buf, len);
    if (left == len)
        return -EFAULT;
    len -= left;
    end = off + len;
    if (end > n->used) {
        rt->used += end - n->used;
        n->used = (size_t)end;
    }
    if (end > n->size)
        n->size = end;
    vfs_now(v, &n->mtime);
    n->ctime = n->mtime;
    return (long)len;
}

static long ram_truncate(struct vfs *v, struct vnode *n, uint64_t len)
{
    if (len < n->used) {
        n->rt->used -= n->used - (size_t)len;
        n->used = (size_t)len;
        if (len == 0 && n->buf) {
            vmem_free(v, n->buf, n->cap);
            n->buf = 0;
            n->cap = 0;
        }
    }
    n->size = len;
    vfs_now(v, &n->mtime);
    n->ctime = n->mtime;
    return 0;
}

/* blocks: what the file holds, not its size (a file grown by ftruncate is a hole) */
static void ram_stat(struct vfs *v, const struct vnode *n, struct vfs_stat *st)
{
    (void)v;
    if (VFS_ISREG(n->mode))
        st->st_blocks = (int64_t)(((n->used + 4095) / 4096) * 8);
}

static long ram_create(struct vfs *v, struct route *rt, uint32_t mode, struct vnode **out)
{
    if (rt->nodes >= RAM_MAX_NODES)
        return -ENOSPC;
    struct vnode *n = node_new(v, rt, mode);
    if (!n)
        return -ENOSPC;
    rt->nodes++;
    *out = n;
    return 0;
}

static void ram_drop(struct vfs *v, struct vnode *n)
{
    if (n->buf)
        vmem_free(v, n->buf, n->cap);
    n->rt->used -= n->used;
    n->buf = 0;
    n->used = n->cap = 0;
    if (n->rt->nodes)
        n->rt->nodes--;
}

static long ram_chmod(struct vfs *v, struct vnode *n, uint32_t mode)
{
    n->mode = (n->mode & S_IFMT) | mode;
    vfs_now(v, &n->ctime);
    return 0;
}

const struct vfs_backend vfs_ram_backend = {
    .chmod = ram_chmod,
    .stat = ram_stat,
    .read = ram_read,
    .write = ram_write,
    .truncate = ram_truncate,
    .fsync = vfs_fsync_noop,
    .create = ram_create,
    .drop = ram_drop,
};

long vfs_mount_ram(struct vfs *v, const char *prefix, size_t cap)
{
    if (!v)
        return -EINVAL;
    struct route *rt;
    long r = route_new(v, prefix, &vfs_ram_backend, 01777, &rt);
    if (r < 0)
        return r;
    rt->cap = cap;
    return route_attach(v, rt);
}
