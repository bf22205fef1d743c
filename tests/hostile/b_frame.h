/* A forged rt_sigreturn frame (struct ucontext as the kernel reads it on
 * x86-64): the layer is not a boundary, so hostile code can set any signal
 * mask this way, SIGSYS included, without asking the layer. */
#ifndef B_FRAME_H
#define B_FRAME_H
#include <signal.h>
#include <stddef.h>
#include "hostile.h"

struct b_ucontext {
    uint64_t uc_flags, uc_link;
    uint64_t ss_sp;
    int32_t ss_flags, ss_pad;
    uint64_t ss_size;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved1[8];
    uint64_t sigmask;
};
_Static_assert(offsetof(struct b_ucontext, r8) == 40, "uc_mcontext");
_Static_assert(offsetof(struct b_ucontext, sigmask) == 296, "uc_sigmask");

#define B_BIT(sig) (1ULL << ((sig)-1))

/* rt_sigreturn into `cont` (entered like a function, on a fresh stack) with
 * the signal mask `mask`.  The zero uc_stack makes the kernel's sigaltstack
 * restore fail harmlessly (size 0), keeping the layer's signal stack. */
static __attribute__((noreturn)) void b_sigreturn_to(void (*cont)(void), uint64_t mask)
{
    static struct b_ucontext uc;
    static char stack[1 << 16] __attribute__((aligned(16)));
    memset(&uc, 0, sizeof uc);
    uc.rip = (uint64_t)cont;
    uc.rsp = (uint64_t)(stack + sizeof stack - 8); /* as if called */
    uc.eflags = 0x202;
    uc.cs = 0x33;
    uc.ss = 0x2b;
    uc.sigmask = mask;
    __asm__ volatile("mov %0, %%rsp\n\tmov $15, %%eax\n\tsyscall\n\tud2" : : "r"(&uc) : "memory");
    __builtin_unreachable();
}
#endif
