/* Internal interfaces between the boot block, the PAL and the layer. */
#ifndef XAX_RUNTIME_H
#define XAX_RUNTIME_H

#include <stdint.h>
#include "xabi.h"
#include "xax_layer.h"

/* What the trusted boot block hands to the PAL when it has sealed the process. */
struct xax_boot_info {
    uint32_t flags;                 /* XAX_BOOT_FLAG_* */
    uint32_t nargs;
    const char **args;              /* NULL-terminated: image URL, then argv */
    uint32_t nenv;
    const char **env;               /* NULL-terminated */
    uint32_t npal;
    const char **pal;               /* NULL-terminated "key=value" settings: layer=URL, ... */
    uint8_t random[32];             /* from the Monitor, for AT_RANDOM and seeds */
    const uint64_t *host_auxv;      /* the boot process's own auxv (vDSO, hwcaps) */
    const void *image;              /* the image fd (XAX_IMAGE_FD) mapped private read-only, or 0 */
    uint64_t image_size;
    uint32_t host_pid;              /* the picoprocess's own pid on the host (kill, tgkill) */
    void *arena;                    /* the family's shared memory (processes=1), or 0 */
    uint64_t arena_size;
};

/* boot -> PAL */
__attribute__((noreturn)) void pal_start(const struct xax_boot_info *info);
void xax_sigsys_handler(int sig, void *siginfo, void *ucontext);
void xax_sigsys_entry(int sig, void *siginfo, void *ucontext); /* pal/entry.S: the handler as installed */
void xax_sigreturn_restorer(void);
__attribute__((noreturn)) void xax_enter_program(uintptr_t entry, uintptr_t stack);

/* PAL internals */
extern struct xabi_table xax_pal_table;
extern const struct xax_boot_info *xax_boot;
extern const struct xax_layer_exports *xax_layer; /* 0 until the layer is loaded */
void pal_trace(int syscall_nr, int disposition);
void pal_trace_path(int syscall_nr, int err, const char *path, uint32_t len);
long pal_forward(struct layer_call *c);
int pal_poll_sliced(xabi_poll_fd *pfds, int npfds);
int pal_poll_wait(xabi_poll_fd *pfds, int npfds, int timeout_ms, uint32_t seen);
int pal_end_output(int chnl);
/* The runtime's one failure path: tell the Monitor what failed (a FATAL message:
 * `failure` is an XAX_FAILURE_*, `why` one line) and exit with XAX_EXIT_RUNTIME_FAILED. */
__attribute__((noreturn)) void pal_fail(int failure, const char *why);

#endif
