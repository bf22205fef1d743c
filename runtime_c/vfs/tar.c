/* The tar backend: tar_index (the index, built once when the route is mounted)
 * and the read-only file operations on the image in memory.
 *
 * Reads ustar headers (with the POSIX prefix field), GNU long names and long
 * link names ('L', 'K'), pax extended headers ('x': path, linkpath, size, mtime;
 * 'g' is checked and ignored), GNU base-256 numbers.  Members: regular files
 * ('0', '\0', '7'), hard links ('1', to an earlier regular file), symlinks ('2',
 * the target kept as data), devices and FIFOs ('3', '4', '6'), directories ('5');
 * directories a member needs but the image lacks are made (0755).
 *
 * The image is data, never trusted: -EINVAL for a bad checksum, a malformed
 * number or pax record, an absolute name, a ".." component, an empty name, a
 * component over NAME_MAX, a name containing NUL, a size running past the end,
 * a long name or pax header over 64 KiB, a name colliding with another member,
 * a file used as a directory, a hard link to a missing or non-regular member,
 * an empty or oversized symlink target, data attached to a non-regular member,
 * sparse, multi-volume or unknown member types.  Nothing is copied: names, link
 * targets and file data point into the image. */
#include "vfs_int.h"

#define TAR_BLOCK 512
#define TAR_META_MAX 65536

struct seg {
    const char *p;
    size_t len;
};

/* a numeric header field: octal (spaces/NULs around it) or GNU base-256 */
static int parse_num(const uint8_t *f, size_t n, int allow_negative, int64_t *out)
{
    if (f[0] & 0x80) {
        if (f[0] != 0x80 && !(allow_negative && f[0] == 0xff))
            return -EINVAL;
        int neg = f[0] == 0xff;
        uint64_t v = 0;
        for (size_t i = 1; i < n; i++) {
            if (!neg && (v >> 55))
                return -EINVAL;
            v = (v << 8) | f[i];
        }
        if (neg) {
            /* two's complement over n-1 bytes (n <= 12): must be a small negative */
            if (n - 1 < 8) {
                uint64_t ext = ~(uint64_t)0 << ((n - 1) * 8);
                v |= ext;
            }
            int64_t s = (int64_t)v;
            if (s >= 0)
                return -EINVAL;
            *out = s;
            return 0;
        }
        if (v > (uint64_t)VFS_MAX_FILESIZE)
            return -EINVAL;
        *out = (int64_t)v;
        return 0;
    }
    size_t i = 0;
    while (i < n && (f[i] == ' ' || f[i] == 0))
        i++;
    uint64_t v = 0;
    int digits = 0;
    while (i < n && f[i] >= '0' && f[i] <= '7') {
        if (v >> 60)
            return -EINVAL;
        v = v * 8 + (f[i] - '0');
        i++;
        digits++;
    }
    while (i < n && (f[i] == ' ' || f[i] == 0))
        i++;
    if (i != n)
        return -EINVAL;
    (void)digits;
    *out = (int64_t)v;
    return 0;
}

/* the four 16-bit lanes of x, added */
static uint64_t lanes16(uint64_t x)
{
    return (x & 0xffff) + ((x >> 16) & 0xffff) + ((x >> 32) & 0xffff) + (x >> 48);
}

/* The header's bytes added with the checksum field taken as spaces: unsigned (POSIX) or
 * signed (some old tars).  Eight bytes a step, as lanes of a word: byte by byte, this sum
 * was most of the cost of indexing an image. */
static int checksum_ok(const uint8_t *h)
{
    int64_t want;
    if (parse_num(h + 148, 8, 0, &want) < 0)
        return 0;
    const uint64_t lo = 0x00ff00ff00ff00ffULL;
    uint64_t bytes = 0, high = 0; /* 16-bit lanes: 64 steps of at most 510 and 2 */
    for (int i = 0; i < TAR_BLOCK; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, h + i, 8); /* one load: -ffreestanding calls memcpy otherwise */
        bytes += (w & lo) + ((w >> 8) & lo);
        uint64_t top = (w >> 7) & 0x0101010101010101ULL; /* 1 in each byte >= 0x80 */
        high += (top & lo) + ((top >> 8) & lo);
    }
    uint64_t u = lanes16(bytes), nhigh = lanes16(high);
    for (int i = 148; i < 156; i++) { /* the field counts as eight spaces */
        u -= h[i];
        nhigh -= h[i] >> 7;
    }
    u += 8 * ' ';
    int64_t s = (int64_t)u - 256 * (int64_t)nhigh; /* each byte >= 0x80 is 256 less signed */
    return (int64_t)u == want || s == want;
}

