/* Finding an app image's layer before any layer exists.  An app image opens with
 * .xax/meta.json, then (.xax/pad/000001 if the layer needs it to start on a page)
 * .xax/layer, its data on a page (docs/image-format.md, "An app image").  These first
 * members are read with the format's own decoder (vfs/tarfmt.c, which the VFS indexes the
 * image with too), so every header here is checked by the rules every reader applies; the
 * rest of the image is read by the layer's VFS, which indexes it whole, refusing what
 * breaks a rule, before the program starts. */
#include "tarfind.h"

#include "../vfs/tarfmt.h"
#include "xax_image.h"

static int zeros(const unsigned char *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Does the member's name start with `prefix`? */
static int name_starts(const struct tarfmt_member *m, const char *prefix)
{
    size_t a = m->part[0].len;
    for (size_t i = 0; prefix[i]; i++) {
        if (i >= m->name_len)
            return 0;
        char c = i < a ? m->part[0].p[i] : i == a ? '/' : m->part[1].p[i - a - 1];
        if (c != prefix[i])
            return 0;
    }
    return 1;
}

/* The member after the metadata: if it is padding, checked, and the member after it in *m. */
static const char *padding(const unsigned char *tar, struct tarfmt_scan *s, struct tarfmt_member *m, int *more)
{
    if (!name_starts(m, XAX_IMAGE_PAD_DIR))
        return 0;
    if (!tarfmt_name_is(m, XAX_IMAGE_PAD_DIR "000001"))
        return XAX_RULE_PAD ": the first padding member is not .xax/pad/000001";
    if (m->kind != TARFMT_FILE || m->size % XAX_IMAGE_BLOCK || m->size > XAX_IMAGE_PAD_MAX ||
        !zeros(tar + m->data_off, m->size))
        return XAX_RULE_PAD ": a padding member that is not 0 to PAD_MAX zero bytes in whole blocks";
    *more = tarfmt_next(s, m);
    if (*more < 0)
        return s->why;
    if (*more > 0 && m->data_off % XAX_IMAGE_PAGE)
        return XAX_RULE_PAD ": the member after a padding member does not start on a page";
    return 0;
}

const char *tar_find_layer(const unsigned char *tar, uint64_t size, const unsigned char **data, uint64_t *len)
{
    struct tarfmt_scan s;
    struct tarfmt_member m;
    tarfmt_start(&s, tar, size);
    int more = tarfmt_next(&s, &m);
    if (more < 0)
        return s.why;
    if (!more || !tarfmt_name_is(&m, XAX_IMAGE_META) || m.kind != TARFMT_FILE || m.size > XAX_IMAGE_META_MAX)
        return XAX_RULE_META_FIRST ": the first member is not .xax/meta.json, a regular file of at most META_MAX bytes";
    more = tarfmt_next(&s, &m);
    if (more < 0)
        return s.why;
    if (more) {
        const char *why = padding(tar, &s, &m, &more);
        if (why)
            return why;
    }
    if (!more || !tarfmt_name_is(&m, XAX_IMAGE_LAYER) || m.kind != TARFMT_FILE)
        return XAX_RULE_LAYER ": .xax/layer, a regular file, does not follow .xax/meta.json";
    if (m.data_off % XAX_IMAGE_PAGE)
        return XAX_RULE_LAYER ": .xax/layer's data does not start on a page";
    *data = tar + m.data_off;
    *len = m.size;
    return 0;
}
