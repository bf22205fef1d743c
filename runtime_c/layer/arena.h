/* The family's arena (arena.c, docs/processes.md): the memory a family of processes shares
 * (the file system's nodes, descriptions and RAM disks) and the one lock over it. */
#ifndef XAX_LAYER_ARENA_H
#define XAX_LAYER_ARENA_H

#include <stddef.h>
#include <stdint.h>

/* whether this process has the arena (processes enabled): else nothing below is used */
int arena_on(void);
/* blocks of whole pages from the arena (the vfs's env.alloc and env.release); NULL when full */
void *arena_alloc(size_t n);
void arena_release(void *p, size_t n);
/* The family's lock over the arena: held by a process while it runs a system call in the
 * layer (dispatch.c), let go while it waits (layer_wait_begin) or moves bytes on a channel
 * (chan.c).  No-ops without the arena.  family_unlock: whether it was held. */
void family_lock(void);
int family_unlock(void);
/* how many times a waiter took the lock over from a dead process (the arena's count) */
uint32_t family_lock_steals(void);
/* Whether a member of the family ever forked: from then on an object in the arena (a socket,
 * an eventfd) may be changed by another process, whose futex wake never reaches this one's
 * private futex wait, so waits look again every FAMILY_SLICE_NS (wait.c, sys_fs.c's env_wait). */
void family_mark_forked(void);
int family_forked(void);
#define FAMILY_SLICE_NS (5 * 1000000LL)

#endif
