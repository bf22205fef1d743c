/* The image format's tar, one member at a time: see tarfmt.h and docs/image-format.md.
 * Each check names its rule (xax_image.h, generated from xax_emu/image/format.py); the
 * checks run in the order the document gives, the order tarread.py runs them in too. */
#include "tarfmt.h"

#include "xax_image.h"

#define BLOCK XAX_IMAGE_BLOCK
#define INT64_LIMIT 0x7fffffffffffffffULL

/* A refusal: the reason, and the header it is about. */
static int refuse(struct tarfmt_scan *s, uint64_t at, const char *why)
{
    s->why = why;
    s->why_off = at;
    return -1;
}

void tarfmt_start(struct tarfmt_scan *s, const void *img, uint64_t size)
{
    s->img = img;
    s->size = size;
    s->off = 0;
    s->members = 0;
    s->name_bytes = 0;
    s->why = 0;
    s->why_off = 0;
}

static int all_zero(const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static size_t field_len(const uint8_t *f, size_t n)
{
    size_t i = 0;
    while (i < n && f[i])
        i++;
    return i;
}

static int bytes_eq(const void *a, const char *b, size_t n)
{
    const uint8_t *p = a;
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)b[i])
            return 0;
    return 1;
}

/* -- the header's fields -------------------------------------------------------------- */

/* A numeric field: octal digits from its first byte, then one or more NULs or spaces to its end. */
static int octal_field(const uint8_t *f, size_t n, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    while (i < n && f[i] >= '0' && f[i] <= '7')
        v = v * 8 + (uint64_t)(f[i++] - '0'); /* at most 11 digits: no overflow */
    if (i == 0 || i == n)
        return -1;
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != 0)
            return -1;
    *out = v;
    return 0;
}

/* the four 16-bit lanes of x, added */
static uint64_t lanes16(uint64_t x)
{
    return (x & 0xffff) + ((x >> 16) & 0xffff) + ((x >> 32) & 0xffff) + (x >> 48);
}

/* POSIX's checksum: the unsigned sum of the header's bytes, the checksum field taken as eight
 * spaces.  Eight bytes a step, as 16-bit lanes of a word: byte by byte, this sum was most of
 * the cost of indexing an image. */
static int checksum_ok(const uint8_t *h)
{
    uint64_t want;
    if (octal_field(h + 148, 8, &want) < 0)
        return 0;
    const uint64_t lo = 0x00ff00ff00ff00ffULL;
    uint64_t lanes = 0; /* 64 steps of at most 510 per lane */
    for (int i = 0; i < BLOCK; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, h + i, 8); /* one load: -ffreestanding calls memcpy otherwise */
        lanes += (w & lo) + ((w >> 8) & lo);
    }
    uint64_t sum = lanes16(lanes);
    for (int i = 148; i < 156; i++)
        sum -= h[i];
    return sum + 8 * ' ' == want;
}

/* -- pax headers ---------------------------------------------------------------------- */

struct pax {
    struct tarfmt_seg path, linkpath;
    int has_path, has_linkpath, has_size, has_mtime;
    uint64_t size;
    int64_t mtime;
};

/* A decimal number as the format writes one: 1 to 19 digits, no leading zero, at most 2^63-1. */
static int decimal(const char *p, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19 || (p[0] == '0' && n > 1))
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(p[i] - '0'); /* 19 digits fit in 64 bits */
    }
    if (v > INT64_LIMIT)
        return -1;
    *out = v;
    return 0;
}

