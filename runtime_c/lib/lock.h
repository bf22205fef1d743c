/* A mutex for the picoprocess's threads: the PAL's channel and buffers, the
 * layer's state (VFS, brk, signal tables).  Freestanding (the runtime has no
 * libc): a futex word, 0 free, 1 held, 2 held with waiters (Drepper's "Futexes
 * are tricky", mutex 2).  The futex calls are private wait/wake, which the
 * seccomp allowlist lets through, so taking a lock never traps — it must not:
 * the SIGSYS handler runs with SIGSYS blocked.
 *
 * Not recursive: a thread must not take a lock it holds.  Lock order: the
 * layer's before the PAL's (the layer calls the PAL, never the reverse). */
#ifndef XAX_LOCK_H
#define XAX_LOCK_H

#include <linux/futex.h>

#include "sys.h"

typedef struct {
    int word;
} xax_lock;

static inline void xax_lock_take(xax_lock *l)
{
    int c = 0;
    if (__atomic_compare_exchange_n(&l->word, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    if (c != 2)
        c = __atomic_exchange_n(&l->word, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        sys4(__NR_futex, (long)&l->word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 2, 0);
        c = __atomic_exchange_n(&l->word, 2, __ATOMIC_ACQUIRE);
    }
}

/* 1 if taken, 0 if another thread holds it */
static inline int xax_lock_try(xax_lock *l)
{
    int c = 0;
    return __atomic_compare_exchange_n(&l->word, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void xax_lock_give(xax_lock *l)
{
    if (__atomic_exchange_n(&l->word, 0, __ATOMIC_RELEASE) == 2)
        sys3(__NR_futex, (long)&l->word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1);
}

#endif
