/* Attack: rt_sigreturn is allowed, so hostile code can load any register
 * state from a forged frame.  argv[3] "iopl": eflags with IOPL 3 (port I/O,
 * cli) and the other privileged flags; the kernel must keep only the user
 * flags ("iopl = 0").  "kernel_cs": the kernel's code segment: the kernel
 * forces user privilege, so the return faults (SIGSEGV) and "resumed" never
 * prints.  "plain": a frame with the program's own segments resumes normally. */
#include <stddef.h>
#include "hostile.h"

struct frame { /* struct ucontext as the kernel reads it on x86-64 */
    uint64_t uc_flags, uc_link, ss_sp;
    int32_t ss_flags, ss_pad;
    uint64_t ss_size;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved1[8];
    uint64_t sigmask;
};
_Static_assert(offsetof(struct frame, r8) == 40 && offsetof(struct frame, sigmask) == 296, "frame");

#define EFLAGS_IF 0x200
#define EFLAGS_IOPL3 0x3000
#define EFLAGS_NT 0x4000
#define EFLAGS_VM 0x20000
#define EFLAGS_VIF 0x80000

static void resumed(void)
{
    unsigned long fl;
    __asm__ volatile("pushf\n\tpop %0" : "=r"(fl));
    report("resumed", 1);
    report("iopl", (fl & EFLAGS_IOPL3) >> 12);
    report("nt_vm_vif", (fl & (EFLAGS_NT | EFLAGS_VM | EFLAGS_VIF)) != 0);
    report("if", (fl & EFLAGS_IF) != 0);
    raw1(SYS_exit_group, 0);
}

int main(int argc, char **argv)
{
    static struct frame uc;
    static char stack[1 << 16] __attribute__((aligned(16)));
    unsigned short cs, ss;
    __asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1" : "=r"(cs), "=r"(ss));
    uc.rip = (uint64_t)resumed;
    uc.rsp = (uint64_t)(stack + sizeof stack - 8);
    uc.eflags = EFLAGS_IF;
    uc.cs = cs;
    uc.ss = ss;
    if (!strcmp(argv[3], "iopl"))
        uc.eflags |= EFLAGS_IOPL3 | EFLAGS_NT | EFLAGS_VM | EFLAGS_VIF;
    else if (!strcmp(argv[3], "kernel_cs"))
        uc.cs = 0x10; /* __KERNEL_CS */
    else if (strcmp(argv[3], "plain"))
        return 2;
    report("forging", 1);
    __asm__ volatile("mov %0, %%rsp\n\tsyscall\n\tud2" : : "r"(&uc), "a"(SYS_rt_sigreturn) : "memory");
    (void)argc;
    return 3;
}
