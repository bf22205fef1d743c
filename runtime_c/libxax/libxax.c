/* libxax: the xabi_* symbols for programs written for Xax, calling through the
 * table that the PAL hands over in the auxiliary vector (AT_XAX_ABI). */
#include <stddef.h>
#include <sys/auxv.h>

#include "xabi.h"

static const struct xabi_table *table(void)
{
    static const struct xabi_table *t;
    if (!t) {
        t = (const struct xabi_table *)getauxval(AT_XAX_ABI);
        if (!t || t->version != XABI_TABLE_VERSION)
            __builtin_trap(); /* not running in a picoprocess */
    }
    return t;
}

void *xabi_alloc(void *start, long len) { return table()->alloc(start, len); }
int xabi_free(void *start) { return table()->free(start); }
int xabi_accept(void) { return table()->accept(); }
int xabi_open_url(const char *method, const char *url) { return table()->open_url(method, url); }
int xabi_read(int chnl, char *buf, int len) { return table()->read(chnl, buf, len); }
int xabi_write(int chnl, char *buf, int len) { return table()->write(chnl, buf, len); }
int xabi_poll(xabi_poll_fd *pfds, int npfds, bool block) { return table()->poll(pfds, npfds, block); }
int xabi_close(int chnl) { return table()->close(chnl); }
const char **xabi_args(void) { return table()->args(); }
void xabi_exit(void)
{
    table()->exit();
    __builtin_unreachable();
}