/* One record's key and value: 0, or the refusal. */
static const char *pax_take(struct pax *px, const char *key, size_t klen, const char *val, size_t vlen)
{
    static const char *const keys[] = {"path", "linkpath", "size", "mtime"};
    int which = -1;
    for (int i = 0; i < 4; i++) {
        size_t n = 0;
        while (keys[i][n])
            n++;
        if (n == klen && bytes_eq(key, keys[i], n))
            which = i;
    }
    if (which < 0)
        return XAX_RULE_PAX_KEY ": a key the format does not have";
    int *seen[] = {&px->has_path, &px->has_linkpath, &px->has_size, &px->has_mtime};
    if (*seen[which])
        return XAX_RULE_PAX_KEY ": a key given twice";
    *seen[which] = 1;
    uint64_t u;
    switch (which) {
    case 0:
    case 1:
        if (vlen == 0)
            return XAX_RULE_PAX_VALUE ": an empty path or linkpath";
        *(which == 0 ? &px->path : &px->linkpath) = (struct tarfmt_seg){val, vlen};
        return 0;
    case 2:
        if (decimal(val, vlen, &u) < 0)
            return XAX_RULE_PAX_VALUE ": size is not a decimal number below 2^63";
        px->size = u;
        return 0;
    default: {
        int neg = vlen > 0 && val[0] == '-';
        if (decimal(val + neg, vlen - (size_t)neg, &u) < 0 || (neg && u == 0))
            return XAX_RULE_PAX_VALUE ": mtime is not a decimal integer of at most 63 bits";
        px->mtime = neg ? -(int64_t)u : (int64_t)u;
        return 0;
    }
    }
}

/* The records "LEN key=value\n", LEN (decimal, no leading zero) counting the whole record,
 * filling the header's data exactly. */
static const char *pax_parse(const char *d, uint64_t n, struct pax *px)
{
    uint64_t pos = 0;
    while (pos < n) {
        uint64_t i = pos, len = 0;
        if (d[i] < '1' || d[i] > '9')
            return XAX_RULE_PAX_RECORD ": a record that does not start with its length";
        while (i < n && d[i] >= '0' && d[i] <= '9') {
            len = len * 10 + (uint64_t)(d[i++] - '0');
            if (len > n - pos)
                return XAX_RULE_PAX_RECORD ": a record longer than its header";
        }
        if (i == n || d[i] != ' ')
            return XAX_RULE_PAX_RECORD ": a record length not followed by a space";
        uint64_t end = pos + len; /* one past its '\n' */
        if (end <= i + 1 || d[end - 1] != '\n')
            return XAX_RULE_PAX_RECORD ": a record that does not end with a newline where its length says";
        uint64_t k = i + 1, eq = k;
        while (eq < end - 1 && d[eq] != '=')
            eq++;
        if (eq == k || eq == end - 1)
            return XAX_RULE_PAX_RECORD ": a record that is not key=value";
        const char *why = pax_take(px, d + k, eq - k, d + eq + 1, end - 1 - (eq + 1));
        if (why)
            return why;
        pos = end;
    }
    return 0;
}

/* -- names ---------------------------------------------------------------------------- */

/* Strict UTF-8, as Python decodes it: no overlong forms, no surrogates, nothing past U+10FFFF;
 * and no NUL. */
static int utf8_ok(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t more;
        uint8_t lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
            more = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            if (c == 0xe0)
                lo = 0xa0;
            if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            if (c == 0xf0)
                lo = 0x90;
            if (c == 0xf4)
                hi = 0x8f;
        } else {
            return 0;
        }
        if (n - i - 1 < more || p[i + 1] < lo || p[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= more; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                return 0;
        i += more + 1;
    }
    return 1;
}

static int ascii_ok(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 0x80)
            return 0;
    return 1;
}

/* The components of one part of a name: "." and empty ones are not normalized, ".." never
 * allowed, each at most NAME_MAX; *trailing is set when the part ends with '/' (allowed for
 * the last part only, which the caller checks against the member's kind). */
