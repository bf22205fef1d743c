/* Setting the process's ids: the identity is the profile's virtual user, fixed for the whole
 * run, so a call may only keep it — what an unprivileged process may do on Linux with ids that
 * are all one value.  posix_spawn's POSIX_SPAWN_RESETIDS (make spawns its commands with it)
 * sets the effective ids to the real ones, which keeps them here.
 *
 * @family setids: set*uid and set*gid that keep the virtual user's ids (each given id -1, the
 *     real or the effective one): 0;
 *     any other id EPERM (the identity is fixed); the supplementary groups: none (getgroups 0),
 *     and setgroups EPERM whatever the list, as Linux answers a process without CAP_SETGID
 * @serves setuid setgid setreuid setregid setresuid setresgid getgroups setgroups
 */
#include "layer.h"

/* whether id (as the kernel reads it: 32 bits) keeps the ids: -1 (unchanged), real or effective */
static int keeps(uint64_t arg, uint32_t real, uint32_t effective)
{
    uint32_t id = (uint32_t)arg;
    return id == (uint32_t)-1 || id == real || id == effective;
}

static long set_ids(struct layer_call *c, int n, uint32_t real, uint32_t effective)
{
    for (int i = 0; i < n; i++)
        if (!keeps(c->a[i], real, effective))
            return -EPERM;
    return 0;
}

long layer_setuid(struct layer_call *c)
{
    if ((uint32_t)c->a[0] == (uint32_t)-1)
        return -EINVAL; /* setuid(-1): not an id */
    return set_ids(c, 1, layer_knobs.identity.uid, layer_knobs.identity.euid);
}

long layer_setgid(struct layer_call *c)
{
    if ((uint32_t)c->a[0] == (uint32_t)-1)
        return -EINVAL;
    return set_ids(c, 1, layer_knobs.identity.gid, layer_knobs.identity.egid);
}

long layer_setreuid(struct layer_call *c)
{
    return set_ids(c, 2, layer_knobs.identity.uid, layer_knobs.identity.euid);
}

long layer_setregid(struct layer_call *c)
{
    return set_ids(c, 2, layer_knobs.identity.gid, layer_knobs.identity.egid);
}

long layer_setresuid(struct layer_call *c)
{
    return set_ids(c, 3, layer_knobs.identity.uid, layer_knobs.identity.euid);
}

long layer_setresgid(struct layer_call *c)
{
    return set_ids(c, 3, layer_knobs.identity.gid, layer_knobs.identity.egid);
}

/* Linux's setgroups asks may_setgroups (CAP_SETGID) before it reads the count or the list */
long layer_setgroups(struct layer_call *c)
{
    (void)c;
    return -EPERM;
}

/* The virtual user has no supplementary groups: the count is 0 and the list is not written
 * (a negative size is EINVAL, as Linux's) */
long layer_getgroups(struct layer_call *c)
{
    return (int)c->a[0] < 0 ? -EINVAL : 0;
}
