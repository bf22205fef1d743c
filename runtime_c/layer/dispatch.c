/* The dispatcher, in a fixed order: bounds, disposition, handler; a call with
 * no disposition gets -ENOSYS and a trace event.  The table itself is
 * generated from the app's profile (layer_table.c, see xax_emu/syscalls/compiler.py). */
#include "arena.h"
#include "layer.h"
#include "../lib/sys.h"
#include "xax_protocol.h"

/* The layer's state (state.h) is shared by the program's threads: one call at
 * a time runs a handler.  A handler that waits without touching that state (a
 * sleep) lets go for the wait. */
void layer_wait_begin(void)
{
    family_unlock();
    xax_lock_give(&layer.lock);
}

void layer_wait_end(void)
{
    xax_lock_take(&layer.lock);
    family_lock();
}

/* A nap that leaves the family's lock as it is (let go already: chan.c) */
void layer_nap_begin(void)
{
    xax_lock_give(&layer.lock);
}

void layer_nap_end(void)
{
    xax_lock_take(&layer.lock);
}

static long dispatch_locked(struct layer_call *c);

long layer_dispatch(struct layer_call *c)
{
    xax_lock_take(&layer.lock);
    family_lock(); /* the family's files (arena.c): after the layer's lock, let go before it */
    long r = dispatch_locked(c);
    family_unlock();
    xax_lock_give(&layer.lock);
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
