/* The program's view of its resource limits.
 *
 * The real limits were set by the boot block from the Monitor's and cannot be
 * changed from inside.  The program sees a table of its own: the usual Linux
 * defaults (8 MiB stack, 1024 fds — the VFS's fd table, no core files), which
 * it may lower, and raise again up to the hard limit, as Linux allows an
 * unprivileged process (the table it starts with: state.c).  Only its own pid
 * (0 or the virtual pid) is accepted.
 *
 * @family rlimits: the program's own table of resource limits (Linux's defaults; lowered and
 *     raised up to the hard limit as an unprivileged process may); the real limits are the
 *     Monitor's
 * @serves prlimit64 getrlimit setrlimit
 */
#include <linux/resource.h>

#include "../lib/sys.h"
#include "layer.h"
#include "user.h"

/* new: the program's new limits (copied in), or 0; old: where the previous ones go, or 0. */
static long limit(int resource, const struct rlimit64_k *new, uint64_t old)
{
    if (resource < 0 || resource >= RLIM_NLIMITS)
        return -EINVAL;
    struct rlimit64_k prev = layer.rlimits[resource];
    if (new) {
        if (new->cur > new->max)
            return -EINVAL;
        if (new->max > prev.max)
            return -EPERM; /* raising a hard limit needs a privilege the program does not have */
        layer.rlimits[resource] = *new;
    }
    return old ? user_out(old, &prev, sizeof prev) : 0;
}

/* The new limits are copied in first, as Linux does (before it even looks the pid up). */
long layer_prlimit64(struct layer_call *c)
{
    struct rlimit64_k want;
    if (c->a[2] && user_in(&want, c->a[2], sizeof want) < 0)
        return -EFAULT;
    int pid = (int)c->a[0];
    if (pid != 0 && pid != XAX_VIRTUAL_PID)
        return -ESRCH;
    return limit((int)c->a[1], c->a[2] ? &want : 0, c->a[3]);
}

/* getrlimit and setrlimit take struct rlimit, which on x86-64 is the same two 64-bit words. */
long layer_getrlimit(struct layer_call *c)
{
    return limit((int)c->a[0], 0, c->a[1]);
}

long layer_setrlimit(struct layer_call *c)
{
    struct rlimit64_k want;
    if (user_in(&want, c->a[1], sizeof want) < 0)
        return -EFAULT;
    return limit((int)c->a[0], &want, 0);
}
