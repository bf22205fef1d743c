/* Raw x86-64 system calls for the freestanding runtime.
 * They return the kernel's value: >= 0, or -errno (musl's convention, no errno
 * variable: the runtime runs on the app's TLS and must never touch it). */
#ifndef XAX_SYS_H
#define XAX_SYS_H

#include <asm/unistd.h>
#include <stddef.h>
#include <stdint.h>

#include "../include/xax_protocol.h" /* XAX_EXIT_STATUS_OWN */

static inline long sys0(long n)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n) : "rcx", "r11", "memory");
    return r;
}
static inline long sys1(long n, long a)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory");
    return r;
}
static inline long sys2(long n, long a, long b)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return r;
}
static inline long sys3(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}
static inline long sys4(long n, long a, long b, long c, long d)
{
    long r;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}
static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}

/* Whether a raw call's result is an error: the kernel's -errno, -4095 .. -1,
 * where no successful call's result lies (the Linux syscall ABI). */
static inline int sys_failed(long r)
{
    return r < 0 && r > -4096;
}

/* The runtime's own exit: with XAX_EXIT_STATUS_OWN set (the kernel keeps the low 8
 * bits), which the seal allows even when it traps the program's own exit_group
 * (run --export-ram: xax_emu/seal/allowlist.py). */
static inline __attribute__((noreturn)) void sys_exit_group(int status)
{
    for (;;)
        sys1(__NR_exit_group, (status & 0xff) | XAX_EXIT_STATUS_OWN);
}

/* freestanding helpers (lib/mem.c) */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#define XAX_PAGE 4096UL
#define XAX_PAGE_UP(x) (((uintptr_t)(x) + XAX_PAGE - 1) & ~(XAX_PAGE - 1))
#define XAX_PAGE_DOWN(x) ((uintptr_t)(x) & ~(XAX_PAGE - 1))

#endif
