/* The interposition layer: the SIGSYS handler's dispatcher and its handlers.
 * Handlers return the system call's result: >= 0, or -errno. */
#ifndef XAX_LAYER_H
#define XAX_LAYER_H

#include <asm/errno.h>
#include <stdint.h>

struct ucontext;

struct layer_call {
    long nr;
    uint64_t a[6];          /* rdi, rsi, rdx, r10, r8, r9 as the program passed them */
    struct ucontext *uc;    /* the interrupted context: its signal mask is the program's */
};

typedef long (*layer_handler)(struct layer_call *c);

long layer_dispatch(struct layer_call *c);

/* The kernel takes fds as int: truncate exactly as it does. */
static inline int arg_fd(uint64_t v)
{
    return (int)(uint32_t)v;
}

/* io (sys_io.c) */
long layer_read(struct layer_call *c);
long layer_write(struct layer_call *c);
long layer_readv(struct layer_call *c);
long layer_writev(struct layer_call *c);
long layer_ioctl(struct layer_call *c);
long layer_close(struct layer_call *c);
long layer_fcntl(struct layer_call *c);
long layer_fstat(struct layer_call *c);
long layer_newfstatat(struct layer_call *c);
/* memory (sys_mem.c) */
long layer_brk(struct layer_call *c);
long layer_mmap(struct layer_call *c);
/* process identity (sys_proc.c) */
long layer_getpid(struct layer_call *c);
long layer_set_tid_address(struct layer_call *c);
long layer_uname(struct layer_call *c);
/* time (sys_time.c) */
long layer_gettimeofday(struct layer_call *c);
long layer_time(struct layer_call *c);
long layer_clock_getres(struct layer_call *c);
long layer_nanosleep(struct layer_call *c);
long layer_clock_nanosleep(struct layer_call *c);
/* signals (sys_signal.c) */
long layer_rt_sigprocmask(struct layer_call *c);

#endif
