/* Rewriting system call sites into direct calls of the layer (rewrite.c). */
#ifndef XAX_PAL_REWRITE_H
#define XAX_PAL_REWRITE_H
#include <stdint.h>

#include "xax_layer.h"

/* The PAL setting rewrite=N,N,...: on, with the numbers the filter may allow
 * (never rewritten); absent: every call traps (run --no-rewrite). */
void pal_rewrite_init(const char *setting, const uint8_t random[32]);
int pal_rewrite_enabled(void);
/* After a trapped call of the program's has been answered: rewrite its site if it can. */
void pal_rewrite_site(long nr, uintptr_t rip, uint64_t rax);

/* sites.c: the image's site table (.xax/sites), and the windows it names rewritten
 * as executable bytes of the image are mapped (by the loader, by the layer's mmap). */
void pal_sites_load(const void *data, uint64_t size);
void pal_sites_mapped(uintptr_t addr, uint64_t len, uint64_t image_off, uint64_t file_off, uint64_t file_size,
                      uint64_t prot);
void pal_sites_elf(const unsigned char *img, unsigned long size, long file_off, uintptr_t bias);
uint64_t pal_sites_applied(void);

struct pal_rewrite_stats {
    uint64_t trapped;   /* calls that arrived by SIGSYS */
    uint64_t direct;    /* calls that arrived through a rewritten site */
    uint64_t sites;     /* sites rewritten */
};
struct pal_rewrite_stats pal_rewrite_stats(void);

/* sigsys.c: one system call of the program's, however it arrived. */
long pal_syscall(struct layer_call *c);

/* signals.c: the program's handlers through xax_signal_entry from now on; the
 * SIGSYS frame of pal_direct_trap becomes the handler of f's first held signal. */
struct pal_direct_frame;
struct ucontext;
void pal_signals_wrap(void);
void pal_deliver_deferred(struct ucontext *uc, struct pal_direct_frame *f);
#endif
