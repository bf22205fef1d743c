/* Helpers for hostile test programs: raw system calls (no libc wrapper in the
 * way, so every argument is exactly what we say) and a one-line report.
 * argv[1] is the canary file's path, argv[2] the loopback listener's port. */
#ifndef HOSTILE_H
#define HOSTILE_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

static inline long raw6(long n, long a, long b, long c, long d, long e, long f)
{
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}
#define raw0(n) raw6(n, 0, 0, 0, 0, 0, 0)
#define raw1(n, a) raw6(n, a, 0, 0, 0, 0, 0)
#define raw2(n, a, b) raw6(n, a, b, 0, 0, 0, 0)
#define raw3(n, a, b, c) raw6(n, a, b, c, 0, 0, 0)
#define raw4(n, a, b, c, d) raw6(n, a, b, c, d, 0, 0)

/* Print "name = result" on stdout (through the layer, which is fine: stdout is
 * the program's own channel) so the test can assert on what each attempt got. */
static inline void report(const char *name, long r)
{
    printf("%s = %ld\n", name, r);
    fflush(stdout);
}
#endif
