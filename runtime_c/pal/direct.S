/* The way past the trap: a rewritten system call site (rewrite.c) jumps to its
 * stub, which calls here instead of executing `syscall`.
 *
 * Entered with `call` from a stub that has already stepped over the program's
 * red zone (lea -128(%rsp)): rsp is the program's minus 136, of any alignment
 * (a syscall site may lie anywhere in a function).  eax holds the system call's
 * number, the six argument registers its arguments.  Returns with rax the
 * result and every other register as the kernel's `syscall` leaves it: rcx is
 * set by the stub, r11 the flags, all others untouched.  The runtime is built
 * with -mgeneral-regs-only, so the C code called here leaves the vector and x87
 * state alone, as a system call does.
 *
 * The frame built here is a struct pal_direct_frame (rewrite.h).  Its marker
 * word, written before any runtime state can be touched and cleared after all of
 * it is let go, is how a program signal that interrupts the runtime finds the
 * call to defer itself to (signals.c: pal_signal); the windows before marking
 * and after unmarking are listed there as "not inside the runtime". */
#include <asm/unistd.h>
#include "rewrite_frame.h"
    .text

#define AC_DF 0x40400

    .globl xax_direct_entry, xax_direct_generic, xax_direct_marked, xax_direct_unmarked, xax_direct_end
    .hidden xax_direct_entry, xax_direct_generic, xax_direct_marked, xax_direct_unmarked, xax_direct_end
    .type xax_direct_entry, @function
xax_direct_entry:
    pushf
    jmp 2f
/* The entry of the stubs of the image's site table (sites.c): the number was not
 * proven at pack time, so it is looked at here.  A number the filter may allow in
 * some form (pal_may_allow, with the ones whose handlers need the trap's frame)
 * returns PAL_SITE_FALLBACK bytes past the call, where the stub makes the real
 * `syscall`: the filter then decides, as for any call of the program's.  mmap is
 * taken here only in the form the filter always traps (a file, not the image fd). */
xax_direct_generic:
    pushf
    cmp $PAL_NR_MAX, %rax
    jae 3f
    bt %rax, pal_may_allow(%rip)
    jnc 2f
    cmp $__NR_mmap, %eax
    jne 3f
    test $PAL_MAP_ANONYMOUS, %r10d
    jnz 3f
    cmp $PAL_IMAGE_FD, %r8d
    je 3f
    jmp 2f
3:  addq $PAL_SITE_FALLBACK, 8(%rsp)
    popf
    ret
2:  push %rbp
    mov %rsp, %rbp
    and $-16, %rsp
    /* struct pal_direct_frame, from its end down: deferred signals, count, result,
     * a[6], nr, marker */
    sub $(PAL_DIRECT_FRAME_SIZE), %rsp
    mov %rdi, 16(%rsp)
    mov %rsi, 24(%rsp)
    mov %rdx, 32(%rsp)
    mov %r10, 40(%rsp)
    mov %r8, 48(%rsp)
    mov %r9, 56(%rsp)
    mov %eax, %eax
    mov %rax, 8(%rsp)
    movq $0, 72(%rsp)               /* no deferred signal yet */
    /* C code wants DF clear, and AC clear (or every unaligned access faults) */
    pushf
    andl $~AC_DF, (%rsp)
    popf
    mov xax_direct_secret(%rip), %r11
    xor %rsp, %r11
    mov %r11, (%rsp)                /* marked: from here on a signal is deferred */
xax_direct_marked:
    mov %rsp, %rdi
    call pal_direct
1:  movq $0, (%rsp)                 /* unmarked: nothing of the runtime is held */
xax_direct_unmarked:
    cmpq $0, 72(%rsp)               /* a signal deferred after pal_direct's last look */
    jne 2f
    mov 16(%rsp), %rdi
    mov 24(%rsp), %rsi
    mov 32(%rsp), %rdx
    mov 40(%rsp), %r10
    mov 48(%rsp), %r8
    mov 56(%rsp), %r9
    mov 64(%rsp), %rax
    mov %rbp, %rsp
    pop %rbp
    mov (%rsp), %r11                /* the flags, as syscall leaves them in r11 */
    popf
    ret
2:  mov xax_direct_secret(%rip), %r11
    xor %rsp, %r11
    mov %r11, (%rsp)                /* marked again while it delivers */
    mov %rsp, %rdi
    call pal_direct_deliver
    jmp 1b
xax_direct_end:
    .size xax_direct_entry, .-xax_direct_entry

/* long pal_direct_trap(struct pal_direct_frame *f): one trapped call whose
 * SIGSYS frame the PAL turns into the program handler of f's first deferred
 * signal (sigsys.c sees rip == xax_direct_trap_ret).  The number is one the
 * filter never allows (getppid), so it always traps. */
    .globl pal_direct_trap, xax_direct_trap_ret
    .hidden pal_direct_trap, xax_direct_trap_ret
    .type pal_direct_trap, @function
pal_direct_trap:
    mov $__NR_getppid, %eax
    syscall
xax_direct_trap_ret:
    ret
    .size pal_direct_trap, .-pal_direct_trap

    .section .note.GNU-stack,"",@progbits
