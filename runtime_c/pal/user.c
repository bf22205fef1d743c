/* The program's memory as the kernel reaches it: first the range check of
 * access_ok (nothing at or above the top of the user address space, which a
 * program could otherwise read where the kernel refuses: the vsyscall page),
 * then the access itself through usercopy.S, where a fault ends the access
 * with what it did so far. */
#include <asm/errno.h>

#include "../lib/sys.h"
#include "user.h"

#define USER_TOP XAX_USER_TOP

static int outside(const void *p, size_t n)
{
    return (uintptr_t)p > USER_TOP || n > USER_TOP - (uintptr_t)p;
}

size_t pal_copy_in(void *dst, const void *src, size_t n)
{
    if (n == 0)
        return 0;
    return outside(src, n) ? n : xax_user_copy(dst, src, n);
}

size_t pal_copy_out(void *dst, const void *src, size_t n)
{
    if (n == 0)
        return 0;
    return outside(dst, n) ? n : xax_user_copy(dst, src, n);
}

long pal_string_in(char *dst, const char *src, size_t cap)
{
    if ((uintptr_t)src >= USER_TOP)
        return -EFAULT;
    size_t room = USER_TOP - (uintptr_t)src; /* a string running into the top is a fault */
    long n = xax_user_string(dst, src, cap < room ? cap : room);
    if (n < 0)
        return n;
    if ((size_t)n == cap)
        return -ENAMETOOLONG;
    return (size_t)n == room ? -EFAULT : n;
}

/* A prefix of [p, p+n): up to the first page that `probe` refuses. */
static size_t accessible(uintptr_t p, size_t n, int write)
{
    if (n == 0 || p >= USER_TOP)
        return 0;
    if (n > USER_TOP - p)
        n = USER_TOP - p;
    uintptr_t at = p, end = p + n;
    while (at < end) {
        long r = write ? xax_user_probe_write((void *)at) : xax_user_probe_read((const void *)at);
        if (r < 0)
            return at - p;
        at = XAX_PAGE_DOWN(at) + XAX_PAGE;
    }
    return n;
}

size_t pal_readable(const void *p, size_t n)
{
    return accessible((uintptr_t)p, n, 0);
}

size_t pal_writable(void *p, size_t n)
{
    return accessible((uintptr_t)p, n, 1);
}
