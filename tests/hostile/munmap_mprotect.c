/* Attack: munmap and mprotect are allowed with any arguments: they can only
 * change the picoprocess's own address space.  Making memory writable and
 * executable works (it is the process's own), bad arguments get the kernel's
 * -EINVAL, and with argv[3] = "unmap_all" the program unmaps its whole
 * address space (code, PAL, layer, stacks): it can only kill itself (SIGSEGV). */
#include <sys/mman.h>
#include <asm-generic/mman-common.h>
#include "hostile.h"

#define PAGE 4096L

int main(int argc, char **argv)
{
    long p = raw6(SYS_mmap, 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile unsigned char *c = (unsigned char *)p;
    c[0] = 0xc3; /* ret */
    report("mprotect_rwx", raw3(SYS_mprotect, p, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC));
    ((void (*)(void))p)();
    report("ran_own_code", 1);
    report("mprotect_unknown_bit", raw3(SYS_mprotect, p, PAGE, PROT_READ | 0x10000));
    report("mprotect_upper_bit", raw3(SYS_mprotect, p, PAGE, PROT_READ | (1L << 32)));
    report("mprotect_growsdown", raw3(SYS_mprotect, p, PAGE, PROT_READ | PROT_GROWSDOWN));
    report("mprotect_unaligned", raw3(SYS_mprotect, p + 1, PAGE, PROT_READ));
    report("mprotect_sem", raw3(SYS_mprotect, p, PAGE, PROT_READ | PROT_SEM));
    report("munmap_unaligned", raw2(SYS_munmap, p + 1, PAGE));
    report("munmap_zero_len", raw2(SYS_munmap, p, 0));
    report("munmap_noncanonical", raw2(SYS_munmap, 0xdead000000000000L, PAGE));
    report("munmap_second_page", raw2(SYS_munmap, p + PAGE, PAGE));
    report("first_page_intact", c[0] == 0xc3);
    report("pkey_mprotect", raw4(SYS_pkey_mprotect, p, PAGE, PROT_READ, 0));
    if (argc > 3 && !strcmp(argv[3], "unmap_all")) {
        report("unmapping", 1);
        raw2(SYS_munmap, PAGE, (1L << 47) - 2 * PAGE);
        report("survived", 1); /* cannot be reached: the code is gone */
    }
    return 0;
}