static const char *check_part(const char *p, size_t n, int last, int *trailing)
{
    size_t i = 0;
    while (i < n) {
        size_t st = i;
        while (i < n && p[i] != '/')
            i++;
        size_t len = i - st;
        if (len == 0 || (len == 1 && p[st] == '.'))
            return XAX_RULE_NAME_FORM ": an empty or '.' component (the name is not normalized)";
        if (len == 2 && p[st] == '.' && p[st + 1] == '.')
            return XAX_RULE_NAME_DOTDOT ": a '..' component";
        if (len > XAX_IMAGE_NAME_MAX)
            return XAX_RULE_NAME_LENGTH ": a component over NAME_MAX bytes";
        if (i < n) {
            i++; /* the '/' */
            if (i == n) {
                if (!last)
                    return XAX_RULE_NAME_FORM ": an empty component (the name is not normalized)";
                *trailing = 1;
            }
        }
    }
    return 0;
}

/* The member's name: from the pax path, or the ustar prefix and name fields; checked in the
 * document's order: encoding, empty, absolute, components, length, the trailing '/'. */
static const char *member_name(const uint8_t *h, const struct pax *px, int kind, struct tarfmt_member *m)
{
    struct tarfmt_seg a, b = {0, 0};
    int joined_slash = 0;
    if (px->has_path) {
        a = px->path;
        if (!utf8_ok((const uint8_t *)a.p, a.len))
            return XAX_RULE_NAME_ENCODING ": the pax path is not UTF-8 (or has a NUL)";
    } else {
        struct tarfmt_seg name = {(const char *)h, field_len(h, 100)};
        struct tarfmt_seg prefix = {(const char *)h + 345, field_len(h + 345, 155)};
        if (!ascii_ok((const uint8_t *)name.p, name.len) || !ascii_ok((const uint8_t *)prefix.p, prefix.len))
            return XAX_RULE_NAME_ENCODING ": a byte over 127 in the ustar name (such names go in a pax path)";
        a = prefix.len ? prefix : name;
        b = prefix.len ? name : (struct tarfmt_seg){0, 0};
        /* prefix "/" name: a prefix with an empty name ends with the '/' between them */
        joined_slash = prefix.len && !name.len;
    }
    if (a.len == 0)
        return XAX_RULE_NAME_FORM ": an empty name";
    if (a.p[0] == '/')
        return XAX_RULE_NAME_ABSOLUTE ": an absolute name";
    int trailing = 0;
    const char *why = check_part(a.p, a.len, b.len == 0 && !joined_slash, &trailing);
    if (!why && b.len) {
        if (b.p[0] == '/')
            return XAX_RULE_NAME_FORM ": an empty component (the name is not normalized)";
        why = check_part(b.p, b.len, 1, &trailing);
    }
    if (why)
        return why;
    trailing |= joined_slash;
    if (trailing && !joined_slash) {
        if (b.len)
            b.len--;
        else
            a.len--;
    }
    size_t total = a.len + (b.len ? 1 + b.len : 0);
    if (total > XAX_IMAGE_MEMBER_NAME_MAX)
        return XAX_RULE_NAME_LENGTH ": a name over MEMBER_NAME_MAX bytes";
    if (trailing != (kind == TARFMT_DIR))
        return kind == TARFMT_DIR ? XAX_RULE_NAME_FORM ": a directory whose name does not end with '/'"
                                  : XAX_RULE_NAME_FORM ": a name ending with '/' on a member that is not a directory";
    m->part[0] = a;
    m->part[1] = b;
    m->name_len = total;
    return 0;
}

