/* The PAL's signal handlers as the kernel enters them.
 *
 * The kernel enters a handler with the interrupted code's flags, the alignment
 * check (AC) included, and restores them with rt_sigreturn.  A program that
 * turned AC on would have every unaligned access of the runtime's C code raise
 * SIGBUS inside the PAL, so both entries turn it off first. */
    .text

#define AC 0x40000

/* SIGSYS: every trapped system call (sigsys.c). */
    .globl xax_sigsys_entry
    .hidden xax_sigsys_entry
    .type xax_sigsys_entry, @function
xax_sigsys_entry:
    pushf
    andl $~AC, (%rsp)
    popf
    jmp xax_sigsys_handler

/* A signal handler of the PAL's that decides in C and may hand the very frame
 * to the program: rdi = the signal, rsi = its siginfo, rdx = the interrupted
 * ucontext, the restorer's address on top of the stack.  DECIDE (a C function
 * of the same three arguments) returns 0 (return through the restorer: a fixup
 * made, or the signal dealt with) or the program's handler, which is then
 * entered on this very frame as if the kernel had called it: the same three
 * arguments, the flags as the kernel left them, and rax = 0 as the kernel sets it. */
.macro DECIDING_ENTRY name, decide
    .globl \name
    .hidden \name
    .type \name, @function
\name:
    pushf                   /* the flags for the program's handler */
    pushf
    andl $~AC, (%rsp)
    popf
    push %rdi
    push %rsi
    push %rdx
    sub $8, %rsp            /* entered with rsp = 8 mod 16: call with it aligned */
    call \decide
    add $8, %rsp
    pop %rdx
    pop %rsi
    pop %rdi
    test %rax, %rax
    jz 1f
    mov %rax, %r11
    popf
    xor %eax, %eax
    jmp *%r11
1:  add $8, %rsp
    ret
.endm

/* SIGSEGV and SIGBUS: pal_fault (fault.c). */
DECIDING_ENTRY xax_fault_entry, pal_fault

/* The program's own handlers while system call sites are rewritten: pal_signal
 * (signals.c) runs the handler now, or holds the signal back until the rewritten
 * call it interrupted has left the runtime. */
DECIDING_ENTRY xax_signal_entry, pal_signal

    .section .note.GNU-stack,"",@progbits
