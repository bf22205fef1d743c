/* The dispatcher, in a fixed order: bounds, disposition, handler; a call with
 * no disposition gets -ENOSYS and a trace event.  The table itself is
 * generated from the app's profile (layer_table.c, see xax_emu/syscalls/compiler.py). */
#include "layer.h"
#include "xax_protocol.h"

long layer_dispatch(struct layer_call *c)
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
