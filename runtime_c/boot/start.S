/* Entry of the picoprocess binary (static PIE, no libc).
 * The kernel jumps here with the initial stack: argc, argv, envp, auxv. */
    .text
    .globl _start
    .type _start, @function
_start:
    xor %ebp, %ebp
    mov %rsp, %rdi          /* boot_main(initial stack pointer) */
    and $-16, %rsp
    call boot_main
    hlt

/* Signal return trampoline for SA_RESTORER: rt_sigreturn is on the allowlist. */
    .globl xax_sigreturn_restorer
    .type xax_sigreturn_restorer, @function
xax_sigreturn_restorer:
    mov $15, %eax           /* __NR_rt_sigreturn */
    syscall
    hlt

/* xax_enter_program(entry, stack): switch to the program's stack and jump, with
 * the registers the x86-64 ABI expects at process entry (rdx = 0: no atexit hook). */
    .globl xax_enter_program
    .type xax_enter_program, @function
xax_enter_program:
    mov %rsi, %rsp
    mov %rdi, %rax
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    xor %edi, %edi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    jmp *%rax

    .section .note.GNU-stack,"",@progbits
