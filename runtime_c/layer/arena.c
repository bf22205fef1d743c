/* The family's arena (arena.h, docs/processes.md).
 *
 * The boot block maps it (MAP_SHARED | MAP_ANONYMOUS, before the seal: the filter allows no
 * shared mapping) when processes are enabled; every process forked from the entry program
 * has it at the same address, so the pointers the vfs keeps there mean the same in each.
 * A single process (processes off) has no arena, and none of this costs it anything.
 *
 * Memory: blocks of a power of two of pages, each size with its free list, carved from the
 * arena's start upwards.  The vfs asks for 64 KiB chunks (its small objects) and for its
 * larger blocks (RAM files' bytes grow by doubling, which these sizes fit).
 *
 * The lock: one word, 0 free, else the virtual pid of the process holding it.  Nobody sleeps
 * holding it (the layer lets go before every wait and every channel transfer); a waiter spins
 * a little, then naps 50 us at a time on a private futex nothing wakes (no shared futex
 * reaches the kernel: issue 13; sched_yield is not on the allowlist, and a nap needs nothing
 * new).  A process killed while holding it (SIGKILL: the SIGSYS handler blocks every other
 * signal) would hold it forever, so every 2048 naps a waiter asks the Monitor whether the
 * holder lives (KILL with signal 0); once the Monitor answers ESRCH (it has the holder's
 * exit), the waiter takes the lock over and counts it.  What the dead process was changing
 * may be half changed: the family's own files, as a hostile member could spoil them anyway.
 *
 * Every byte here is the family's: a member may scribble on all of it (it is ordinary
 * writable memory).  Nothing outside the family reads it — the Monitor never maps it — so a
 * spoiled arena can crash or confuse only the family's own processes. */
#include "arena.h"

#include <linux/futex.h>
#include <linux/time_types.h>

#include "../lib/sys.h"
#include "layer.h"
#include "xax_protocol.h"

#define ARENA_PAGE 4096UL
#define ARENA_CLASSES 40 /* 4 KiB .. 2^51 bytes */

struct arena_head {
    int32_t lock;       /* 0, or the holder's virtual pid */
    uint32_t steals;    /* locks taken over from a dead holder */
    uint32_t forked;    /* 1 once any member forked (family_forked) */
    uint32_t pad;
    uint64_t top;       /* bytes of the arena carved so far */
    void *free[ARENA_CLASSES];
};

static struct arena_head *head;
static uint64_t arena_size;
/* Whether this process holds the lock.  Only the thread holding the layer's lock touches it,
 * and every thread lets go of the family's lock before it lets go of the layer's (dispatch.c):
 * so the family's lock is held only by a thread that holds the layer's. */
static int held;

int arena_on(void)
{
    if (!head && layer_host->arena && layer_host->arena_size > ARENA_PAGE) {
        head = layer_host->arena;
        arena_size = layer_host->arena_size;
        if (head->top == 0)
            head->top = ARENA_PAGE; /* the head's own page */
    }
    return head != 0;
}

static int size_class(size_t n)
{
    int c = 0;
    while ((ARENA_PAGE << c) < n && c < ARENA_CLASSES - 1)
        c++;
    return c;
}

void *arena_alloc(size_t n)
{
    int c = size_class(n);
    size_t size = ARENA_PAGE << c;
    if (size < n)
        return 0;
    void *p = head->free[c];
    if (p) {
        head->free[c] = *(void **)p;
        return p;
    }
    if (head->top > arena_size || size > arena_size - head->top)
        return 0;
    p = (char *)head + head->top;
    head->top += size;
    return p;
}

void arena_release(void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p, base = (uintptr_t)head;
    if (!p || a % ARENA_PAGE || a < base + ARENA_PAGE || a >= base + arena_size)
        return; /* not a block of the arena: a bug, or a scribbled pointer; never freed */
    int c = size_class(n);
    *(void **)p = head->free[c];
    head->free[c] = p;
}

/* whether the process holding the lock has ended (the Monitor has its exit) */
static int holder_gone(int32_t holder)
{
    return layer_host->xaxcall(XAX_MSG_KILL, holder, 0, 0, 0, 0, 0, 0) == -ESRCH;
}

void family_lock(void)
{
    if (!head && !arena_on())
        return;
    if (held)
        return;
    held = 1;
    int32_t me = layer_vpid();
    for (unsigned tries = 0;; tries++) {
        int32_t seen = 0;
        if (__atomic_compare_exchange_n(&head->lock, &seen, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
        if (tries < 100) {
            __builtin_ia32_pause();
            continue;
        }
        struct __kernel_timespec nap = {0, 50 * 1000};
        sys4(__NR_futex, (long)&layer.never_woken, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, (long)&nap);
        if (tries % 2048 == 0 && (seen == me || holder_gone(seen)) &&
            __atomic_compare_exchange_n(&head->lock, &seen, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            __atomic_fetch_add(&head->steals, 1, __ATOMIC_RELAXED);
            return;
        }
    }
}

int family_unlock(void)
{
    if (!head || !held)
        return 0;
    held = 0;
    __atomic_store_n(&head->lock, 0, __ATOMIC_RELEASE);
    return 1;
}

uint32_t family_lock_steals(void)
{
    return head ? head->steals : 0;
}

void family_mark_forked(void)
{
    if (arena_on())
        __atomic_store_n(&head->forked, 1, __ATOMIC_SEQ_CST);
}

int family_forked(void)
{
    return arena_on() && __atomic_load_n(&head->forked, __ATOMIC_RELAXED);
}
