/* The contract between the PAL and an interposition layer.
 *
 * A layer is a freestanding static-PIE ELF compiled from a profile (the
 * generic sources in runtime_c/layer/ plus the generated table).  The PAL maps
 * it like a program and calls its entry point, xax_layer_start(host), which
 * relocates the layer and returns its exports.  From then on the PAL's SIGSYS
 * handler hands every trapped system call to exports->dispatch. */
#ifndef XAX_LAYER_H
#define XAX_LAYER_H

#include <stddef.h>
#include <stdint.h>
#include "xabi.h"
#include "xax_protocol.h" /* XAX_CHANNEL_FD, XAX_IMAGE_FD: the fds the program never sees */

#define XAX_LAYER_VERSION 14 /* bump on any change to the structs below: images carry their layer */

struct layer_call {
    long nr;
    uint64_t a[6];          /* rdi, rsi, rdx, r10, r8, r9 as the program passed them */
    void *uc;               /* the interrupted struct ucontext: its mask is the program's */
    /* A rewritten call's (the direct path): how many signals arrived for this thread while it
     * runs, held back to be delivered as it returns (pal_direct_frame).  A wait for readiness
     * ends for one with EINTR, as the kernel's does.  NULL on the trap path, whose SIGSYS
     * handler runs with every signal blocked (the kernel holds them). */
    const volatile uint64_t *held;
};

/* The first address a program cannot map (TASK_SIZE_MAX, 4-level page tables): a
 * buffer reaching it is -EFAULT before anything else, as Linux's access_ok says. */
#define XAX_USER_TOP 0x7ffffffff000UL

/* A signal action as rt_sigaction takes it (the kernel's struct sigaction on x86-64). */
struct xax_k_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

/* A signal the program sends itself, as its siginfo will say. */
struct xax_signal {
    int sig;
    int code;               /* SI_USER (kill) or SI_TKILL (tkill, tgkill) */
    uint32_t pid, uid;      /* the sender: the program's own virtual pid and uid */
};

