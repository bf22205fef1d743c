/* The shared futex operations the filter traps, made as private ones (futex.c). */
#ifndef XAX_PAL_FUTEX_H
#define XAX_PAL_FUTEX_H
#include <stdint.h>

/* Whether a futex op (the argument as the program passed it) is one of them. */
int pal_futex_is_shared(long op);
/* The answer to futex(a[0], a[1], ...) for such an op. */
long pal_futex_shared(const uint64_t a[6]);
#endif
