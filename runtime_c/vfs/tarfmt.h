/* The image format's tar (docs/image-format.md), read one member at a time: each header
 * checked against every rule of the "header" level, its pax header applied.  The VFS's tar
 * backend (tar.c) reads a whole image with it and adds the rules between members; the PAL's
 * tar_find_layer (pal/tarfind.c) reads an app image's first members with it.  One decoder,
 * so that the two C readers cannot disagree about a header.
 *
 * Freestanding (no libc, no allocation, no globals): names and targets point into the image;
 * every length is checked against the image's size before anything is read. */
#ifndef XAX_TARFMT_H
#define XAX_TARFMT_H

#include <stddef.h>
#include <stdint.h>

struct tarfmt_seg {
    const char *p;
    size_t len;
};

enum tarfmt_kind { TARFMT_FILE = '0', TARFMT_DIR = '5', TARFMT_SYMLINK = '2' };

struct tarfmt_member {
    /* The name, normalized (no empty, "." or ".." component, relative): the ustar prefix and
     * name fields, joined by a '/' (part[1].len == 0 when the whole name is in part[0]: the
     * name field alone, or a pax path).  A directory's trailing '/' is not in it. */
    struct tarfmt_seg part[2];
    size_t name_len;            /* bytes of the name: part[0] "/" part[1] */
    struct tarfmt_seg link;     /* a symlink's target (not empty); empty for the others */
    int kind;                   /* enum tarfmt_kind */
    uint32_t mode;              /* permission bits (at most 07777) */
    int64_t mtime;
    uint64_t size;              /* bytes of data: 0 unless a file */
    uint64_t header_off;        /* where its first header starts (its pax header's, if any) */
    uint64_t data_off;          /* where its data starts */
};

struct tarfmt_scan {
    const uint8_t *img;
    uint64_t size;
    uint64_t off;               /* the next header */
    uint64_t members;           /* members read */
    uint64_t name_bytes;        /* bytes of their names and targets */
    const char *why;            /* after a refusal: the rule's name, ": ", what is wrong */
    uint64_t why_off;           /* the offset of the header it is about */
};

void tarfmt_start(struct tarfmt_scan *s, const void *img, uint64_t size);

/* The next member: 1 with *m; 0 at the end of the archive (as the format ends it: two zero
 * blocks, then zero bytes only); -1 if the image breaks a rule (s->why, s->why_off). */
int tarfmt_next(struct tarfmt_scan *s, struct tarfmt_member *m);

/* Is the member's name exactly `name` (NUL-terminated, normalized)? */
int tarfmt_name_is(const struct tarfmt_member *m, const char *name);

/* The next component of a member's name from *pos (0 to start): 1 with *c, 0 past the last. */
int tarfmt_component(const struct tarfmt_member *m, size_t *pos, struct tarfmt_seg *c);

#endif
