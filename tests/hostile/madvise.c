/* Attack: madvise advice that acts beyond the process's own paging:
 * MADV_HWPOISON and MADV_SOFT_OFFLINE (physical pages), MADV_MERGEABLE (KSM
 * merging across processes: a side channel), and others not on the list
 * (MADV_REMOVE, MADV_DONTFORK, MADV_WIPEONFORK, MADV_PAGEOUT, MADV_COLLAPSE),
 * plus MADV_HWPOISON with junk above the int.  The allowed MADV_DONTNEED must
 * do what the kernel does: 0, and the page reads back as zeros. */
#include <sys/mman.h>
#include <asm-generic/mman-common.h>
#include "hostile.h"

#define PAGE 4096L

int main(int argc, char **argv)
{
    long p = raw6(SYS_mmap, 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile char *c = (char *)p;
    c[0] = 'x';
    c[PAGE] = 'y';
    report("hwpoison", raw3(SYS_madvise, p, PAGE, MADV_HWPOISON));
    report("hwpoison_junk", raw3(SYS_madvise, p, PAGE, MADV_HWPOISON | (1L << 32)));
    report("soft_offline", raw3(SYS_madvise, p, PAGE, MADV_SOFT_OFFLINE));
    report("mergeable", raw3(SYS_madvise, p, 2 * PAGE, MADV_MERGEABLE));
    report("remove", raw3(SYS_madvise, p, PAGE, MADV_REMOVE));
    report("dontfork", raw3(SYS_madvise, p, PAGE, MADV_DONTFORK));
    report("wipeonfork", raw3(SYS_madvise, p, PAGE, MADV_WIPEONFORK));
    report("pageout", raw3(SYS_madvise, p, PAGE, MADV_PAGEOUT));
    report("collapse", raw3(SYS_madvise, p, PAGE, MADV_COLLAPSE));
    report("process_madvise", raw6(SYS_process_madvise, 3, 0, 0, MADV_PAGEOUT, 0, 0));
    report("page_intact", c[0] == 'x' && c[PAGE] == 'y');
    report("dontneed", raw3(SYS_madvise, p, PAGE, MADV_DONTNEED));
    report("dontneed_zeroed", c[0] == 0);
    report("other_page_intact", c[PAGE] == 'y');
    report("dontneed_junk", raw3(SYS_madvise, p + PAGE, PAGE, MADV_DONTNEED | (0xdeadL << 32)));
    report("dontneed_junk_zeroed", c[PAGE] == 0);
    (void)argc;
    (void)argv;
    return 0;
}
