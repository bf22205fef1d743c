/* Attack: a covert channel between two unrelated picoprocesses through a
 * futex.  A non-private futex on a file-backed page is keyed by the file's
 * inode and offset, not by the process: two picoprocesses that map the same
 * file (every one maps the PAL's code, xax-pico; two runs of an image from the
 * HTTP cache map its one body file) would name the same futex.  One instance
 * waits on such a word with a timeout, another wakes it over and over.
 *
 * argv[3]: "wait" or "wake"; argv[4]: the word, "pal" (a word of the PAL's
 * code: the first function of the xabi table) or "image" (the first word of the
 * image fd, mapped privately as the filter allows).
 * The waiter prints "waiting" when it starts, then wait = the futex's answer
 * (0: woken, -ETIMEDOUT: nobody reached it).  The waker prints woken = how
 * many waiters its FUTEX_WAKEs woke in all (it stops at the first). */
#include <linux/futex.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>
#include "hostile.h"
#include "xabi.h"
#include "xax_protocol.h"

static const unsigned *word_of(const char *which)
{
    if (strcmp(which, "pal") == 0) {
        const struct xabi_table *t = (const struct xabi_table *)getauxval(AT_XAX_ABI);
        return (const unsigned *)((uintptr_t)t->alloc & ~(uintptr_t)3);
    }
    long m = raw6(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, XAX_IMAGE_FD, 0);
    if (m < 0 && m > -4096) {
        report("mmap_image", m);
        return 0;
    }
    return (const unsigned *)m;
}

int main(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    const unsigned *word = word_of(argv[4]);
    if (!word)
        return 3;
    if (strcmp(argv[3], "wait") == 0) {
        struct timespec ts = {3, 0};
        printf("waiting\n");
        fflush(stdout);
        report("wait", raw6(SYS_futex, (long)word, FUTEX_WAIT, *word, (long)&ts, 0, 0));
        return 0;
    }
    long woken = 0;
    struct timespec pause = {0, 1000 * 1000};
    for (int i = 0; i < 5000 && woken == 0; i++) {
        long r = raw6(SYS_futex, (long)word, FUTEX_WAKE, 0x7fffffff, 0, 0, 0);
        if (r < 0) {
            report("wake_error", r);
            return 4;
        }
        woken += r;
        nanosleep(&pause, 0);
    }
    report("woken", woken);
    return 0;
}
