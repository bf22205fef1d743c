/* The PAL's fault-safe access to the program's memory (usercopy.S, user.c) and
 * the signals it keeps for itself (signals.c, fault.c). */
#ifndef XAX_PAL_USER_H
#define XAX_PAL_USER_H
#include <stddef.h>
#include <stdint.h>

#include "xax_layer.h"

/* usercopy.S: the only code that touches program-given addresses. */
size_t xax_user_copy(void *dst, const void *src, size_t n);
long xax_user_string(char *dst, const char *src, size_t cap);
long xax_user_probe_read(const void *p);
long xax_user_probe_write(void *p);
struct xax_user_fixup {
    uintptr_t insn, fixup; /* an instruction that may fault, and where to resume if it does */
};
extern const struct xax_user_fixup xax_user_table[], xax_user_table_end[];
void xax_fault_entry(int sig, void *info, void *uc);  /* entry.S */
void xax_signal_entry(int sig, void *info, void *uc); /* entry.S: the program's handlers, rewriting on */

/* user.c: the same with the kernel's range check first (xax_layer_host's copy_in ...).
 * The copies answer how many bytes they could NOT copy (0: all of them). */
size_t pal_copy_in(void *dst, const void *src, size_t n);
size_t pal_copy_out(void *dst, const void *src, size_t n);
long pal_string_in(char *dst, const char *src, size_t cap);
size_t pal_readable(const void *p, size_t n);
size_t pal_writable(void *p, size_t n);

/* signals.c */
void pal_signals_init(void *sigaction_buffer);
long pal_sigaction(int sig, const struct xax_k_sigaction *act);
long pal_raise(void *uc, long result, const struct xax_signal *s);
/* The program's action for SIGSYS, SIGSEGV or SIGBUS now; `delivering`: the signal
 * is being delivered to it (a one-shot handler, SA_RESETHAND, is reset). */
struct xax_k_sigaction pal_action(int sig, int delivering);
/* End the picoprocess as the signal's default action would (killed by sig). */
__attribute__((noreturn)) void pal_die_by(int sig);

/* pal.c: whether ip lies in the runtime's code (the PAL or the layer), not the program's. */
int pal_in_runtime(uintptr_t ip);
#endif