static size_t field_len(const uint8_t *f, size_t n)
{
    size_t i = 0;
    while (i < n && f[i])
        i++;
    return i;
}

/* decimal, for pax values */
static int parse_dec(const char *p, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 19)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -EINVAL;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

struct pax {
    struct seg path, linkpath;
    int has_size, has_mtime;
    uint64_t size;
    int64_t mtime;
    uint32_t mtime_nsec;
};

static int pax_mtime(const char *p, size_t n, int64_t *sec, uint32_t *nsec)
{
    int neg = 0;
    if (n && p[0] == '-') {
        neg = 1;
        p++;
        n--;
    }
    size_t dot = 0;
    while (dot < n && p[dot] != '.')
        dot++;
    uint64_t s;
    if (parse_dec(p, dot, (uint64_t)1 << 62, &s) < 0)
        return -EINVAL;
    uint32_t ns = 0;
    if (dot < n) {
        size_t k = dot + 1;
        if (k == n)
            return -EINVAL;
        uint32_t scale = 100000000;
        for (; k < n; k++) {
            if (p[k] < '0' || p[k] > '9')
                return -EINVAL;
            ns += (uint32_t)(p[k] - '0') * scale;
            scale /= 10;
        }
    }
    if (neg) {
        /* -1.25 is 1.25 s before the epoch: sec -2, nsec .75 */
        *sec = -(int64_t)s;
        if (ns) {
            *sec -= 1;
            ns = 1000000000u - ns;
        }
    } else {
        *sec = (int64_t)s;
    }
    *nsec = ns;
    return 0;
}

static int pax_parse(const char *d, size_t n, struct pax *px, int global)
{
    size_t off = 0;
    while (off < n) {
        /* "LEN KEY=VALUE\n", LEN counting the whole record */
        size_t i = off, len = 0;
        while (i < n && d[i] >= '0' && d[i] <= '9') {
            len = len * 10 + (size_t)(d[i] - '0');
            if (len > n)
                return -EINVAL;
            i++;
        }
        if (i == off || i >= n || d[i] != ' ' || len < 5 || len > n - off)
            return -EINVAL;
        size_t end = off + len; /* one past the '\n' */
        if (d[end - 1] != '\n')
            return -EINVAL;
        size_t k = i + 1, eq = k;
        while (eq < end - 1 && d[eq] != '=')
            eq++;
        if (eq == k || eq >= end - 1 + 1 || d[eq] != '=')
            return -EINVAL;
        const char *key = d + k, *val = d + eq + 1;
        size_t klen = eq - k, vlen = end - 1 - (eq + 1);
        if (klen >= 10 && memcmp(key, "GNU.sparse", 10) == 0)
            return -EINVAL;
        if (!global) {
            if (name_eq(key, klen, "path", 4)) {
                px->path.p = val;
                px->path.len = vlen;
                if (vlen == 0)
                    return -EINVAL;
            } else if (name_eq(key, klen, "linkpath", 8)) {
                px->linkpath.p = val;
                px->linkpath.len = vlen;
                if (vlen == 0)
                    return -EINVAL;
            } else if (name_eq(key, klen, "size", 4)) {
                if (parse_dec(val, vlen, (uint64_t)VFS_MAX_FILESIZE, &px->size) < 0)
                    return -EINVAL;
                px->has_size = 1;
            } else if (name_eq(key, klen, "mtime", 5)) {
                if (pax_mtime(val, vlen, &px->mtime, &px->mtime_nsec) < 0)
                    return -EINVAL;
                px->has_mtime = 1;
            }
        }
        off = end;
    }
    return 0;
}

/* Components of a path given as one or two segments ("prefix" "/" "name"). */
struct comps {
    struct seg s[2];
    int nseg, cur;
    size_t pos;
};

