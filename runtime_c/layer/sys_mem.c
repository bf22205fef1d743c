/* brk: the program break, grown in anonymous memory after the program's last
 * segment.  (The mmap forms the filter traps are in sys_fs.c: files.)
 *
 * @family brk: the program break, grown in anonymous memory after the program's last segment
 * @serves brk
 */
#include <linux/mman.h>

#include "../lib/sys.h"
#include "layer.h"

static uintptr_t brk_start, brk_cur, brk_mapped;

void layer_program_loaded(uintptr_t start)
{
    brk_start = brk_cur = brk_mapped = XAX_PAGE_UP(start);
}

long layer_brk(struct layer_call *c)
{
    uintptr_t want = c->a[0];
    if (want < brk_start || want - brk_start > (1UL << 40))
        return (long)brk_cur;
    uintptr_t need = XAX_PAGE_UP(want);
    if (need > brk_mapped) {
        long p = sys6(__NR_mmap, brk_mapped, need - brk_mapped, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if ((uintptr_t)p != brk_mapped) {
            if (!(p < 0 && p > -4096))
                sys2(__NR_munmap, p, need - brk_mapped);
            return (long)brk_cur; /* Linux reports failure by not moving the break */
        }
        brk_mapped = need;
    } else if (need < brk_mapped) {
        sys2(__NR_munmap, need, brk_mapped - need);
        brk_mapped = need;
    }
    brk_cur = want;
    return (long)brk_cur;
}
