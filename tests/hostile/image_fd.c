/* Attack: the image fd (XAX_IMAGE_FD), which the filter lets anyone map
 * privately.  The allowed forms (private read, read-write, exec, MAP_FIXED, the
 * fd with junk above the int) must only ever give the picoprocess its own
 * copy-on-write view: writes through them, mprotect to writable and
 * MADV_DONTNEED never reach the image.  Every other use of the fd traps to the
 * layer, which knows no such fd: shared mappings (MAP_SHARED, with PROT_WRITE,
 * MAP_SHARED_VALIDATE), private mappings with other flags or prot bits,
 * read/write/pread/pwrite, ftruncate, fallocate, fcntl (seals), fstat, dup, dup2
 * onto it, close; and private mappings of the fds around it and of the channel.
 * At the end the image, mapped afresh, is byte for byte what it was. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <asm-generic/mman-common.h>
#include "hostile.h"
#include "xax_protocol.h"

#define PAGE 4096L
#define IMG XAX_IMAGE_FD

static long map(long addr, long prot, long flags, long fd)
{
    return raw6(SYS_mmap, addr, PAGE, prot, flags, fd, 0);
}

static int mapped(long p)
{
    return p > 0 && (p & (PAGE - 1)) == 0;
}

int main(int argc, char **argv)
{
    const long rw = PROT_READ | PROT_WRITE;
    static unsigned char before[PAGE];
    long p = map(0, PROT_READ, MAP_PRIVATE, IMG);
    report("private_read", mapped(p));
    if (!mapped(p))
        return 1;
    memcpy(before, (void *)p, PAGE);
    report("is_the_tar", memcmp(before + 257, "ustar", 5) == 0);

    /* The allowed forms: each a private view. */
    long w = map(0, rw, MAP_PRIVATE, IMG);
    report("private_rw", mapped(w));
    memset((void *)w, 'X', PAGE);
    report("private_write_stays", ((unsigned char *)w)[0] == 'X' && ((unsigned char *)p)[0] == before[0]);
    report("dontneed", raw3(SYS_madvise, w, PAGE, MADV_DONTNEED));
    report("dontneed_shows_the_image", memcmp((void *)w, before, PAGE) == 0);
    long q = map(0, PROT_READ, MAP_PRIVATE, IMG);
    report("mprotect_rw", raw3(SYS_mprotect, q, PAGE, rw));
    memset((void *)q, 'Y', PAGE);
    report("exec", mapped(map(0, PROT_READ | PROT_EXEC, MAP_PRIVATE, IMG)));
    long anon = map(0, rw, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    report("fixed", map(anon, rw, MAP_PRIVATE | MAP_FIXED, IMG) == anon);
    ((unsigned char *)anon)[0] = 'Z';
    report("populate", mapped(map(0, PROT_READ, MAP_PRIVATE | MAP_POPULATE, IMG)));
    report("junk_above_the_fd", mapped(map(0, PROT_READ, MAP_PRIVATE, IMG | (1L << 32))));

    /* Everything else traps, and the layer knows no such fd. */
    report("shared_read", map(0, PROT_READ, MAP_SHARED, IMG));
    report("shared_rw", map(0, rw, MAP_SHARED, IMG));
    report("shared_validate", map(0, PROT_READ, MAP_SHARED_VALIDATE, IMG));
    report("shared_junk_above_the_fd", map(0, rw, MAP_SHARED, IMG | (1L << 32)));
    report("private_stack", map(0, PROT_READ, MAP_PRIVATE | MAP_STACK, IMG));
    report("private_growsdown", map(0, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, IMG));
    report("private_32bit", map(0, PROT_READ, MAP_PRIVATE | MAP_32BIT, IMG));
    report("private_locked", map(0, PROT_READ, MAP_PRIVATE | MAP_LOCKED, IMG));
    report("private_hugetlb", map(0, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, IMG));
    report("private_flags_upper_bit", map(0, PROT_READ, MAP_PRIVATE | (1L << 32), IMG));
    report("prot_sem", map(0, PROT_READ | PROT_SEM, MAP_PRIVATE, IMG));
    report("fd_below", map(0, PROT_READ, MAP_PRIVATE, IMG - 1));
    report("fd_above", map(0, PROT_READ, MAP_PRIVATE, IMG + 1));
    report("fd_channel", map(0, PROT_READ, MAP_PRIVATE, XAX_CHANNEL_FD));
    char buf[16];
    report("read", raw3(SYS_read, IMG, (long)buf, sizeof buf));
    report("pread", raw4(SYS_pread64, IMG, (long)buf, sizeof buf, 0));
    report("write", raw3(SYS_write, IMG, (long)"x", 1));
    report("pwrite", raw4(SYS_pwrite64, IMG, (long)"x", 1, 0));
    report("ftruncate", raw2(SYS_ftruncate, IMG, 0));
    report("fallocate_punch_hole", raw4(SYS_fallocate, IMG, 3 /* PUNCH_HOLE|KEEP_SIZE */, 0, PAGE));
    report("fcntl_add_seals", raw3(SYS_fcntl, IMG, 1033 /* F_ADD_SEALS */, 8 /* F_SEAL_WRITE */));
    report("fcntl_getfl", raw3(SYS_fcntl, IMG, F_GETFL, 0));
    report("fstat", raw2(SYS_fstat, IMG, (long)malloc(256)));
    report("dup", raw1(SYS_dup, IMG));
    report("dup2_onto", raw2(SYS_dup2, 1, IMG));
    report("madvise_remove", raw3(SYS_madvise, p, PAGE, MADV_REMOVE));
    report("close", raw1(SYS_close, IMG));
    report("private_read_after_close", mapped(map(0, PROT_READ, MAP_PRIVATE, IMG)));

    long again = map(0, PROT_READ, MAP_PRIVATE, IMG);
    report("intact", mapped(again) && memcmp((void *)again, before, PAGE) == 0 &&
                         memcmp((void *)p, before, PAGE) == 0);
    (void)argc;
    (void)argv;
    return 0;
}