/* A symlink's target (the pax linkpath or the linkname field); nothing for the others. */
static const char *member_link(const uint8_t *h, const struct pax *px, int kind, struct tarfmt_member *m)
{
    struct tarfmt_seg field = {(const char *)h + 157, field_len(h + 157, 100)};
    if (kind != TARFMT_SYMLINK) {
        if (px->has_linkpath)
            return XAX_RULE_PAX_KEY ": a linkpath on a member that is not a symlink";
        if (field.len)
            return XAX_RULE_LINK ": a link name on a member that is not a symlink";
        m->link = (struct tarfmt_seg){0, 0};
        return 0;
    }
    if (px->has_linkpath) {
        m->link = px->linkpath;
        if (!utf8_ok((const uint8_t *)m->link.p, m->link.len))
            return XAX_RULE_NAME_ENCODING ": the pax linkpath is not UTF-8 (or has a NUL)";
    } else {
        m->link = field;
        if (!ascii_ok((const uint8_t *)field.p, field.len))
            return XAX_RULE_NAME_ENCODING ": a byte over 127 in the link name (such targets go in a pax linkpath)";
    }
    if (m->link.len == 0 || m->link.len > XAX_IMAGE_SYMLINK_MAX)
        return XAX_RULE_LINK ": a symlink's target is empty or over SYMLINK_MAX bytes";
    return 0;
}

/* -- the scan ------------------------------------------------------------------------- */

/* At a zero block: the end, if a second follows and then nothing but zeros. */
static int archive_end(struct tarfmt_scan *s)
{
    uint64_t at = s->off;
    if (s->size - at < 2 * BLOCK || !all_zero(s->img + at + BLOCK, BLOCK))
        return refuse(s, at, XAX_RULE_END ": one zero block, not the two that end an archive");
    if (!all_zero(s->img + at + 2 * BLOCK, s->size - at - 2 * BLOCK))
        return refuse(s, at, XAX_RULE_END ": bytes other than zeros after the end of the archive");
    return 0;
}

/* The fields of a member's header, with its pax header's records in place of the ones they give. */
static const char *member_fields(struct tarfmt_scan *s, const uint8_t *h, const struct pax *px,
                                 struct tarfmt_member *m)
{
    uint64_t mode, size, mtime;
    if (octal_field(h + 100, 8, &mode) < 0 || mode > 07777)
        return XAX_RULE_NUMBER ": the mode is not octal permission bits";
    if (px->has_size)
        size = px->size;
    else if (octal_field(h + 124, 12, &size) < 0)
        return XAX_RULE_NUMBER ": the size is not an octal number";
    if (px->has_mtime)
        m->mtime = px->mtime;
    else if (octal_field(h + 136, 12, &mtime) < 0)
        return XAX_RULE_NUMBER ": the mtime is not an octal number";
    else
        m->mtime = (int64_t)mtime;
    if (m->kind != TARFMT_FILE && px->has_size)
        return XAX_RULE_PAX_KEY ": a pax size on a member that is not a file";
    if (m->kind != TARFMT_FILE && size)
        return XAX_RULE_DATA ": data on a directory or symlink";
    m->mode = (uint32_t)mode;
    m->size = size;
    m->data_off = s->off + BLOCK;
    uint64_t room = s->size - m->data_off;
    if (size > room || ((size + BLOCK - 1) & ~(uint64_t)(BLOCK - 1)) > room)
        return XAX_RULE_TRUNCATED ": the member's data runs past the end of the file";
    return 0;
}

/* A pax header at s->off: its records into *px, and s->off past it. */
static int pax_header(struct tarfmt_scan *s, const uint8_t *h, struct pax *px)
{
    uint64_t at = s->off, size;
    if (octal_field(h + 124, 12, &size) < 0)
        return refuse(s, at, XAX_RULE_NUMBER ": the size is not an octal number");
    if (size > XAX_IMAGE_HEADER_MAX)
        return refuse(s, at, XAX_RULE_PAX_SIZE ": a pax header over HEADER_MAX bytes");
    uint64_t room = s->size - at - BLOCK, padded = (size + BLOCK - 1) & ~(uint64_t)(BLOCK - 1);
    if (padded > room)
        return refuse(s, at, XAX_RULE_TRUNCATED ": the pax header's data runs past the end of the file");
    const char *why = pax_parse((const char *)h + BLOCK, size, px);
    if (why)
        return refuse(s, at, why);
    s->off = at + BLOCK + padded;
    return 0;
}

