/* The null call through a site the PAL rewrites (runtime_c/pal/rewrite.c): close(-1)
 * as `mov $SYS_close, %eax; syscall`, the shape glibc's close compiles to, placed so
 * that its five mov bytes lie in one aligned word.  Natively a system call; sealed, an
 * emulated call of the layer — trapped at the first call, then (unless run
 * --no-rewrite) a jump to the layer without a trap.  Prints "null_site NS": the
 * median over RUNS of the mean of CALLS calls. */
#include <stdio.h>
#include <sys/syscall.h>

#include "bench.h"

enum { RUNS = 31, CALLS = 20000 };

#define STR(x) #x
#define XSTR(x) STR(x)
long close_site(long fd);
__asm__(".text\n.balign 8\n"
        "close_site: mov $" XSTR(SYS_close) ", %eax\n"
        "    syscall\n"
        "    ret\n");

int main(void)
{
    double v[RUNS];
    if (close_site(-1) != -9) /* -EBADF, and the site rewritten before the clock starts */
        return 1;
    for (int r = 0; r < RUNS; r++) {
        double t = now();
        for (int i = 0; i < CALLS; i++)
            close_site(-1);
        v[r] = (now() - t) / CALLS;
    }
    printf("null_site %.1f\n", median(v, RUNS));
    return 0;
}
