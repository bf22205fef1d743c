/* The vfs's life cycle and configuration: vfs_new, vfs_free, vfs_set_user,
 * vfs_umask, vfs_set_fd_limit, vfs_reserve_fd. */
#include "vfs_int.h"

struct vfs *vfs_new(const struct vfs_env *env)
{
    if (!env || !env->alloc || !env->release)
        return 0;
    struct vfs *v = env->alloc_own ? env->alloc_own(env->ctx, sizeof *v) : env->alloc(env->ctx, sizeof *v);
    if (!v)
        return 0;
    memset(v, 0, sizeof *v);
    v->env = *env;
    if (!env->alloc_own || !env->release_own) {
        v->env.alloc_own = env->alloc;
        v->env.release_own = env->release;
    }
    v->sh = env->alloc(env->ctx, sizeof *v->sh);
    if (!v->sh) {
        v->env.release_own(env->ctx, v, sizeof *v);
        return 0;
    }
    memset(v->sh, 0, sizeof *v->sh);
    v->fd_limit = 1024;
    v->uid = v->gid = 1000;
    v->umask = 022;
    v->sh->next_ino = 1;
    v->sh->next_dev = 0x30;
    v->stdio_dev = 0x2f;
    v->skel.ops = &vfs_skel_backend;
    v->skel.dev = v->sh->next_dev++;
    v->skel_root = node_table_init(v) == 0 ? node_new(v, &v->skel, S_IFDIR | 0555) : 0;
    if (!v->skel_root) {
        vmem_release_all(v);
        env->release(env->ctx, v->sh, sizeof *v->sh);
        v->env.release_own(env->ctx, v, sizeof *v);
        return 0;
    }
    v->skel_root->parent = v->skel_root;
    v->skel.root = v->skel_root;
    v->skel.mountpoint = v->skel_root;
    v->cwd = v->skel_root;
    node_get(v->cwd);
    return v;
}

void vfs_free(struct vfs *v)
{
    if (!v)
        return;
    for (int fd = 0; fd < VFS_FD_MAX; fd++) {
        if (v->fds[fd]) {
            struct ofd *f = v->fds[fd];
            v->fds[fd] = 0;
            ofd_put(v, f);
        }
    }
    /* every node, whatever its state: what backends hold outside vmem (file data) */
    while (v->sh->all) {
        struct vnode *n = v->sh->all;
        n->flags &= ~(VN_DEAD | VN_HASHED); /* the whole table goes below */
        node_destroy(v, n);
    }
    vmem_free(v, v->sh->htab, ((size_t)v->sh->hmask + 1) * sizeof *v->sh->htab);
    for (struct route *rt = v->routes, *next; rt; rt = next) {
        next = rt->next;
        route_free(v, rt);
    }
    struct vfs_env env = v->env;
    if (v->fork_copy)
        env.release_own(env.ctx, v->fork_copy, VFS_FD_MAX * sizeof *v->fork_copy);
    vmem_release_all(v);
    env.release(env.ctx, v->sh, sizeof *v->sh);
    env.release_own(env.ctx, v, sizeof *v);
}

long vfs_set_user(struct vfs *v, uint32_t uid, uint32_t gid)
{
    if (!v)
        return -EINVAL;
    v->uid = uid;
    v->gid = gid;
    return 0;
}

long vfs_umask(struct vfs *v, uint32_t mask)
{
    if (!v)
        return -EINVAL;
    long old = v->umask;
    v->umask = mask & 0777;
    return old;
}

long vfs_reserve_fd(struct vfs *v, int fd)
{
    if (!v || fd < 0 || fd >= VFS_FD_MAX)
        return -EINVAL;
    if (v->fds[fd])
        return -EBUSY;
    v->reserved[fd] = 1;
    return 0;
}

long vfs_set_fd_limit(struct vfs *v, int limit)
{
    if (!v || limit < 1 || limit > VFS_FD_MAX)
        return -EINVAL;
    for (int fd = limit; fd < VFS_FD_MAX; fd++)
        if (v->fds[fd])
            return -EBUSY;
    v->fd_limit = limit;
    return 0;
}
