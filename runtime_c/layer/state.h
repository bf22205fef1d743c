/* The layer's state: everything its handlers keep from one call to the next, in
 * one struct, as the VFS keeps all of its own in struct vfs.  The program's
 * threads share it: `lock` lets one call at a time into the layer (dispatch.c),
 * and a handler that waits without touching the state lets go of it for the
 * wait (layer_wait_begin and layer_wait_end).  Its initial values: state.c. */
#ifndef XAX_LAYER_STATE_H
#define XAX_LAYER_STATE_H

#include <linux/resource.h>
#include <stdint.h>

#include "../lib/lock.h"
#include "xax_layer.h" /* struct xax_k_sigaction: struct sigaction as rt_sigaction takes it */

struct vfs;

/* Children a process may have at once, unreaped: the family's process limit is at most this. */
#define LAYER_CHILDREN_MAX 256

/* The kernel's signals are 1 .. 64. */
#define LAYER_SIG_MAX 64

/* stack_t, as sigaltstack takes it */
struct k_stack {
    void *ss_sp;
    int ss_flags;
    int pad;
    unsigned long ss_size;
};

/* struct rlimit64 (prlimit64), and on x86-64 struct rlimit (getrlimit, setrlimit) too */
struct rlimit64_k {
    uint64_t cur, max;
};

struct layer_state {
    xax_lock lock;
    struct vfs *vfs;                                 /* files, fds, pipes, the cwd (sys_fs.c) */
    struct {
        uintptr_t start, cur, mapped;                /* the program break, and how far it is mapped (sys_mem.c) */
    } brk;
    struct xax_k_sigaction sigactions[LAYER_SIG_MAX + 1]; /* each signal's action as the program set it (sys_signal.c) */
    struct k_stack sigaltstack;                      /* the program's signal stack, recorded only (sys_signal.c) */
    struct rlimit64_k rlimits[RLIM_NLIMITS];         /* the program's view of its limits (sys_rlimit.c) */
    char process_name[16];                           /* PR_SET_NAME, for PR_GET_NAME (sys_proc.c) */
    /* A futex word that nothing ever wakes: timed sleeps (sys_time.c) and the
     * channel's naps (chan.c) wait on it, outside the lock; only the kernel reads it. */
    int never_woken;
    /* Bumped by every change inside the picoprocess a readiness wait may wait for (wait.c);
     * waiters with no channel to ask sleep on it (ready_waiters of them). */
    uint32_t ready_word;
    int ready_waiters;
    /* Processes (sys_fork.c): its virtual pid and its parent's (0 until set: the entry
     * program's are XAX_VIRTUAL_PID and 1), and its children not yet reaped. */
    int32_t vpid, ppid;
    int nchildren;
    struct layer_child {
        int32_t vpid;
        int32_t host_pid;
    } children[LAYER_CHILDREN_MAX];
    /* The last children reaped, as SIGCHLD's handler may run after the wait (layer_vpid_of). */
    struct layer_child reaped[16];
    unsigned nreaped;
    /* exec of a multithreaded process (dispatch.c): bumped by each exec; set while one ends the
     * other threads; how many threads wait for the lock or in a wait (held back: not running). */
    uint32_t exec_gen;
    int ending_threads;
    int parked;
};

extern struct layer_state layer;

#endif
