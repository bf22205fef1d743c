/* The program's memory as the network and readiness handlers (sys_net.c, sys_poll.c) reach
 * it: every struct, array and address they take from the program is copied in with prog_in
 * before it is looked at, and every answer copied out with prog_out after the work is done
 * (Linux's order).  A NULL address is -EFAULT, as is one above the user half of the address
 * space; the copies are the layer's fault-safe ones (user.h): a bad pointer is -EFAULT, never
 * a fault in the handler. */
#ifndef XAX_LAYER_PROGMEM_H
#define XAX_LAYER_PROGMEM_H

#include <asm/errno.h>
#include <stddef.h>
#include <stdint.h>

#include "user.h"

static inline int prog_range(uint64_t addr, size_t n)
{
    return addr && user_range(addr, n);
}

static inline long prog_in(void *dst, uint64_t addr, size_t n)
{
    if (!n)
        return 0;
    if (!prog_range(addr, n))
        return -EFAULT;
    return user_in(dst, addr, n);
}

static inline long prog_out(uint64_t addr, const void *src, size_t n)
{
    if (!n)
        return 0;
    if (!prog_range(addr, n))
        return -EFAULT;
    return user_out(addr, src, n);
}

#endif
