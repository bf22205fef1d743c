/* The program's memory, as the handlers reach it: the copy boundary.
 *
 * A handler copies every argument that points into the program — a path, a
 * struct, an iovec array — into its own memory at its start, and every result
 * out at its end, with the PAL's fault-safe routines (runtime_c/pal/usercopy.S):
 * a bad address is -EFAULT, never a crash, and the VFS and the rest of the
 * layer below see only the layer's own memory.  The one exception is the data
 * buffers of read, write, getdents64 and their kin, which can be any size: the
 * VFS moves their bytes itself, through the same routines (vfs.h, env.copy_out
 * and env.copy_in), and answers -EFAULT when none could move.
 *
 * The order of errors is the kernel's: a path or struct argument is copied in
 * before anything else is looked at, and results are copied out after the call
 * has done its work (which stays done: an action set before its old value
 * fails to be written stays set). */
#ifndef XAX_LAYER_USER_H
#define XAX_LAYER_USER_H

#include <stddef.h>
#include <stdint.h>

#include "layer.h"

#define USER_PATH_MAX 4096 /* PATH_MAX, the NUL included */

/* n bytes from the program's src: 0 or -EFAULT (n = 0: 0, whatever src is) */
static inline long user_in(void *dst, uint64_t src, size_t n)
{
    return layer_host->copy_in(dst, (const void *)(uintptr_t)src, n) ? -EFAULT : 0;
}

/* n bytes to the program's dst: 0 or -EFAULT */
static inline long user_out(uint64_t dst, const void *src, size_t n)
{
    return layer_host->copy_out((void *)(uintptr_t)dst, src, n) ? -EFAULT : 0;
}

/* Linux's access_ok: whether [p, p+n) lies below the top of the user address
 * space.  Linux checks it before it looks at a read's or write's file at all, so
 * a kernel address is -EFAULT even where nothing would touch the buffer. */
static inline int user_range(uint64_t p, size_t n)
{
    return n == 0 || (p < XAX_USER_TOP && n <= XAX_USER_TOP - p);
}

/* A path argument, into buf (USER_PATH_MAX bytes): 0, -EFAULT, or -ENAMETOOLONG
 * (no NUL within PATH_MAX bytes), as the kernel's getname answers. */
static inline long user_path(char *buf, uint64_t p)
{
    long r = layer_host->string_in(buf, (const char *)(uintptr_t)p, USER_PATH_MAX);
    return r < 0 ? r : 0;
}

#endif
