/* The vfs's memory: vmem_alloc / vmem_zalloc / vmem_free / vmem_release_all.
 * Small objects (nodes, names, open file descriptions: up to 2048 bytes) come
 * from size classes carved out of 64 KiB chunks, because env->alloc may be
 * page-granular; freed small objects go back to their class's free list, and
 * the chunks are released only by vfs_free.  Larger blocks go to env->alloc
 * and env->release directly.  Callers pass the size back when freeing. */
#include "vfs_int.h"

static int size_class(size_t n)
{
    size_t c = 16;
    int i = 0;
    while (c < n) {
        c <<= 1;
        i++;
    }
    return i;
}

struct chunk {
    struct chunk *next;
    size_t size;
};

void *vmem_alloc(struct vfs *v, size_t n)
{
    if (n == 0)
        n = 1;
    if (n > VMEM_SMALL_MAX)
        return v->env.alloc(v->env.ctx, n);
    int cls = size_class(n);
    size_t csize = (size_t)16 << cls;
    void *p = v->sh->mem.free[cls];
    if (p) {
        v->sh->mem.free[cls] = *(void **)p;
        return p;
    }
    if (v->sh->mem.left < csize) {
        /* the remainder of the chunk goes to the free lists, biggest classes first */
        while (v->sh->mem.left >= 16) {
            int c = VMEM_CLASSES - 1;
            while (((size_t)16 << c) > v->sh->mem.left)
                c--;
            void *q = v->sh->mem.cur;
            *(void **)q = v->sh->mem.free[c];
            v->sh->mem.free[c] = q;
            v->sh->mem.cur += (size_t)16 << c;
            v->sh->mem.left -= (size_t)16 << c;
        }
        struct chunk *ch = v->env.alloc(v->env.ctx, VMEM_CHUNK);
        if (!ch)
            return 0;
        ch->next = v->sh->mem.chunks;
        ch->size = VMEM_CHUNK;
        v->sh->mem.chunks = ch;
        v->sh->mem.cur = (char *)ch + 16; /* keeps 16-byte alignment */
        v->sh->mem.left = VMEM_CHUNK - 16;
    }
    p = v->sh->mem.cur;
    v->sh->mem.cur += csize;
    v->sh->mem.left -= csize;
    return p;
}

void *vmem_zalloc(struct vfs *v, size_t n)
{
    void *p = vmem_alloc(v, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void vmem_free(struct vfs *v, void *p, size_t n)
{
    if (!p)
        return;
    if (n == 0)
        n = 1;
    if (n > VMEM_SMALL_MAX) {
        v->env.release(v->env.ctx, p, n);
        return;
    }
    int cls = size_class(n);
    *(void **)p = v->sh->mem.free[cls];
    v->sh->mem.free[cls] = p;
}

void vmem_release_all(struct vfs *v)
{
    struct chunk *ch = v->sh->mem.chunks;
    while (ch) {
        struct chunk *next = ch->next;
        v->env.release(v->env.ctx, ch, ch->size);
        ch = next;
    }
    memset(&v->sh->mem, 0, sizeof v->sh->mem);
}
