/* Attack (limits): take memory until there is no more: 1 MiB chunks from
 * malloc, each touched, then one huge mmap.  Under the Monitor's address-space
 * limit allocation must fail (or the process be killed) before the limit;
 * prints "got_mib = N" when malloc gives up. */
#include <stdlib.h>
#include <sys/mman.h>
#include "hostile.h"

int main(int argc, char **argv)
{
    long got = 0;
    for (; got < 1 << 16; got++) {
        char *p = malloc(1 << 20);
        if (!p)
            break;
        memset(p, 0xa5, 1 << 20);
    }
    report("got_mib", got);
    report("mmap_1g", raw6(SYS_mmap, 0, 1L << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    (void)argc, (void)argv;
    return 0;
}