struct xax_layer_host {
    uint32_t version;                       /* XAX_LAYER_VERSION */
    uint32_t flags;                         /* XAX_BOOT_FLAG_* */
    const struct xabi_table *abi;
    void (*trace)(int syscall_nr, int disposition);
    long (*forward)(struct layer_call *c);  /* an xaxcall: the Monitor serves the system call */
    /* abi->poll that waits for readiness at most a slice of time (protocol.py POLL_SLICE):
     * ready count, 0 when the slice passed, -1 on error */
    int (*poll_sliced)(xabi_poll_fd *pfds, int npfds);
    /* abi->poll that waits until an entry is ready, timeout_ms passed (< 0: no limit, 0: not
     * at all) or poll_wake is called (by any thread) — at once if poll_wake was called since
     * poll_wakes() gave seen: ready count (0: none), -1 on error */
    int (*poll_wait)(xabi_poll_fd *pfds, int npfds, int timeout_ms, uint32_t seen);
    /* something a poll_wait may wait for changed: it answers now; and the count of them */
    void (*poll_wake)(void);
    uint32_t (*poll_wakes)(void);
    /* the picoprocess writes no more on the channel (a socket's SHUT_WR); it still reads: 0 or -1 */
    int (*end_output)(int chnl);
    /* A whole URL (through the Monitor, under its Same Origin Policy), in memory
     * from abi->alloc: 0, -ENOENT or -EIO. */
    long (*fetch)(const char *url, const unsigned char **data, size_t *size);
    const uint8_t *random;                  /* 32 bytes from the Monitor */
    const void *image;                      /* the app's tar image (tar routes), mapped private read-only, or 0 */
    uint64_t image_size;
    /* The fd the image is mapped from (XAX_IMAGE_FD), or -1.  The filter lets
     * anyone map it privately (MAP_PRIVATE, never shared): the layer maps page-
     * aligned members straight from it instead of copying them. */
    int32_t image_fd;
    const char *origin;                     /* "scheme://host[:port]" the app came from, or 0 */
    const char *cwd;                        /* the app's working directory (its manifest), or 0 */
    const char *exe;                        /* the program's path in the image (its entry), or 0 */
    uint32_t host_pid;                      /* its pid on the host: the one kill/tgkill may name */
    /* The program's memory, accessed so that a bad address is an answer (-EFAULT)
     * and never a crash (pal/usercopy.S).  copy_in and copy_out: how many of the n
     * bytes could NOT be copied, as Linux's copy_from_user answers (0: all; n = 0
     * copies nothing, whatever the address).  string_in: a NUL-terminated string of at
     * most cap bytes, NUL included, copied whole: its length, -ENAMETOOLONG if it has
     * no NUL within cap bytes, or -EFAULT.  readable and writable: how many of the n
     * bytes from p on the program can read or write (those up to the first page it
     * cannot; every page up to n is touched, so callers keep n to what they move). */
    size_t (*copy_in)(void *dst, const void *src, size_t n);
    size_t (*copy_out)(void *dst, const void *src, size_t n);
    long (*string_in)(char *dst, const char *src, size_t cap);
    size_t (*readable)(const void *p, size_t n);
    size_t (*writable)(void *p, size_t n);
    /* The program's action for one of its signals (already without SIGSYS, SIGSEGV,
     * SIGBUS and SA_ONSTACK): installed for real through the one buffer the filter
     * lets rt_sigaction name, or, for SIGSYS, SIGSEGV and SIGBUS, whose real handlers
     * stay the PAL's, kept by the PAL and honoured by it (pal/signals.c).  0 or -errno. */
    long (*sigaction)(int sig, const struct xax_k_sigaction *act);
    /* The program sends itself SIGSYS, SIGSEGV or SIGBUS from the trapped call whose
     * frame is uc and whose answer is result: the PAL acts as the kernel would, at
     * once (the program's handler entered as the call returns, its default action, or
     * nothing).  Returns what the trapped call answers: result, or 0 when the handler
     * is entered (result is then in its frame, restored when the handler returns). */
    long (*raise)(void *uc, long result, const struct xax_signal *s);
    /* One request to the Monitor (a message of xax_emu/protocol.py), the PAL's own
     * xaxcall: the reply's arg, its payload copied into out (at most outcap bytes;
     * *outlen: its whole length).  len is at most XAX_MAX_PAYLOAD. */
    int32_t (*xaxcall)(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len, void *out,
                       uint32_t outcap, uint32_t *outlen);
    /* The Monitor's PAL settings, "key=value", NULL-terminated: mount=MODE:GUEST for each
     * host directory granted (run --mount), export_ram=1 (run --export-ram), ... */
    const char **settings;
    /* With XAX_BOOT_FLAG_TRACE_PATHS: a path the program failed to open or look at (TRACE_PATH:
     * err is the positive errno, path len bytes, no NUL, at most XAX_TRACE_PATH_MAX). */
    void (*trace_path)(int syscall_nr, int err, const char *path, uint32_t len);
    /* fork (docs/processes.md): SPAWN, sending chans (the int32 channel ids the process holds,
     * len bytes), then a plain fork.  The parent gets the child's host pid (or -errno) and the
     * child 0; both get the child's virtual pid in *vpid.  The child runs on a channel of its own. */
    long (*fork)(const void *chans, uint32_t len, int32_t *vpid);
    /* execve in place (docs/processes.md): img (a whole ELF file from the image, size bytes) becomes
     * the program, with argv and envp (copied: they may lie in the memory it unmaps), entered when
     * the trapped call whose frame is uc returns.  -ENOEXEC if img is no program it can load
     * (nothing changed); once it has begun, a failure ends the process. */
    long (*exec)(void *uc, const void *img, uint64_t size, const char *const *argv, const char *const *envp);
    /* The layer mapped, at addr, len bytes of the image from image_off, executable (prot): bytes of
     * the file whose data lies at [file_off, file_off + file_size) of the image.  The PAL rewrites
     * the system call sites the image's site table names there (pal/sites.c), before any code runs
     * from the new mapping. */
    void (*code_mapped)(uintptr_t addr, uint64_t len, uint64_t image_off, uint64_t file_off, uint64_t file_size,
                        uint64_t prot);
    /* The family's arena (docs/processes.md): memory every process of the family maps at
     * this address, shared (MAP_SHARED, mapped by the boot block before the seal when
     * processes are enabled), arena_size bytes; 0 otherwise. */
    void *arena;
    uint64_t arena_size;
};

/* The virtual user the program runs as (the profile's identity knob). */
struct xax_layer_identity {
    uint32_t uid, gid, euid, egid;
};

struct xax_layer_exports {
    uint32_t version;                       /* XAX_LAYER_VERSION */
    const struct xax_layer_identity *identity; /* for AT_UID, AT_GID, ... */
    long (*dispatch)(struct layer_call *c);
    void (*program_loaded)(uintptr_t brk_start);
    const char *profile;                    /* the profile it was compiled from */
    const char *init_error;                 /* set if the layer could not start (one line) */
    /* A whole file through the layer's file system (the PAL loads the program
     * with it): 0, or -errno.  Data in the image is not copied. */
    long (*load_file)(const char *path, const void **data, uint64_t *size);
    /* The virtual pid of one of the process's children (or one it reaped lately) by host pid,
     * or 0: the PAL names SIGCHLD's sender with it before the program's handler sees it.
     * Called from a signal handler: it only reads. */
    int32_t (*vpid_of)(int32_t host_pid);
};

typedef const struct xax_layer_exports *(*xax_layer_entry)(const struct xax_layer_host *host);

#endif
