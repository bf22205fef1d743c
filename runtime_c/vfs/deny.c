/* The deny backend (vfs_mount_deny): nothing under its prefix can be reached.  A walk that
 * enters the route stops with ENOENT, or EACCES when it is for writing (open for writing,
 * O_CREAT, mkdir, unlink, rename), and listings of the directory holding the prefix do not
 * show it.  The smallest backend: one entry (enter) in its table. */
#include "vfs_int.h"

static long deny_enter(struct vfs *v, const struct route *rt, int wflags)
{
    (void)v;
    (void)rt;
    return (wflags & W_WRITE) ? -EACCES : -ENOENT;
}

const struct vfs_backend vfs_deny_backend = {.enter = deny_enter};

long vfs_mount_deny(struct vfs *v, const char *prefix)
{
    if (!v)
        return -EINVAL;
    struct route *rt;
    long r = route_new(v, prefix, &vfs_deny_backend, 0, &rt);
    if (r < 0)
        return r;
    return route_attach(v, rt);
}
