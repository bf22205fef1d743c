/* The caller's data buffers: the bytes read, write and getdents64 move, and the
 * ioctl's out argument.  In the layer they are the program's memory, which may
 * be anything: env.copy_out and env.copy_in copy fault-safely and answer how
 * many bytes they could not copy; the backends stop there, keep their state as
 * far as the bytes that moved, and answer that much or -EFAULT (vfs_moved).
 * Everything else the vfs is given (paths, structs) is the caller's own memory. */
#include "vfs_int.h"

size_t vfs_copy_out(struct vfs *v, void *dst, const void *src, size_t n)
{
    if (v->env.copy_out)
        return v->env.copy_out(v->env.ctx, dst, src, n);
    memcpy(dst, src, n);
    return 0;
}

size_t vfs_copy_in(struct vfs *v, void *dst, const void *src, size_t n)
{
    if (v->env.copy_in)
        return v->env.copy_in(v->env.ctx, dst, src, n);
    memcpy(dst, src, n);
    return 0;
}

size_t vfs_zero_out(struct vfs *v, void *dst, size_t n)
{
    static const char zeros[4096];
    if (!v->env.copy_out) {
        memset(dst, 0, n);
        return 0;
    }
    for (size_t done = 0; done < n;) {
        size_t k = n - done < sizeof zeros ? n - done : sizeof zeros;
        size_t left = v->env.copy_out(v->env.ctx, (char *)dst + done, zeros, k);
        if (left)
            return n - done - (k - left);
        done += k;
    }
    return 0;
}
