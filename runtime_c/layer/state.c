/* The layer's state (state.h), with the values a program starts with. */
#include <linux/signal.h>

#include "layer.h"

#define INF (~0ULL)

struct layer_state layer = {
    .sigaltstack = {0, SS_DISABLE, 0, 0},
    /* The usual Linux defaults (sys_rlimit.c): 8 MiB stack, 1024 fds (the VFS's fd table), no core files. */
    .rlimits = {
        [RLIMIT_CPU] = {INF, INF},       [RLIMIT_FSIZE] = {INF, INF},   [RLIMIT_DATA] = {INF, INF},
        [RLIMIT_STACK] = {8 << 20, INF}, [RLIMIT_CORE] = {0, 0},        [RLIMIT_RSS] = {INF, INF},
        [RLIMIT_NPROC] = {1, 1},         [RLIMIT_NOFILE] = {1024, 1024}, [RLIMIT_MEMLOCK] = {8 << 20, 8 << 20},
        [RLIMIT_AS] = {INF, INF},        [RLIMIT_LOCKS] = {INF, INF},   [RLIMIT_SIGPENDING] = {64, 64},
        [RLIMIT_MSGQUEUE] = {819200, 819200}, [RLIMIT_NICE] = {0, 0},   [RLIMIT_RTPRIO] = {0, 0},
        [RLIMIT_RTTIME] = {INF, INF},
    },
    .process_name = "xax-pico",
};
