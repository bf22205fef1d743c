/* The program's memory as the network and readiness handlers (sys_net.c, sys_poll.c) reach
 * it: every struct, array and address they take from the program is copied in with prog_in
 * before it is looked at, and every answer copied out with prog_out after the work is done
 * (Linux's order).  A NULL address is -EFAULT, as is one above the user half of the address
 * space; the copy itself is a plain memcpy here — the layer's fault-safe copies (a bad
 * pointer answered with -EFAULT instead of a fault in the handler) are made in one place,
 * and these two functions are where they go. */
#ifndef XAX_LAYER_PROGMEM_H
#define XAX_LAYER_PROGMEM_H

#include <asm/errno.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/sys.h"

#define PROG_TOP 0x800000000000ULL /* the end of the user half of the address space (x86-64, 4 levels) */

static inline int prog_range(uint64_t addr, size_t n)
{
    return addr && addr < PROG_TOP && n <= PROG_TOP - addr;
}

static inline long prog_in(void *dst, uint64_t addr, size_t n)
{
    if (!n)
        return 0;
    if (!prog_range(addr, n))
        return -EFAULT;
    memcpy(dst, (const void *)(uintptr_t)addr, n);
    return 0;
}

static inline long prog_out(uint64_t addr, const void *src, size_t n)
{
    if (!n)
        return 0;
    if (!prog_range(addr, n))
        return -EFAULT;
    memcpy((void *)(uintptr_t)addr, src, n);
    return 0;
}

#endif
