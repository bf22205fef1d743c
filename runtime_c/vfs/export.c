/* run --export-ram: vfs_export_ram writes the RAM disks as one tar, for the Monitor to
 * extract once the program has exited (xax_emu/monitor/exportram.py, which reads it as
 * the hostile data it is).
 *
 * Each RAM route in turn: its directory (named by the route's prefix without the leading
 * '/'; none for a route at "/"), then its nodes depth first, each named by that prefix and
 * its path in the route, a directory's name ended by '/'.  Regular files (their bytes, a
 * hole's as zeros), directories and symlinks, with their permission bits and mtimes;
 * nothing else can be made on a RAM disk (there is no mknod).  In the image format's tar
 * (docs/image-format.md), which the Monitor reads it by: ustar headers, preceded by a pax
 * header ('x') where a name or a target is not ASCII or over 100 bytes, a size is over
 * 8 GiB or an mtime outside what 11 octal digits hold. */
#include "vfs_int.h"

#define BLK 512
#define PAX_ROOM (2 * VFS_PATH_MAX + 128)

struct tarw {
    struct vfs *v;
    long (*emit)(void *ctx, const void *data, size_t len);
    void *ctx;
    char path[VFS_PATH_MAX];
    char pax[PAX_ROOM];
};

static const uint8_t zeros[BLK];

/* x in octal, width - 1 digits and a NUL */
static void octal(char *field, size_t width, uint64_t x)
{
    field[width - 1] = 0;
    for (size_t i = width - 1; i-- > 0;) {
        field[i] = (char)('0' + (x & 7));
        x >>= 3;
    }
}

static size_t digits(size_t x)
{
    size_t n = 1;
    while (x >= 10) {
        x /= 10;
        n++;
    }
    return n;
}

/* One pax record, "LEN key=value\n", at out: its length. */
static size_t pax_record(char *out, const char *key, const char *value, size_t vlen)
{
    size_t klen = strlen(key), base = klen + vlen + 3, len = base + 1;
    while (digits(len) + base != len)
        len = digits(len) + base;
    size_t at = fmt_u64(out, len);
    out[at++] = ' ';
    memcpy(out + at, key, klen);
    at += klen;
    out[at++] = '=';
    memcpy(out + at, value, vlen);
    at += vlen;
    out[at++] = '\n';
    return at;
}

static size_t pax_number(char *out, const char *key, int64_t x)
{
    char num[24];
    size_t n = 0;
    if (x < 0)
        num[n++] = '-';
    n += fmt_u64(num + n, x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x);
    return pax_record(out, key, num, n);
}

/* bytes, then zeros up to the next block */
static long emit_padded(struct tarw *t, const void *data, uint64_t len)
{
    long r = len ? t->emit(t->ctx, data, (size_t)len) : 0;
    if (r >= 0 && len % BLK)
        r = t->emit(t->ctx, zeros, BLK - len % BLK);
    return r < 0 ? r : 0;
}

static long emit_header(struct tarw *t, const char *name, size_t nlen, char type, uint32_t mode, uint64_t size,
                        int64_t mtime, const char *link, size_t llen)
{
    uint8_t h[BLK];
    memset(h, 0, sizeof h);
    memcpy(h, name, nlen < 100 ? nlen : 100);
    octal((char *)h + 100, 8, mode & VFS_PERM_MASK);
    octal((char *)h + 108, 8, 0);
    octal((char *)h + 116, 8, 0);
    octal((char *)h + 124, 12, size < (1ULL << 33) ? size : 0);
    octal((char *)h + 136, 12, mtime >= 0 && mtime < (1LL << 33) ? (uint64_t)mtime : 0);
    h[156] = (uint8_t)type;
    memcpy(h + 157, link, llen < 100 ? llen : 100);
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    uint32_t sum = 0;
    for (size_t i = 0; i < BLK; i++)
        sum += h[i];
    octal((char *)h + 148, 7, sum);
    long r = t->emit(t->ctx, h, BLK);
    return r < 0 ? r : 0;
}

/* fits a ustar name field: at most 100 bytes, each ASCII and not NUL */
static int ustar_text(const char *s, size_t len)
{
    if (len > 100)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] == 0 || (unsigned char)s[i] > 127)
            return 0;
    return 1;
}

