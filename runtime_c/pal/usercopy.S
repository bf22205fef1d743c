/* Access to the program's memory that cannot crash the picoprocess: Linux's
 * copy_from_user with its exception table, reduced to one range of code.
 *
 * Every load or store of a program-given address that the runtime makes goes
 * through a routine here.  A fault on one of them (SIGSEGV or SIGBUS raised by
 * the CPU while rip lies in [xax_user_start, xax_user_end)) is caught by the
 * PAL's fault handler (fault.c), which resumes at xax_user_fault: the routine
 * returns -EFAULT to its caller, as the kernel's system call would have.  The
 * routines are leaves that push nothing, so the fixup's `ret` returns to the
 * caller with the stack as it found it; they hold no lock and change nothing
 * but the destination (a prefix of it, on a fault). */
    .text

    .globl xax_user_start, xax_user_end, xax_user_fault
    .hidden xax_user_start, xax_user_end, xax_user_fault
xax_user_start:

/* long xax_user_copy(void *dst, const void *src, size_t n): 0, or -EFAULT */
    .globl xax_user_copy
    .hidden xax_user_copy
    .type xax_user_copy, @function
xax_user_copy:
    mov %rdx, %rcx
    rep movsb
    xor %eax, %eax
    ret

/* long xax_user_string(char *dst, const char *src, size_t cap): copies up to and
 * including the first NUL among src's first cap bytes and returns its index (the
 * string's length); cap if there is none (cap bytes copied); or -EFAULT */
    .globl xax_user_string
    .hidden xax_user_string
    .type xax_user_string, @function
xax_user_string:
    xor %eax, %eax
1:  cmp %rdx, %rax
    je 2f
    movzbl (%rsi,%rax), %ecx
    mov %cl, (%rdi,%rax)
    test %cl, %cl
    je 2f
    inc %rax
    jmp 1b
2:  ret

/* long xax_user_probe_read(const void *p): 0 if the byte at p can be read, or -EFAULT */
    .globl xax_user_probe_read
    .hidden xax_user_probe_read
    .type xax_user_probe_read, @function
xax_user_probe_read:
    movzbl (%rdi), %eax
    xor %eax, %eax
    ret

/* long xax_user_probe_write(void *p): 0 if the byte at p can be written, or -EFAULT.
 * An atomic OR with 0: a write access that changes nothing, even if another
 * thread writes the byte meanwhile. */
    .globl xax_user_probe_write
    .hidden xax_user_probe_write
    .type xax_user_probe_write, @function
xax_user_probe_write:
    lock orb $0, (%rdi)
    xor %eax, %eax
    ret

xax_user_end:

/* Where a faulting routine resumes: its caller gets -EFAULT. */
xax_user_fault:
    mov $-14, %rax          /* -EFAULT */
    ret

/* The SIGSEGV and SIGBUS handler, entered by the kernel with rdi = the signal,
 * rsi = its siginfo, rdx = the interrupted ucontext and the restorer's address on
 * top of the stack.  pal_fault (fault.c) decides: it returns 0 (return through the
 * restorer: a fixup made, or the signal dealt with) or the program's handler, which
 * is then entered on this very frame, as if the kernel had called it: with the
 * same three arguments, and rax = 0 as the kernel sets it. */
    .globl xax_fault_entry
    .hidden xax_fault_entry
    .type xax_fault_entry, @function
xax_fault_entry:
    push %rdi
    push %rsi
    push %rdx
    call pal_fault
    pop %rdx
    pop %rsi
    pop %rdi
    test %rax, %rax
    jz 1f
    mov %rax, %r11
    xor %eax, %eax
    jmp *%r11
1:  ret

    .section .note.GNU-stack,"",@progbits
