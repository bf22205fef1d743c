/* The interposition layer: the SIGSYS handler's dispatcher and its handlers.
 * Handlers return the system call's result: >= 0, or -errno. */
#ifndef XAX_LAYER_INTERNAL_H
#define XAX_LAYER_INTERNAL_H

#include <asm/errno.h>
#include <stdint.h>

#include "state.h"
#include "xax_layer.h"

typedef long (*layer_handler)(struct layer_call *c);

/* The PAL's services, as handed to xax_layer_start. */
extern const struct xax_layer_host *layer_host;
#define LAYER_ABI (layer_host->abi)

/* One entry of the table the profile compiler generates (layer_table.c). */
enum { LAYER_MISSING = 0, LAYER_EMULATE = 1, LAYER_REJECT = 2, LAYER_FORWARD = 3 };
struct layer_entry {
    uint8_t kind;
    layer_handler handler;  /* LAYER_EMULATE */
    long result;            /* LAYER_REJECT: returned as it is (-errno or a value) */
};
extern const struct layer_entry layer_table[XAX_LAYER_NR_MAX];
extern const char layer_profile_name[];

/* The profile's knobs, generated with the table. */
struct layer_knobs {
    struct xax_layer_identity identity;
    const char *uname[6]; /* sysname, nodename, release, version, machine, domainname */
    const char *cwd;            /* initial working directory, or 0 for "/" */
    const char *proc_self_exe;  /* /proc/self/exe, instead of the image's entry, or 0 */
};
extern const struct layer_knobs layer_knobs;

/* The profile's routes: path prefix -> backend, generated with the table. */
enum { LAYER_ROUTE_TAR = 1, LAYER_ROUTE_RAM = 2, LAYER_ROUTE_ORIGIN = 3, LAYER_ROUTE_DENY = 4, LAYER_ROUTE_DEV = 5,
       LAYER_ROUTE_PROC = 6 };
struct layer_route {
    const char *prefix;     /* absolute, no trailing slash ("/" for the root) */
    int kind;
    const char *where;      /* tar: subdirectory of the image ("" = its root); origin: URL path prefix */
    uint64_t size;          /* ram: the cap in bytes */
};
struct layer_pin {          /* origin: a file's expected sha256 */
    const char *prefix;     /* the route */
    const char *path;       /* relative to the route */
    uint8_t sha256[32];
};
extern const struct layer_route layer_routes[];
extern const unsigned layer_nroutes;
extern const struct layer_pin layer_pins[];
extern const unsigned layer_npins;

long layer_dispatch(struct layer_call *c);
/* A path call (protocol.py TRACE_PATH_CALLS) answered r: if it failed and the Monitor asked
 * (XAX_BOOT_FLAG_TRACE_PATHS), tell it the path and the errno (failed_path.c). */
void layer_failed_path(long nr, int dirfd, const char *path, long r);
/* Around a wait that touches no layer state, so that other threads' calls go on. */
/* The process's virtual pid (sys_fork.c): XAX_VIRTUAL_PID for the entry program. */
int32_t layer_vpid(void);
/* A child's virtual pid by host pid, reaped lately or not; 0 if none (sys_fork.c). */
int32_t layer_vpid_of(int32_t host_pid);
/* Whether the Monitor lets it fork (PAL setting processes=1): only then are there other processes. */
int layer_processes_enabled(void);

/* Each begin returns the exec generation its end takes back.  An end answers 0, or -EINTR when
 * another thread exec'd meanwhile: the call is to give up at once, leaving things as they were
 * (no bytes moved, no child reaped); the thread then ends as its call returns (dispatch.c). */
uint32_t layer_wait_begin(void);
long layer_wait_end(uint32_t exec_gen);
uint32_t layer_nap_begin(void);
long layer_nap_end(uint32_t exec_gen);
/* exec (sys_fork.c): tell the Monitor (EXEC, the new program's path) and end every other thread
 * of the process before the new program runs (dispatch.c). */
void layer_end_other_threads(const char *path, uint32_t len);
/* fork's child (sys_fork.c): a process of one thread, none held back. */
void layer_threads_forked(void);

/* The kernel takes fds as int: truncate exactly as it does. */
static inline int arg_fd(uint64_t v)
{
    return (int)(uint32_t)v;
}

/* What the user granted at run time (grants.c): host directories (run --mount), mounted
 * by layer_fs_init; the RAM disks' export at exit (run --export-ram), done by
 * layer_exit_group, which the dispatcher calls before the table (exit_group traps only
 * then); and the VFS's way to the Monitor for the host directories. */
const char *layer_mount_grants(void);
__attribute__((noreturn)) void layer_exit_group(struct layer_call *c);
long layer_env_monitor(void *ctx, uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len,
                       void *out, uint32_t outcap, uint32_t *outlen);

/* The start-up services the PAL calls through xax_layer_exports. */
const char *layer_fs_init(void);                                           /* sys_fs.c */
long layer_load_file(const char *path, const void **data, uint64_t *size);  /* sys_fs.c */
void layer_program_loaded(uintptr_t brk_start);                            /* sys_mem.c */

/* The system call handlers: generated from the @family and @serves lines that
 * open each sys_*.c file (tools/gen_layer_handlers.py), which are also the
 * registry of handlers that profiles name (xax_emu/syscalls/_handlers.py). */
#include "handlers.h"

#endif
