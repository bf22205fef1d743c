/* Attack: every system call number, 0..1023 (the kernel's highest is far
 * below), then the same numbers with junk in the upper 32 bits of rax
 * (0x1_0000_0000|nr: the kernel truncates the number to an int), then -1,
 * 0xffffffff and 0x3fffffff.  Skipped: exit, exit_group, rt_sigreturn (they
 * end or derail the program) and the numbers in argv[4] (comma-separated: the
 * calls the kernel runs without consulting seccomp, tested on their own).
 * All six arguments are ARG: its low half is 0xdead00ad (no fd, flag, advice,
 * op or clock id the filter allows), its high half is junk, and it points into
 * a zeroed scratch mapping at a fixed address, so that the layer's emulations
 * that write to a pointer argument (uname, time, ...) find memory there.
 * The test reads which numbers were trapped from the Monitor's trace; here ARG
 * ("arg") and each result other than -ENOSYS ("r<nr>" plain, "j<nr>"
 * junk-numbered) are printed, in one write at the end.
 * argv[3]: "probe", or "baseline" (no probing: the program's own calls). */
#include <stdlib.h>
#include <sys/mman.h>
#include "hostile.h"

#define SCRATCH 0x0deadead0000L
#define ARG (SCRATCH + 0xad)
#define SCRATCH_SIZE (16 * 4096L)
#define PROBE_MAX 1024
#define ENOSYS_RET (-38L)

static char out[65536];
static size_t used;

static void put(const char *name, long nr, long r)
{
    used += snprintf(out + used, sizeof out - used, "%s%ld = %ld\n", name, nr, r);
}

static int skipped(long nr, const char *list)
{
    if (nr == SYS_exit || nr == SYS_exit_group || nr == SYS_rt_sigreturn)
        return 1;
    for (char *end; list && *list; list = *end ? end + 1 : end)
        if (strtol(list, &end, 10) == nr)
            return 1;
    return 0;
}

static long probe(long nr)
{
    memset((void *)SCRATCH, 0, SCRATCH_SIZE);
    return raw6(nr, ARG, ARG, ARG, ARG, ARG, ARG);
}

int main(int argc, char **argv)
{
    long m = raw6(SYS_mmap, SCRATCH, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (m != SCRATCH)
        return 3;
    used += snprintf(out + used, sizeof out - used, "arg = %ld\n", ARG);
    if (argc > 3 && !strcmp(argv[3], "probe")) {
        for (int junk = 0; junk < 2; junk++) {
            for (long nr = 0; nr < PROBE_MAX; nr++) {
                if (skipped(nr, argc > 4 ? argv[4] : 0))
                    continue;
                long r = probe(junk ? (1L << 32) | nr : nr);
                if (r != ENOSYS_RET)
                    put(junk ? "j" : "r", nr, r);
            }
        }
        used += snprintf(out + used, sizeof out - used, "minus1 = %ld\n", probe(-1L));
        used += snprintf(out + used, sizeof out - used, "ffffffff = %ld\n", probe(0xffffffffL));
        used += snprintf(out + used, sizeof out - used, "3fffffff = %ld\n", probe(0x3fffffffL));
    }
    used += snprintf(out + used, sizeof out - used, "done = 1\n");
    return raw3(SYS_write, 1, (long)out, used) == (long)used ? 0 : 4;
}
