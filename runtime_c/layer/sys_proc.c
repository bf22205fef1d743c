/* Process identity: a picoprocess is one process with one thread, and it sees
 * a fixed, virtual identity rather than the host's. */
#include <linux/utsname.h>

#include "../lib/sys.h"
#include "layer.h"

#define XAX_VIRTUAL_PID 100

long layer_getpid(struct layer_call *c)
{
    (void)c;
    return XAX_VIRTUAL_PID;
}

long layer_set_tid_address(struct layer_call *c)
{
    (void)c; /* nothing clears it: there is no other thread to wake */
    return XAX_VIRTUAL_PID;
}

static void field(char *dst, const char *src)
{
    memset(dst, 0, __NEW_UTS_LEN + 1);
    memcpy(dst, src, strlen(src));
}

long layer_uname(struct layer_call *c)
{
    struct new_utsname *u = (struct new_utsname *)c->a[0];
    if (!u)
        return -EFAULT;
    field(u->sysname, "Linux");
    field(u->nodename, "xax");
    field(u->release, "6.1.0-xax");
    field(u->version, "#1 SMP xax-emu picoprocess");
    field(u->machine, "x86_64");
    field(u->domainname, "(none)");
    return 0;
}
