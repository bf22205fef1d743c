/* The dispatcher, in a fixed order: bounds, disposition, handler; a call with
 * no disposition gets -ENOSYS and a trace event.  The table itself is
 * generated from the app's profile (layer_table.c, see xax_emu/syscalls/compiler.py). */
#include <linux/futex.h>
#include <linux/time_types.h>

#include "arena.h"
#include "layer.h"
#include "../lib/sys.h"
#include "xax_protocol.h"

/* -- exec of a multithreaded process -------------------------------------------------------
 * Linux's exec ends every other thread of the process before the new program runs (de_thread).
 * The layer never sees the threads a program starts (pthread_create's clone reaches the kernel),
 * so the Monitor, which can list them, signals each one (EXEC: xax_emu/monitor/threads.py).  A
 * thread running the program's code ends in the PAL's fault handler (pal/fault.c).  A thread
 * inside the runtime lets the signal pass and is ended here, at the layer's lock, which the
 * exec holds throughout:
 * - one coming for the lock while the threads are being ended ends at once (it holds nothing);
 * - one held back ("parked": waiting for the lock, or in a wait that let go of it) finds, when it
 *   gets the lock back after the exec, its exec generation behind: its wait answers -EINTR, its
 *   call gives up (letting go of what it holds: a pipe's reference, ...), and the thread ends as
 *   the call returns instead of returning to a program that is gone, as the kernel drops the
 *   call of a thread de_thread kills.
 * The exec goes on once every thread but its own has ended or is parked. */
static __attribute__((noreturn)) void end_this_thread(void)
{
    for (;;)
        sys1(__NR_exit, 0); /* this thread only; the kernel clears its CLONE_CHILD_CLEARTID word */
}

static uint32_t park(void)
{
    uint32_t gen = __atomic_load_n(&layer.exec_gen, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&layer.parked, 1, __ATOMIC_SEQ_CST);
    return gen;
}

/* The layer's lock just taken: 0, or -EINTR if the process exec'd since gen. */
static long unpark(uint32_t gen)
{
    __atomic_sub_fetch(&layer.parked, 1, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&layer.exec_gen, __ATOMIC_SEQ_CST) != gen ? -EINTR : 0;
}

/* The layer's lock held, the new program loaded: ending_threads is set before the generation
 * moves, so a thread that saw the new generation sees ending_threads too (and ends); one that
 * saw the old one ends at the flag or when it unparks. */
void layer_end_other_threads(const char *path, uint32_t len)
{
    __atomic_store_n(&layer.ending_threads, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&layer.exec_gen, 1, __ATOMIC_SEQ_CST);
    int32_t threads = layer_host->xaxcall(XAX_MSG_EXEC, -1, 0, path, len, 0, 0, 0);
    while (threads - 1 > __atomic_load_n(&layer.parked, __ATOMIC_SEQ_CST)) {
        struct __kernel_timespec nap = {0, 1000 * 1000}; /* the signalled threads' turn to end */
        sys4(__NR_futex, (long)&layer.never_woken, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, (long)&nap);
        threads = layer_host->xaxcall(XAX_MSG_EXEC, -1, XAX_EXEC_AGAIN, 0, 0, 0, 0, 0);
    }
    __atomic_store_n(&layer.ending_threads, 0, __ATOMIC_SEQ_CST);
}

void layer_threads_forked(void)
{
    layer.parked = 0; /* the parent's held-back threads are not the child's */
    layer.ending_threads = 0;
}

/* The layer's state (state.h) is shared by the program's threads: one call at
 * a time runs a handler.  A handler that waits without touching that state (a
 * sleep) lets go for the wait. */
uint32_t layer_wait_begin(void)
{
    uint32_t gen = park();
    family_unlock();
    xax_lock_give(&layer.lock);
    return gen;
}

long layer_wait_end(uint32_t gen)
{
    xax_lock_take(&layer.lock);
    family_lock();
    return unpark(gen);
}

/* A nap that leaves the family's lock as it is (let go already: chan.c) */
uint32_t layer_nap_begin(void)
{
    uint32_t gen = park();
    xax_lock_give(&layer.lock);
    return gen;
}

long layer_nap_end(uint32_t gen)
{
    xax_lock_take(&layer.lock);
    return unpark(gen);
}

static long dispatch_locked(struct layer_call *c);

long layer_dispatch(struct layer_call *c)
{
    uint32_t gen = __atomic_load_n(&layer.exec_gen, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&layer.ending_threads, __ATOMIC_SEQ_CST))
        end_this_thread(); /* another thread is exec'ing: this one ends, as Linux ends it */
    __atomic_add_fetch(&layer.parked, 1, __ATOMIC_SEQ_CST);
    xax_lock_take(&layer.lock);
    if (unpark(gen) < 0) { /* it came before the exec: it holds nothing yet */
        xax_lock_give(&layer.lock);
        end_this_thread();
    }
    family_lock(); /* the family's files (arena.c): after the layer's lock, let go before it */
    long r = dispatch_locked(c);
    family_unlock();
    xax_lock_give(&layer.lock);
    int execd = (c->nr == __NR_execve || c->nr == __NR_execveat) && r == 0; /* the exec's own thread */
    if (!execd && __atomic_load_n(&layer.exec_gen, __ATOMIC_SEQ_CST) != gen)
        end_this_thread(); /* it waited across another thread's exec: its program is gone */
    return r;
}

static long dispatch_locked(struct layer_call *c)
{
    int tracing = layer_host->flags & XAX_BOOT_FLAG_TRACE;
    if (c->nr < 0 || c->nr >= XAX_LAYER_NR_MAX) {
        layer_host->trace((int)c->nr, XAX_TRACE_MISSING);
        return -ENOSYS;
    }
    if (c->nr == __NR_exit_group) /* it traps only under run --export-ram: the layer's duty, whatever the profile */
        layer_exit_group(c);
    const struct layer_entry *e = &layer_table[c->nr];
    switch (e->kind) {
    case LAYER_EMULATE: {
        long r = e->handler(c);
        if (tracing) /* after the call: an error answer is the article's failure-oblivious case */
            layer_host->trace((int)c->nr, sys_failed(r) ? XAX_TRACE_EMULATED_FAILED : XAX_TRACE_EMULATED);
        return r;
    }
    case LAYER_FORWARD:
        if (tracing)
            layer_host->trace((int)c->nr, XAX_TRACE_FORWARDED);
        return layer_host->forward(c);
    case LAYER_REJECT:
        if (tracing)
            layer_host->trace((int)c->nr, XAX_TRACE_REJECTED);
        return e->result;
    default:
        layer_host->trace((int)c->nr, XAX_TRACE_MISSING);
        return -ENOSYS;
    }
}
