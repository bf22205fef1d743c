/* The frame xax_direct_entry (direct.S) builds for one rewritten call: shared by
 * the assembly and the C that reads it (rewrite.c, signals.c). */
#ifndef XAX_REWRITE_FRAME_H
#define XAX_REWRITE_FRAME_H

#define PAL_DIRECT_DEFERRED 4 /* signals one call can hold back; more are dropped */
#define PAL_DIRECT_FRAME_SIZE (80 + 128 * PAL_DIRECT_DEFERRED)
/* How deep the runtime's own stack use may go below a rewritten call's frame:
 * the size of the SIGSYS stack it otherwise runs on (boot.c). */
#define PAL_RUNTIME_STACK_DEPTH (256 * 1024)

/* The generic entry (direct.S, for the site table's stubs, sites.c): numbers below
 * PAL_NR_MAX are looked up in pal_may_allow; a call it does not take returns
 * PAL_SITE_FALLBACK bytes past the stub's call, where the stub makes it as a real
 * `syscall`.  mmap is taken unless MAP_ANONYMOUS or the image fd (the forms the
 * filter may allow). */
#define PAL_NR_MAX 512
#define PAL_SITE_FALLBACK 42
#define PAL_MAP_ANONYMOUS 0x20
#define PAL_IMAGE_FD 1025

#ifndef __ASSEMBLER__
#include <stdint.h>

#include "xax_frame.h"

struct pal_direct_frame {
    uint64_t marker;    /* xax_direct_secret ^ the frame's address while the runtime may hold state */
    uint64_t nr;
    uint64_t a[6];
    int64_t result;
    uint64_t ndeferred;
    siginfo_t deferred[PAL_DIRECT_DEFERRED];
};
_Static_assert(sizeof(struct pal_direct_frame) == PAL_DIRECT_FRAME_SIZE, "direct.S's frame");
_Static_assert(__builtin_offsetof(struct pal_direct_frame, result) == 64, "direct.S's frame");
_Static_assert(__builtin_offsetof(struct pal_direct_frame, ndeferred) == 72, "direct.S's frame");
_Static_assert(PAL_DIRECT_FRAME_SIZE % 16 == 0, "direct.S keeps the stack aligned");

extern uint64_t xax_direct_secret;
extern uint64_t pal_may_allow[PAL_NR_MAX / 64];
extern const char xax_direct_generic[];
extern const char xax_direct_entry[], xax_direct_marked[], xax_direct_unmarked[], xax_direct_end[];
extern const char xax_direct_trap_ret[];
long pal_direct(struct pal_direct_frame *f);
void pal_direct_deliver(struct pal_direct_frame *f);
long pal_direct_trap(struct pal_direct_frame *f);
#endif
#endif
