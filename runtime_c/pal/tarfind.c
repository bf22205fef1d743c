/* Finding one member of an app image (a tar) before any layer exists: the PAL
 * needs the image's layer (.xax/layer, written second by `xax-emu pack`).
 * Only what pack writes is understood — ustar headers, with pax extended
 * headers ('x') possibly before a member — and only the first few members
 * are looked at; everything is bounds-checked against the image's size. */
#include "tarfind.h"

#include "../lib/sys.h"

#define BLOCK 512
#define MAX_MEMBERS 16

static uint64_t octal(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n && p[i]; i++) {
        if (p[i] == ' ')
            continue;
        if (p[i] < '0' || p[i] > '7')
            return ~0ULL;
        v = v * 8 + (p[i] - '0');
    }
    return v;
}

static int checksum_ok(const unsigned char *h)
{
    uint64_t want = octal(h + 148, 8), sum = 0;
    for (int i = 0; i < BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum == want;
}

/* "path=" in a pax header's records: the member's real name (bounded copy). */
static int pax_path(const unsigned char *data, uint64_t size, char *out, size_t cap)
{
    uint64_t off = 0;
    while (off < size) {
        uint64_t len = 0, i = off;
        while (i < size && data[i] >= '0' && data[i] <= '9' && len < 100000)
            len = len * 10 + (data[i++] - '0');
        if (i >= size || data[i] != ' ' || len == 0 || off + len > size)
            return 0;
        const unsigned char *kv = data + i + 1, *end = data + off + len - 1; /* record ends with '\n' */
        if (end - kv > 5 && memcmp(kv, "path=", 5) == 0 && (size_t)(end - kv - 5) < cap) {
            memcpy(out, kv + 5, end - kv - 5);
            out[end - kv - 5] = 0;
            return 1;
        }
        off += len;
    }
    return 0;
}

int tar_find(const unsigned char *tar, uint64_t size, const char *name, const unsigned char **data, uint64_t *len)
{
    uint64_t off = 0;
    char pax_name[256];
    int have_pax_name = 0;
    for (int m = 0; m < MAX_MEMBERS * 2 && off + BLOCK <= size; m++) {
        const unsigned char *h = tar + off;
        if (h[0] == 0)
            return 0; /* end of archive */
        if (!checksum_ok(h))
            return 0;
        uint64_t msize = octal(h + 124, 12);
        if (msize == ~0ULL || msize > size - off - BLOCK)
            return 0;
        const unsigned char *body = h + BLOCK;
        char type = (char)h[156];
        uint64_t next = off + BLOCK + ((msize + BLOCK - 1) / BLOCK) * BLOCK;
        if (type == 'x') {
            have_pax_name = pax_path(body, msize, pax_name, sizeof pax_name);
        } else if (type == 'g') {
            /* global header: nothing pack relies on */
        } else {
            char ustar_name[101];
            memcpy(ustar_name, h, 100);
            ustar_name[100] = 0;
            const char *member = have_pax_name ? pax_name : ustar_name;
            if (strcmp(member, name) == 0 && (type == '0' || type == 0)) {
                *data = body;
                *len = msize;
                return 1;
            }
            have_pax_name = 0;
        }
        if (next <= off)
            return 0;
        off = next;
    }
    return 0;
}
