/* getrandom as a program uses it: two buffers that differ, a large request
 * (a short read is allowed), and flags the kernel refuses. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    unsigned char a[32], b[32];
    static unsigned char big[200000];
    long ra = syscall(SYS_getrandom, a, sizeof a, 0);
    long rb = syscall(SYS_getrandom, b, sizeof b, 0);
    int zero = 1;
    for (int i = 0; i < 32; i++)
        zero &= a[i] == 0;
    printf("sizes %ld %ld, differ %d, all zero %d\n", ra, rb, memcmp(a, b, sizeof a) != 0, zero);
    long rbig = syscall(SYS_getrandom, big, sizeof big, 0);
    printf("big: %s\n", rbig > 0 && rbig <= (long)sizeof big ? "ok" : "bad");
    long rbad = syscall(SYS_getrandom, a, sizeof a, 0x6);
    printf("GRND_RANDOM|GRND_INSECURE: %ld errno %d\n", rbad, rbad < 0 ? errno : 0);
    return 0;
}
