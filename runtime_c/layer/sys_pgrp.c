/* Process groups and sessions: the family's own numbers, kept by the Monitor (PGRP;
 * xax_emu/monitor/groups.py), never the host's — every process of the family stays in the
 * host session and group its entry program was started in (setsid and setpgid never reach
 * the kernel).  Without processes the picoprocess is a family of one: it leads its group and
 * its session (both its virtual pid), so setpgid of itself and setsid fail with EPERM as
 * Linux's do for a session leader, and any other pid is ESRCH.
 *
 * @family pgrp: process groups and sessions of the family (virtual ids, the Monitor's; Linux's
 *     checks and errnos); one process without processes enabled: its own group and session
 * @serves setpgid getpgid getpgrp setsid getsid
 */
#include "../lib/sys.h"
#include "layer.h"

static int32_t ask(int op, int32_t pid, const void *payload, uint32_t len)
{
    return layer_host->xaxcall(XAX_MSG_PGRP, pid, op, payload, len, 0, 0, 0);
}

/* getpgid and getsid of a family of one: itself, or nobody. */
static long alone(int32_t pid)
{
    return pid == 0 || pid == XAX_VIRTUAL_PID ? XAX_VIRTUAL_PID : -ESRCH;
}

long layer_getpgid(struct layer_call *c)
{
    int32_t pid = (int32_t)c->a[0];
    return layer_processes_enabled() ? ask(XAX_PGRP_GETPGID, pid, 0, 0) : alone(pid);
}

long layer_getpgrp(struct layer_call *c)
{
    (void)c;
    return layer_processes_enabled() ? ask(XAX_PGRP_GETPGID, 0, 0, 0) : XAX_VIRTUAL_PID;
}

long layer_getsid(struct layer_call *c)
{
    int32_t pid = (int32_t)c->a[0];
    return layer_processes_enabled() ? ask(XAX_PGRP_GETSID, pid, 0, 0) : alone(pid);
}

long layer_setpgid(struct layer_call *c)
{
    int32_t pid = (int32_t)c->a[0], pgid = (int32_t)c->a[1];
    if (layer_processes_enabled())
        return ask(XAX_PGRP_SETPGID, pid, &pgid, sizeof pgid);
    if ((pgid ? pgid : pid ? pid : XAX_VIRTUAL_PID) < 0)
        return -EINVAL;
    return alone(pid) < 0 ? -ESRCH : -EPERM; /* a session leader stays in its group */
}

long layer_setsid(struct layer_call *c)
{
    (void)c;
    return layer_processes_enabled() ? ask(XAX_PGRP_SETSID, 0, 0, 0) : -EPERM; /* it leads its group */
}
