/* What the C fuzz targets share: a vfs over malloc, and the rule for answers.
 * Built with clang -fsanitize=fuzzer,address,undefined by tests/fuzz/cbuild.py,
 * against runtime_c/vfs/vfs.h only (the public interface), with every vfs/*.c. */
#ifndef XAX_FUZZ_COMMON_H
#define XAX_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs.h"

static void *fz_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void fz_release(void *ctx, void *p, size_t n) { (void)ctx; (void)n; free(p); }

static struct vfs *fz_vfs(void)
{
    static const struct vfs_env env = {.alloc = fz_alloc, .release = fz_release};
    struct vfs *v = vfs_new(&env);
    if (!v) {
        fprintf(stderr, "vfs_new failed\n");
        abort();
    }
    return v;
}

/* Every call answers >= 0 or -errno with a Linux errno (1..133): anything else is a finding. */
static long fz_answer(const char *call, long r)
{
    if (r < 0 && (r < -133 || r == 0)) {
        fprintf(stderr, "%s answered %ld, not -errno\n", call, r);
        abort();
    }
    return r;
}

#endif