/* A member's headers: a pax header first when a field does not fit its ustar place. */
static long headers(struct tarw *t, size_t nlen, char type, uint32_t mode, uint64_t size, int64_t mtime,
                    const char *link, size_t llen)
{
    size_t plen = 0;
    if (!ustar_text(t->path, nlen))
        plen += pax_record(t->pax + plen, "path", t->path, nlen);
    if (!ustar_text(link, llen))
        plen += pax_record(t->pax + plen, "linkpath", link, llen);
    if (size >= (1ULL << 33))
        plen += pax_number(t->pax + plen, "size", (int64_t)size);
    if (mtime < 0 || mtime >= (1LL << 33))
        plen += pax_number(t->pax + plen, "mtime", mtime);
    if (plen) {
        long r = emit_header(t, "././@PaxHeader", 14, 'x', 0644, plen, 0, "", 0);
        if (r < 0 || (r = emit_padded(t, t->pax, plen)) < 0)
            return r;
    }
    return emit_header(t, t->path, nlen, type, mode, size, mtime, link, llen);
}

/* a regular file's bytes: what it holds, then its hole's zeros */
static long file_data(struct tarw *t, const struct vnode *n)
{
    uint64_t held = n->used < n->size ? n->used : n->size;
    long r = held ? t->emit(t->ctx, n->buf, (size_t)held) : 0;
    for (uint64_t left = n->size - held; r >= 0 && left;) {
        size_t k = left < BLK ? (size_t)left : BLK;
        r = t->emit(t->ctx, zeros, k);
        left -= k;
    }
    if (r >= 0 && n->size % BLK)
        r = t->emit(t->ctx, zeros, BLK - n->size % BLK);
    return r < 0 ? r : 0;
}

/* n's name in the tar, into t->path: the route's prefix, then its path in the route, and a
 * '/' after a directory's (0 for the root of a route at "/": it has no member) */
static long member_name(struct tarw *t, const struct route *rt, const struct vnode *n)
{
    size_t plen = rt->prefixlen - 1, len = plen;
    memcpy(t->path, rt->prefix + 1, plen);
    if (n != rt->root) {
        if (plen)
            t->path[len++] = '/';
        long r = vfs_rel_path(n, t->path + len, VFS_PATH_MAX - len - 1);
        if (r < 0)
            return r == -ENAMETOOLONG ? r : -EIO;
        len += (size_t)r;
    }
    if (len && VFS_ISDIR(n->mode)) {
        if (len + 1 >= VFS_PATH_MAX)
            return -ENAMETOOLONG;
        t->path[len++] = '/';
    }
    return (long)len;
}

static long member(struct tarw *t, const struct route *rt, const struct vnode *n)
{
    long len = member_name(t, rt, n);
    if (len <= 0)
        return len; /* (0: the root of a route at "/") */
    size_t nlen = (size_t)len;
    if (VFS_ISREG(n->mode)) {
        long r = headers(t, nlen, '0', n->mode, n->size, n->mtime.sec, "", 0);
        return r < 0 ? r : file_data(t, n);
    }
    if (VFS_ISDIR(n->mode))
        return headers(t, nlen, '5', n->mode, 0, n->mtime.sec, "", 0);
    if (VFS_ISLNK(n->mode))
        return headers(t, nlen, '2', n->mode, 0, n->mtime.sec, (const char *)n->data, n->data ? n->size : 0);
    return 0; /* (nothing else can be made on a RAM disk) */
}

/* The route's directory, then every node under it, depth first. */
static long export_route(struct tarw *t, const struct route *rt)
{
    const struct vnode *n = rt->root;
    for (;;) {
        long r = member(t, rt, n);
        if (r < 0)
            return r;
        if (VFS_ISDIR(n->mode) && n->first) {
            n = n->first;
            continue;
        }
        while (n != rt->root && !n->next)
            n = n->parent;
        if (n == rt->root)
            return 0;
        n = n->next;
    }
}

long vfs_export_ram(struct vfs *v, long (*emit)(void *ctx, const void *data, size_t len), void *ctx)
{
    if (!v || !emit)
        return -EINVAL;
    struct tarw *t = vmem_alloc(v, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->v = v;
    t->emit = emit;
    t->ctx = ctx;
    long r = 0;
    for (const struct route *rt = v->routes; rt && r >= 0; rt = rt->next)
        if (rt->ops == &vfs_ram_backend)
            r = export_route(t, rt);
    if (r >= 0)
        r = emit(ctx, zeros, BLK); /* the end of the archive: two zero blocks */
    if (r >= 0)
        r = emit(ctx, zeros, BLK);
    vmem_free(v, t, sizeof *t);
    return r < 0 ? r : 0;
}
