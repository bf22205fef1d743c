/* The article's Table 1, measured from inside the program (the same binary
 * natively and in the picoprocess; clock_gettime reaches the kernel in both):
 *   compute  SHA-1 of a 340 KB text (The War of the Worlds' size)
 *   null     close(-1): natively a system call, sealed a trap to the layer
 *   xaxcall  a null round trip to the Monitor (xabi_poll of no channels), sealed only
 *   alloc    an empty 16 MB region: mmap+munmap natively, xabi_alloc+xabi_free sealed
 * Prints "name nanoseconds" lines (medians of repeated runs). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "sha1.h"
#include "xabi.h"

int main(void)
{
    const struct xabi_table *abi = (const struct xabi_table *)getauxval(AT_XAX_ABI);
    enum { RUNS = 31, CALLS = 20000 };
    double v[RUNS];
    size_t len = 340 * 1024;
    unsigned char *text = malloc(len);
    for (size_t i = 0; i < len; i++)
        text[i] = "the war of the worlds "[i % 22];
    uint32_t h[5];
    for (int r = 0; r < RUNS; r++) {
        double t = now();
        sha1(text, len, h);
        v[r] = now() - t;
    }
    printf("compute %.0f\n", median(v, RUNS));
    for (int r = 0; r < RUNS; r++) {
        double t = now();
        for (int i = 0; i < CALLS; i++)
            syscall(SYS_close, -1);
        v[r] = (now() - t) / CALLS;
    }
    printf("null %.1f\n", median(v, RUNS));
    if (abi) {
        for (int r = 0; r < RUNS; r++) {
            double t = now();
            for (int i = 0; i < CALLS / 10; i++)
                abi->poll(0, 0, false);
            v[r] = (now() - t) / (CALLS / 10);
        }
        printf("xaxcall %.1f\n", median(v, RUNS));
    }
    for (int r = 0; r < RUNS; r++) {
        double t = now();
        for (int i = 0; i < 100; i++) {
            if (abi) {
                void *p = abi->alloc(0, 16 << 20);
                abi->free(p);
            } else {
                void *p = mmap(0, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                munmap(p, 16 << 20);
            }
        }
        v[r] = (now() - t) / 100;
    }
    printf("alloc %.0f\n", median(v, RUNS));
    printf("sha1 %08x\n", h[0]);
    return 0;
}
