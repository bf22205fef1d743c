/* The dispatcher, in a fixed order: bounds, disposition, handler; a call with
 * no disposition gets -ENOSYS and a trace event.  The table itself is
 * generated from the app's profile (layer_table.c, see xax_emu/syscalls/compiler.py). */
#include "layer.h"
#include "../lib/lock.h"
#include <asm/unistd.h>
#include <linux/signal.h>

#include "xax_frame.h"
#include "xax_protocol.h"

/* The layer's state (file table, VFS, brk, signal tables) is shared by the
 * program's threads: one call at a time runs a handler.  A handler that waits
 * without touching that state (a sleep) lets go for the wait. */
static xax_lock state_lock;

void layer_wait_begin(void)
{
    xax_lock_give(&state_lock);
}

void layer_wait_end(void)
{
    xax_lock_take(&state_lock);
}

static long dispatch_locked(struct layer_call *c);

/* Set once a call arrives from a thread other than the first: only the first
 * has the SIGSYS stack (new threads start without one), and the kernel says in
 * the frame which stack the handler runs on.  From then on a wait for the
 * Monitor's channels must not hold the channel (chan.c). */
int layer_threads_seen;

long layer_dispatch(struct layer_call *c)
{
    /* glibc's pthread_create tries clone3 first (refused, then clone): that
     * tells before the thread exists; musl's first sign is the new thread's
     * own first call, moments after it starts. */
    if (c->nr == __NR_clone3 || (c->uc && (((struct ucontext *)c->uc)->uc_stack.ss_flags & SS_DISABLE)))
        __atomic_store_n(&layer_threads_seen, 1, __ATOMIC_RELAXED);
    xax_lock_take(&state_lock);
    long r = dispatch_locked(c);
    xax_lock_give(&state_lock);
    return r;
}

static long dispatch_locked(struct layer_call *c)
{
    int tracing = layer_host->flags & XAX_BOOT_FLAG_TRACE;
    if (c->nr < 0 || c->nr >= LAYER_NR_MAX) {
        layer_host->trace((int)c->nr, XAX_TRACE_MISSING);
        return -ENOSYS;
    }
    const struct layer_entry *e = &layer_table[c->nr];
    switch (e->kind) {
    case LAYER_EMULATE: {
        long r = e->handler(c);
        if (tracing) /* after the call: an error answer is the article's failure-oblivious case */
            layer_host->trace((int)c->nr, r < 0 && r > -4096 ? XAX_TRACE_EMULATED_FAILED : XAX_TRACE_EMULATED);
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
