/* Attack: a far return to 32-bit compatibility mode (code selector 0x23; this
 * non-PIE binary's code is below 4 GiB) and an i386 system call from there,
 * with `int $0x80` or `syscall`.  The filter's arch check must kill it (or the
 * CPU refuses the instruction); it must never come back with a result.
 * argv[3]: noop (go to 32-bit mode and back without a system call: proves the
 * mode switch itself works), int80_open, int80_exit, syscall_open, syscall_exit. */
#include "hostile.h"

static char path[4096];
static char stack32[8192] __attribute__((aligned(16)));
uint64_t b_saved_rsp;
uint32_t b_result32;
long b_compat_call(long eax, long ebx, long ecx, long which); /* which: 0 noop, 1 int80, 2 syscall */

__asm__(
    ".text\n"
    "b_compat_call:\n"
    "  push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "  mov %rsp, b_saved_rsp(%rip)\n"
    "  mov %rdi, %rax\n"
    "  mov %rsi, %rbx\n"
    "  mov %rdx, %rbp\n"                      /* the compat SYSCALL ABI takes arg 2 in ebp */
    "  mov %rdx, %r8\n"
    "  mov %rcx, %r9\n"
    "  mov %r8, %rcx\n"
    "  xor %edx, %edx\n"
    "  mov $0x2b, %r10d; mov %r10d, %ds; mov %r10d, %es\n" /* usable data segments in 32-bit mode */
    "  lea stack32+8192(%rip), %rsp\n"
    "  lea b_noop32(%rip), %r10\n"
    "  lea b_int80_32(%rip), %r11\n"
    "  cmp $1, %r9; cmove %r11, %r10\n"
    "  lea b_syscall32(%rip), %r11\n"
    "  cmp $2, %r9; cmove %r11, %r10\n"
    "  pushq $0x23\n"
    "  push %r10\n"
    "  lretq\n"
    ".code32\n"
    "b_noop32:\n"
    "  mov $1234, %eax\n"
    "  jmp b_back32\n"
    "b_int80_32:\n"
    "  int $0x80\n"
    "  jmp b_back32\n"
    "b_syscall32:\n"
    "  syscall\n"
    "b_back32:\n"
    "  mov %eax, b_result32\n"
    "  push $0x33\n"
    "  push $b_back64\n"
    "  lret\n"
    ".code64\n"
    "b_back64:\n"
    "  mov b_saved_rsp(%rip), %rsp\n"
    "  movslq b_result32(%rip), %rax\n"
    "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "  ret\n");

int main(int argc, char **argv)
{
    const char *mode = argv[3];
    strncpy(path, argv[1], sizeof path - 1);
    if (((uintptr_t)path | (uintptr_t)stack32 | (uintptr_t)b_compat_call) >> 32)
        return 3; /* 32-bit mode needs code, stack and data below 4 GiB */
    printf("trying %s\n", mode);
    fflush(stdout);
    long r;
    if (!strcmp(mode, "noop"))
        r = b_compat_call(0, 0, 0, 0);
    else if (!strcmp(mode, "int80_open"))
        r = b_compat_call(5, (long)path, 0, 1);
    else if (!strcmp(mode, "int80_exit"))
        r = b_compat_call(1, 42, 0, 1);
    else if (!strcmp(mode, "syscall_open"))
        r = b_compat_call(5, (long)path, 0, 2);
    else if (!strcmp(mode, "syscall_exit"))
        r = b_compat_call(1, 42, 0, 2);
    else
        return 2;
    report(strcmp(mode, "noop") ? "survived" : "noop", r);
    (void)argc;
    return 0;
}
