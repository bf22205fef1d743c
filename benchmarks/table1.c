/* The article's Table 1, measured from inside the program (the same binary
 * natively and in the picoprocess; clock_gettime reaches the kernel in both):
 *   compute  SHA-1 of a 340 KB text (The War of the Worlds' size), best of N
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

#include "xabi.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof *v, cmp);
    return v[n / 2];
}

/* SHA-1, plainly (FIPS 180-4). */
#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
static void sha1(const unsigned char *data, size_t len, uint32_t h[5])
{
    h[0] = 0x67452301; h[1] = 0xEFCDAB89; h[2] = 0x98BADCFE; h[3] = 0x10325476; h[4] = 0xC3D2E1F0;
    size_t total = ((len + 8) / 64 + 1) * 64;
    unsigned char block[64];
    for (size_t off = 0; off < total; off += 64) {
        for (int i = 0; i < 64; i++) {
            size_t k = off + i;
            block[i] = k < len ? data[k] : k == len ? 0x80 : 0;
        }
        if (off + 64 == total)
            for (int i = 0; i < 8; i++)
                block[63 - i] = (unsigned char)((uint64_t)len * 8 >> (8 * i));
        uint32_t w[80];
        for (int i = 0; i < 16; i++)
            w[i] = (uint32_t)block[4 * i] << 24 | block[4 * i + 1] << 16 | block[4 * i + 2] << 8 | block[4 * i + 3];
        for (int i = 16; i < 80; i++)
            w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
            else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
            else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
            else f = b ^ c ^ d, k = 0xCA62C1D6;
            uint32_t t = ROL(a, 5) + f + e + k + w[i];
            e = d; d = c; c = ROL(b, 30); b = a; a = t;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
    }
}

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