/* One header's block at s->off, whole, not zero, with its checksum and magic: 1, 0 (a zero
 * block: the end, checked), -1. */
static int header_at(struct tarfmt_scan *s, int after_pax, const uint8_t **h)
{
    uint64_t at = s->off;
    if (s->size - at < BLOCK)
        return refuse(s, at, at == s->size ? XAX_RULE_END ": the file ends without the two zero blocks that end an archive"
                                           : XAX_RULE_TRUNCATED ": the file ends inside a header");
    *h = s->img + at;
    if (all_zero(*h, BLOCK)) {
        if (after_pax)
            return refuse(s, at, XAX_RULE_PAX_ALONE ": a pax header with no member after it");
        return archive_end(s) < 0 ? -1 : 0;
    }
    if (!checksum_ok(*h))
        return refuse(s, at, XAX_RULE_CHECKSUM ": the header's checksum is wrong");
    if (!bytes_eq(*h + 257, "ustar\0" "00", 8))
        return refuse(s, at, XAX_RULE_MAGIC ": not a POSIX ustar header");
    return 1;
}

int tarfmt_next(struct tarfmt_scan *s, struct tarfmt_member *m)
{
    struct pax px = {{0, 0}, {0, 0}, 0, 0, 0, 0, 0, 0};
    int after_pax = 0;
    const uint8_t *h;
    m->header_off = s->off;
    for (;;) {
        int r = header_at(s, after_pax, &h);
        if (r <= 0)
            return r;
        int type = h[156];
        if (type == 'x' && !after_pax) {
            if (pax_header(s, h, &px) < 0)
                return -1;
            after_pax = 1;
            continue;
        }
        if (type == 'x')
            return refuse(s, s->off, XAX_RULE_PAX_ALONE ": a pax header followed by another");
        if (type != TARFMT_FILE && type != TARFMT_DIR && type != TARFMT_SYMLINK)
            return refuse(s, s->off, XAX_RULE_TYPEFLAG ": a member type the format does not have");
        m->kind = type;
        const char *why = member_fields(s, h, &px, m);
        if (!why)
            why = member_name(h, &px, type, m);
        if (!why)
            why = member_link(h, &px, type, m);
        if (why)
            return refuse(s, s->off, why);
        s->name_bytes += m->name_len + m->link.len;
        if (++s->members > XAX_IMAGE_MEMBERS_MAX || s->name_bytes > XAX_IMAGE_NAMES_MAX)
            return refuse(s, s->off, XAX_RULE_MEMBERS ": more than MEMBERS_MAX members or NAMES_MAX bytes of names");
        s->off = m->data_off + ((m->size + BLOCK - 1) & ~(uint64_t)(BLOCK - 1));
        return 1;
    }
}

int tarfmt_name_is(const struct tarfmt_member *m, const char *name)
{
    size_t i = 0;
    for (int k = 0; k < 2; k++) {
        const struct tarfmt_seg *p = &m->part[k];
        if (k == 1) {
            if (p->len == 0)
                break;
            if (name[i++] != '/')
                return 0;
        }
        for (size_t j = 0; j < p->len; j++, i++)
            if (name[i] != p->p[j])
                return 0;
    }
    return name[i] == 0;
}

int tarfmt_component(const struct tarfmt_member *m, size_t *pos, struct tarfmt_seg *c)
{
    /* *pos counts bytes of part[0] "/" part[1]: the '/' between the parts separates two
     * components as any other does (a normalized name has no empty one) */
    size_t a = m->part[0].len, base = 0;
    const struct tarfmt_seg *p = &m->part[0];
    if (*pos > a) {
        p = &m->part[1];
        base = a + 1;
    }
    size_t i = *pos - base, st = i;
    if (i >= p->len)
        return 0;
    while (i < p->len && p->p[i] != '/')
        i++;
    c->p = p->p + st;
    c->len = i - st;
    *pos = base + i + 1;
    return 1;
}