/* next component: 1, 0 at the end, -EINVAL for "..", NUL, or an oversized component */
static int comp_next(struct comps *c, struct seg *out)
{
    while (c->cur < c->nseg) {
        const struct seg *s = &c->s[c->cur];
        while (c->pos < s->len && s->p[c->pos] == '/')
            c->pos++;
        if (c->pos == s->len) {
            c->cur++;
            c->pos = 0;
            continue;
        }
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
    return 0;
}

static int comps_init(struct comps *c, struct seg a, struct seg b)
{
    memset(c, 0, sizeof *c);
    if (a.len)
        c->s[c->nseg++] = a;
    if (b.len)
        c->s[c->nseg++] = b;
    if (c->nseg == 0 || c->s[0].p[0] == '/')
        return -EINVAL; /* empty or absolute */
    if (a.len + 1 + b.len >= VFS_PATH_MAX)
        return -EINVAL;
    for (int i = 0; i < c->nseg; i++)
        for (size_t k = 0; k < c->s[i].len; k++)
            if (c->s[i].p[k] == 0)
                return -EINVAL;
    return 0;
}

/* the node a normalized path names, without following symlinks */
static struct vnode *find_path(struct vfs *v, struct vnode *root, struct seg a, struct seg b, int *err)
{
    struct comps c;
    *err = comps_init(&c, a, b);
    if (*err < 0)
        return 0;
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

struct member {
    struct seg name[2];
    struct seg link;
    int type;
    uint32_t mode;
    uint64_t size;
    uint64_t data_off;
    int64_t mtime;
    uint32_t mtime_nsec;
};

/* An implicit directory (made for a member that needed it, or the image's root) becomes
 * the member that names it: its mode and time are the member's. */
static void claim_dir(struct vnode *dir, const struct member *m)
{
    dir->flags &= ~VN_IMPLICIT;
    dir->mode = S_IFDIR | (m->mode & VFS_PERM_MASK);
    dir->mtime.sec = m->mtime;
    dir->mtime.nsec = m->mtime_nsec;
    dir->atime = dir->ctime = dir->mtime;
}

/* The directory a member goes in, the ones it needs made (implicit, 0755, time 0), and its
 * last component in *last: 0, or -EINVAL (a file used as a directory, a bad name) / -ENOMEM. */
static long member_dir(struct vfs *v, struct route *rt, struct comps *c, struct seg first, struct vnode **out,
                       struct seg *last)
{
    struct vnode *dir = rt->root;
    struct seg s = first, next;
    for (;;) {
        int r = comp_next(c, &next);
        if (r < 0)
            return -EINVAL;
        if (r == 0)
            break;
        struct vnode *ch = node_child(v, dir, s.p, s.len);
        if (!ch) {
            ch = node_new_untimed(v, rt, S_IFDIR | 0755); /* time 0 */
            if (!ch)
                return -ENOMEM;
            ch->flags |= VN_IMPLICIT;
            node_set_name(v, ch, s.p, s.len, 0);
            node_link(v, dir, ch);
        } else if (!VFS_ISDIR(ch->mode)) {
            return -EINVAL; /* a file used as a directory */
        }
        dir = ch;
        s = next;
    }
    *out = dir;
    *last = s;
    return 0;
}

static uint32_t member_fmt(int type)
{
    switch (type) {
    case '5': return S_IFDIR;
    case '2': return S_IFLNK;
    case '3': return S_IFCHR;
    case '4': return S_IFBLK;
    case '6': return S_IFIFO;
    default: return S_IFREG;
    }
}

/* What the new node holds: a symlink's target, a hard link's file (its inode), a regular
 * file's bytes in the image. */
static long member_content(struct route *rt, const struct member *m, struct vnode *target, struct vnode *n)
{
    if (m->type == '2') {
        if (m->link.len == 0 || m->link.len >= VFS_PATH_MAX ||
            field_len((const uint8_t *)m->link.p, m->link.len) != m->link.len)
            return -EINVAL;
        n->data = (const uint8_t *)m->link.p;
        n->size = m->link.len;
    } else if (target) {
        n->mode = target->mode;
        n->data = target->data;
        n->data_off = target->data_off;
        n->size = target->size;
        n->ino = target->ino;
        n->mtime = target->mtime;
        n->atime = target->atime;
        n->ctime = target->ctime;
        n->nlink = ++target->nlink;
    } else if (VFS_ISREG(n->mode)) {
        n->data = rt->image + m->data_off;
        n->data_off = m->data_off;
        n->size = m->size;
    }
    return 0;
}

/* A new node for member m, named s, in dir. */
static long member_node(struct vfs *v, struct route *rt, const struct member *m, struct vnode *dir, struct seg s)
{
    uint32_t fmt = member_fmt(m->type);
    struct vnode *target = 0;
    if (m->type == '1') {
        int err;
        struct seg none = {0, 0};
        target = find_path(v, rt->root, m->link, none, &err);
        if (!target || !VFS_ISREG(target->mode))
            return -EINVAL;
    }
    uint32_t perm = fmt == S_IFLNK ? 0777 : m->mode & VFS_PERM_MASK; /* as Linux shows every symlink */
    struct vnode *n = node_new_untimed(v, rt, fmt | perm); /* its times are the member's */
    if (!n)
        return -ENOMEM;
    n->mtime.sec = m->mtime;
    n->mtime.nsec = m->mtime_nsec;
    n->atime = n->ctime = n->mtime;
    node_set_name(v, n, s.p, s.len, 0);
    if (member_content(rt, m, target, n) < 0) {
        node_destroy(v, n);
        return -EINVAL;
    }
    node_link(v, dir, n);
    return 0;
}

static long add_member(struct vfs *v, struct route *rt, const struct member *m)
{
    struct comps c;
    if (comps_init(&c, m->name[0], m->name[1]) < 0)
        return -EINVAL;
    struct seg first, s;
    int r = comp_next(&c, &first);
    if (r < 0)
        return -EINVAL;
    int isdir = m->type == '5';
    if (r == 0) {
        /* "./": the image's root */
        if (!isdir || !(rt->root->flags & VN_IMPLICIT))
            return -EINVAL;
        claim_dir(rt->root, m);
        return 0;
    }
    struct vnode *dir;
    long err = member_dir(v, rt, &c, first, &dir, &s);
    if (err < 0)
        return err;
    struct vnode *old = node_child(v, dir, s.p, s.len);
    if (old) {
        if (!(isdir && VFS_ISDIR(old->mode) && (old->flags & VN_IMPLICIT)))
            return -EINVAL; /* colliding names */
        claim_dir(old, m);
        return 0;
    }
    return member_node(v, rt, m, dir, s);
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Reading the image's headers: where the scan is and what meta members said of the next. */
struct scan {
    const uint8_t *img;
    size_t size, off;
    struct seg longname, longlink;
    struct pax px;
    int have_meta;              /* a long name or pax header waits for its member */
};

/* The next header at sc->off: 1 with *h, 0 at the end of the archive, -EINVAL. */
static int next_header(struct scan *sc, const uint8_t **h)
{
    if (sc->off >= sc->size)
        return 0;
    if (sc->size - sc->off < TAR_BLOCK)
        return all_zero(sc->img + sc->off, sc->size - sc->off) ? 0 : -EINVAL;
    *h = sc->img + sc->off;
    if (all_zero(*h, TAR_BLOCK))
        return sc->have_meta ? -EINVAL : 0; /* a long name or pax header with no member after it */
    return checksum_ok(*h) ? 1 : -EINVAL;
}

static int is_member_type(int type)
{
    return type == '0' || type == 0 || type == '7' || type == '1' || type == '2' || type == '3' || type == '4' ||
           type == '5' || type == '6';
}

/* Where the header's data lies (a pax size counts for members): -EINVAL past the end. */
static long header_extent(const struct scan *sc, const uint8_t *h, uint64_t *msize, uint64_t *data_off,
                          uint64_t *next)
{
    int64_t hsize;
    if (parse_num(h + 124, 12, 0, &hsize) < 0)
        return -EINVAL;
    *msize = is_member_type(h[156]) && sc->px.has_size ? sc->px.size : (uint64_t)hsize;
    *data_off = sc->off + TAR_BLOCK;
    if (*msize > sc->size - *data_off)
        return -EINVAL; /* past the end */
    uint64_t padded = (*msize + TAR_BLOCK - 1) & ~(uint64_t)(TAR_BLOCK - 1);
    *next = *data_off + padded;
    if (*next > sc->size)
        *next = sc->size; /* the last member's padding may be missing */
    return 0;
}

/* A header that says something of the next member ('L', 'K', 'x', 'g') or nothing ('V'):
 * 1 taken, 0 a member, -EINVAL for a bad one or an unknown type (sparse, multi-volume). */
static int take_meta(struct scan *sc, int type, const char *data, uint64_t msize)
{
    switch (type) {
    case 'L':
    case 'K': {
        if (msize > TAR_META_MAX || msize == 0)
            return -EINVAL;
        struct seg s = {data, field_len((const uint8_t *)data, msize)};
        if (s.len == 0)
            return -EINVAL;
        if (type == 'L')
            sc->longname = s;
        else
            sc->longlink = s;
        sc->have_meta = 1;
        return 1;
    }
    case 'x':
    case 'g':
        if (msize > TAR_META_MAX || pax_parse(data, msize, &sc->px, type == 'g') < 0)
            return -EINVAL;
        if (type == 'x')
            sc->have_meta = 1;
        return 1;
    case 'V':
        return 1;
    default:
        return is_member_type(type) ? 0 : -EINVAL;
    }
}

/* The member's name: a GNU long name, a pax path, or the header's (with the POSIX ustar
 * prefix field: "ustar\0" "00"; GNU's "ustar  \0" has none) */
static void member_name(const struct scan *sc, const uint8_t *h, struct member *m)
{
    struct seg name = {(const char *)h, field_len(h, 100)};
    if (sc->longname.len) {
        m->name[0] = sc->longname;
    } else if (sc->px.path.len) {
        m->name[0] = sc->px.path;
    } else if (memcmp(h + 257, "ustar", 6) == 0 && field_len(h + 345, 155)) {
        m->name[0] = (struct seg){(const char *)h + 345, field_len(h + 345, 155)};
        m->name[1] = name;
    } else {
        m->name[0] = name;
    }
    if (sc->longlink.len)
        m->link = sc->longlink;
    else if (sc->px.linkpath.len)
        m->link = sc->px.linkpath;
    else
        m->link = (struct seg){(const char *)h + 157, field_len(h + 157, 100)};
}

/* The member a header describes, with what the meta headers before it said. */
static long member_of(const struct scan *sc, const uint8_t *h, uint64_t msize, uint64_t data_off, struct member *m)
{
    memset(m, 0, sizeof *m);
    m->type = h[156];
    if (m->type != '0' && m->type != 0 && m->type != '7' && msize != 0)
        return -EINVAL; /* data on a member that has none */
    int64_t mode, mtime;
    if (parse_num(h + 100, 8, 0, &mode) < 0 || parse_num(h + 136, 12, 1, &mtime) < 0)
        return -EINVAL;
    m->mode = (uint32_t)(mode & VFS_PERM_MASK);
    m->mtime = mtime;
    if (sc->px.has_mtime) {
        m->mtime = sc->px.mtime;
        m->mtime_nsec = sc->px.mtime_nsec;
    }
    m->size = msize;
    m->data_off = data_off;
    member_name(sc, h, m);
    return m->name[0].len ? 0 : -EINVAL;
}

/* One header: a meta header is taken, a member added (and the meta said of it forgotten). */
static long index_header(struct vfs *v, struct route *rt, struct scan *sc, const uint8_t *h)
{
    uint64_t msize, data_off, next;
    if (header_extent(sc, h, &msize, &data_off, &next) < 0)
        return -EINVAL;
    int meta = take_meta(sc, h[156], (const char *)sc->img + data_off, msize);
    if (meta < 0)
        return -EINVAL;
    if (!meta) {
        struct member m;
        if (member_of(sc, h, msize, data_off, &m) < 0)
            return -EINVAL;
        long r = add_member(v, rt, &m);
        if (r < 0)
            return r;
        memset(&sc->px, 0, sizeof sc->px);
        sc->longname.len = sc->longlink.len = 0;
        sc->have_meta = 0;
    }
    sc->off = next;
    return 0;
}

/* The route shows the image's directory subdir: it becomes the route's root. */
static long index_subdir(struct vfs *v, struct route *rt, const char *subdir)
{
    size_t n = 0;
    while (subdir[n])
        if (++n >= VFS_PATH_MAX)
            return -EINVAL;
    int err;
    struct seg none = {0, 0};
    struct vnode *root = find_path(v, rt->root, (struct seg){subdir, n}, none, &err);
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
    struct scan sc;
    memset(&sc, 0, sizeof sc);
    sc.img = rt->image;
    sc.size = rt->image_size;
    rt->root->flags |= VN_IMPLICIT;
    rt->root->mtime.sec = 0;
    rt->root->mtime.nsec = 0; /* time 0, as the directories the image lacks */
    rt->root->atime = rt->root->ctime = rt->root->mtime;
    const uint8_t *h;
    int more;
    while ((more = next_header(&sc, &h)) > 0) {
        long r = index_header(v, rt, &sc, h);
        if (r < 0)
            return r;
    }
    if (more < 0 || sc.have_meta)
        return -EINVAL;
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
