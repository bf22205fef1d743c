/* The dispatcher: bounds, disposition, handler; anything without a handler
 * gets -ENOSYS and a trace event.  The table is indexed by the kernel's
 * syscall numbers (from <asm/unistd.h>, never typed by hand).
 *
 * This is the runtime issue's minimal table; the profile compiler will
 * generate the complete one. */
#include <asm/unistd.h>

#include "layer.h"
#include "xax_protocol.h"
#include "xax_runtime.h"

#define NR_MAX 512

static const layer_handler table[NR_MAX] = {
    [__NR_read] = layer_read,
    [__NR_write] = layer_write,
    [__NR_readv] = layer_readv,
    [__NR_writev] = layer_writev,
    [__NR_ioctl] = layer_ioctl,
    [__NR_close] = layer_close,
    [__NR_fcntl] = layer_fcntl,
    [__NR_fstat] = layer_fstat,
    [__NR_newfstatat] = layer_newfstatat,
    [__NR_brk] = layer_brk,
    [__NR_mmap] = layer_mmap,
    [__NR_getpid] = layer_getpid,
    [__NR_gettid] = layer_getpid,
    [__NR_set_tid_address] = layer_set_tid_address,
    [__NR_uname] = layer_uname,
    [__NR_rt_sigprocmask] = layer_rt_sigprocmask,
    [__NR_gettimeofday] = layer_gettimeofday,
    [__NR_time] = layer_time,
    [__NR_clock_getres] = layer_clock_getres,
    [__NR_nanosleep] = layer_nanosleep,
    [__NR_clock_nanosleep] = layer_clock_nanosleep,
};

static uint32_t missing_count[NR_MAX];

long layer_dispatch(struct layer_call *c)
{
    if (c->nr >= 0 && c->nr < NR_MAX && table[c->nr]) {
        if (xax_boot->flags & XAX_BOOT_FLAG_TRACE)
            pal_trace((int)c->nr, XAX_TRACE_EMULATED);
        return table[c->nr](c);
    }
    if (c->nr >= 0 && c->nr < NR_MAX)
        missing_count[c->nr]++;
    pal_trace((int)c->nr, XAX_TRACE_MISSING);
    return -ENOSYS;
}
