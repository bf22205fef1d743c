/* Access to the program's memory that cannot crash the picoprocess: Linux's
 * copy_from_user with its exception table, for a handful of routines.
 *
 * Every load or store of a program-given address that the runtime makes goes
 * through a routine here.  Each instruction that touches such an address is
 * listed in xax_user_table with where to resume if it faults: when the CPU
 * raises SIGSEGV or SIGBUS at one of them, the PAL's fault handler (fault.c)
 * moves rip to the fixup, which makes the routine return as the kernel's copy
 * would.  The routines are leaves that push nothing (a fixup's `ret` returns to
 * the caller with the stack as it was), hold no lock and change nothing but
 * their destination (a prefix of it, on a fault). */
    .text

/* size_t xax_user_copy(void *dst, const void *src, size_t n): how many of the n
 * bytes it could NOT copy (0: all), as copy_to_user answers */
    .globl xax_user_copy
    .hidden xax_user_copy
    .type xax_user_copy, @function
xax_user_copy:
    mov %rdx, %rcx
copy_insn:
    rep movsb
    xor %eax, %eax
    ret
copy_fault:
    mov %rcx, %rax          /* rep movsb stopped at the fault with rcx bytes left */
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
string_load:
    movzbl (%rsi,%rax), %ecx
string_store:
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
probe_read_insn:
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
probe_write_insn:
    lock orb $0, (%rdi)
    xor %eax, %eax
    ret

efault:
    mov $-14, %rax          /* -EFAULT */
    ret

/* The exception table: (faulting instruction, fixup) pairs. */
    .section .data.rel.ro, "aw"
    .balign 8
    .globl xax_user_table, xax_user_table_end
    .hidden xax_user_table, xax_user_table_end
xax_user_table:
    .quad copy_insn, copy_fault
    .quad string_load, efault
    .quad string_store, efault
    .quad probe_read_insn, efault
    .quad probe_write_insn, efault
xax_user_table_end:

    .section .note.GNU-stack,"",@progbits
