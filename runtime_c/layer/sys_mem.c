/* brk: the program break, grown in anonymous memory after the program's last
 * segment.  (The mmap forms the filter traps are in sys_fs.c: files.)
 *
 * @family brk: the program break, grown in anonymous memory after the program's last segment
 * @serves brk
 */
#include <linux/mman.h>

#include "../lib/sys.h"
#include "layer.h"

void layer_program_loaded(uintptr_t start)
{
    layer.brk.start = layer.brk.cur = layer.brk.mapped = XAX_PAGE_UP(start);
}

long layer_brk(struct layer_call *c)
{
    uintptr_t want = c->a[0];
    if (want < layer.brk.start || want - layer.brk.start > (1UL << 40))
        return (long)layer.brk.cur;
    uintptr_t need = XAX_PAGE_UP(want);
    if (need > layer.brk.mapped) {
        long p = sys6(__NR_mmap, layer.brk.mapped, need - layer.brk.mapped, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if ((uintptr_t)p != layer.brk.mapped) {
            if (!sys_failed(p))
                sys2(__NR_munmap, p, need - layer.brk.mapped);
            return (long)layer.brk.cur; /* Linux reports failure by not moving the break */
        }
        layer.brk.mapped = need;
    } else if (need < layer.brk.mapped) {
        sys2(__NR_munmap, need, layer.brk.mapped - need);
        layer.brk.mapped = need;
    }
    layer.brk.cur = want;
    return (long)layer.brk.cur;
}
