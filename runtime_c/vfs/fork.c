/* The fd table across fork (docs/processes.md): vfs_fork_prepare, vfs_fork_abort,
 * vfs_fork_child, vfs_fork_exit.
 *
 * A family's processes share the vfs's memory (the layer's arena: every node, every
 * description, the RAM disks' bytes), each with its own struct vfs (fds, cwd, umask).  So
 * a fork gives the child the parent's descriptions themselves, as Linux does (one file
 * position, one O_APPEND stream): each gets one more reference per fd of the child.  The
 * kinds that stand for a Monitor's channel (vfs_file_ops.per_process) are copied instead:
 * the Monitor counts each process's holds of a channel, and lets go of them when it exits,
 * so each process's close must be its own.  The references are taken in the parent before
 * the fork, while the parent still holds every description (a close in another process
 * cannot free one the child is about to inherit). */
#include "vfs_int.h"

/* the copy made for the child of the description at fd, if an earlier fd made one */
static struct ofd *earlier_copy(struct vfs *v, int fd)
{
    for (int g = 0; g < fd; g++)
        if (v->fds[g] == v->fds[fd])
            return v->fork_copy[g];
    return 0;
}

/* gives back what prepare took for the fds below upto */
static void undo(struct vfs *v, int upto)
{
    for (int fd = 0; fd < upto; fd++) {
        struct ofd *f = v->fds[fd], *copy = v->fork_copy[fd];
        v->fork_copy[fd] = 0;
        if (!f)
            continue;
        if (!copy) {
            f->refs--; /* the parent still holds it: never the last */
            continue;
        }
        if (--copy->refs == 0) { /* never installed: freed without its release (the channel is the parent's) */
            if (copy->node)
                node_put(v, copy->node);
            vmem_free(v, copy, sizeof *copy);
        }
    }
}

long vfs_fork_prepare(struct vfs *v)
{
    if (!v)
        return -EINVAL;
    if (!v->fork_copy) /* the process's own memory, as struct vfs; kept for its next forks */
        v->fork_copy = v->env.alloc_own(v->env.ctx, VFS_FD_MAX * sizeof *v->fork_copy);
    if (!v->fork_copy)
        return -ENOMEM;
    for (int fd = 0; fd < v->fd_limit; fd++) {
        struct ofd *f = v->fds[fd];
        v->fork_copy[fd] = 0;
        if (!f)
            continue;
        if (!f->ops->per_process) {
            f->refs++;
            continue;
        }
        struct ofd *copy = earlier_copy(v, fd);
        if (!copy) {
            copy = vmem_alloc(v, sizeof *copy);
            if (!copy) {
                undo(v, fd);
                return -ENOMEM;
            }
            *copy = *f;
            copy->refs = 0;
            if (copy->node)
                node_get(copy->node);
        }
        copy->refs++;
        v->fork_copy[fd] = copy;
    }
    node_get(v->cwd);
    return 0;
}

void vfs_fork_abort(struct vfs *v)
{
    undo(v, v->fd_limit);
    node_put(v, v->cwd);
}

void vfs_fork_child(struct vfs *v)
{
    if (!v->fork_copy)
        return;
    for (int fd = 0; fd < v->fd_limit; fd++) {
        if (v->fork_copy[fd])
            v->fds[fd] = v->fork_copy[fd];
        v->fork_copy[fd] = 0;
    }
}

void vfs_fork_exit(struct vfs *v)
{
    for (int fd = 0; fd < v->fd_limit; fd++) {
        struct ofd *f = v->fds[fd];
        if (!f || f->ops->per_process)
            continue; /* the Monitor lets go of the process's channels when it has exited */
        v->fds[fd] = 0;
        v->cloexec[fd] = 0;
        ofd_put(v, f);
    }
    struct vnode *cwd = v->cwd;
    v->cwd = 0;
    if (cwd)
        node_put(v, cwd);
}
