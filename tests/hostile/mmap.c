/* Attack: map something that is not private anonymous memory.  A file mapping
 * of the channel (XAX_CHANNEL_FD) and of fd 0 (private and shared), shared anonymous
 * memory (the layer turns it into private memory: it must work), huge pages,
 * unknown flag or prot bits in the upper 32 bits, MAP_SHARED_VALIDATE with an
 * unknown flag, and mremap/remap_file_pages/mbind, which are not allowed. */
#include <sys/mman.h>
#include <asm-generic/mman-common.h>
#include "hostile.h"
#include "xax_protocol.h"

#define PAGE 4096L
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static long map(long prot, long flags, long fd)
{
    return raw6(SYS_mmap, 0, PAGE, prot, flags, fd, 0);
}

int main(int argc, char **argv)
{
    const long rw = PROT_READ | PROT_WRITE;
    report("file_chan_private", map(PROT_READ, MAP_PRIVATE, XAX_CHANNEL_FD));
    report("file_chan_shared", map(rw, MAP_SHARED, XAX_CHANNEL_FD));
    report("file_stdin_private", map(PROT_READ, MAP_PRIVATE, 0));
    report("file_stdin_shared_validate", map(PROT_READ, MAP_SHARED_VALIDATE, 0));
    report("hugetlb", map(rw, ANON | MAP_HUGETLB, -1));
    report("hugetlb_2mb", map(rw, ANON | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT), -1));
    report("flags_upper_bit", map(rw, ANON | (1L << 32), -1));
    report("flags_upper_bits_shared", map(rw, MAP_SHARED | MAP_ANONYMOUS | (0xdeadL << 32), -1));
    report("prot_upper_bit", map(rw | (1L << 32), ANON, -1));
    report("prot_sem", map(rw | PROT_SEM, ANON, -1));
    report("locked", map(rw, ANON | MAP_LOCKED, -1));
    report("shared_validate_unknown", map(rw, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x800000, -1));

    /* Shared anonymous memory, with the channel's fd given (ignored with MAP_ANONYMOUS). */
    long p = map(rw, MAP_SHARED | MAP_ANONYMOUS, XAX_CHANNEL_FD);
    report("shared_anon_ok", p > 0 && (p & (PAGE - 1)) == 0);
    if (p > 0) {
        volatile char *c = (char *)p;
        report("shared_anon_zeroed", c[0] == 0 && c[PAGE - 1] == 0);
        c[0] = 'x';
        c[PAGE - 1] = 'y';
        report("shared_anon_usable", c[0] == 'x' && c[PAGE - 1] == 'y');
        report("shared_anon_munmap", raw2(SYS_munmap, p, PAGE));
    }
    long q = map(rw, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1);
    report("shared_validate_anon_ok", q > 0 && (q & (PAGE - 1)) == 0);
    /* The allowed form, as a reference. */
    long a = map(rw, ANON, -1);
    report("private_anon_ok", a > 0 && (a & (PAGE - 1)) == 0);
    report("mremap", raw6(SYS_mremap, a, PAGE, 2 * PAGE, 1 /* MREMAP_MAYMOVE */, 0, 0));
    report("remap_file_pages", raw6(SYS_remap_file_pages, a, PAGE, 0, 0, 0, 0));
    report("mbind", raw6(SYS_mbind, a, PAGE, 0, 0, 0, 0));
    report("mlock", raw2(SYS_mlock, a, PAGE));
    (void)argc;
    (void)argv;
    return 0;
}
