/* The runtime's own memcpy (runtime_c/lib/mem.c, built with the runtime's flags and
 * linked here with its symbols renamed rt_*) against the C library's, copying 64 MiB
 * between buffers already faulted in: what the tar route's read() and the PAL's
 * image fetch pay per byte.  Prints "name MB/s" (medians; 1e6 bytes/s). */
#include <stdio.h>
#include <string.h>

#include "bench.h"

void *rt_memcpy(void *dst, const void *src, size_t n);

enum { RUNS = 7, SIZE = 64 << 20 };
static char src[SIZE], dst[SIZE];

static double rate(void *(*copy)(void *, const void *, size_t))
{
    double v[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t = now();
        copy(dst, src, SIZE);
        v[r] = now() - t;
    }
    return SIZE / (median(v, RUNS) / 1e9) / 1e6;
}

int main(void)
{
    memset(src, 'x', SIZE);
    memset(dst, 'y', SIZE);
    printf("libc_memcpy_mbps %.0f\n", rate(memcpy));
    printf("runtime_memcpy_mbps %.0f\n", rate(rt_memcpy));
    return dst[SIZE - 1] != 'x';
}
