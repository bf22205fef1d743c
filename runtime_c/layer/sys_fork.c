/* Processes: fork under the inherited seal, and waiting for children (docs/processes.md).
 *
 * A fork is the PAL's (xaxcall_fork: SPAWN, a plain fork, the child on a channel of its own).
 * The program names processes by virtual pids, which the Monitor hands out: the entry program
 * is XAX_VIRTUAL_PID, its children the next ones.  The layer keeps the host pids of its own
 * children to wait for them; the real wait4 and waitid are allowed only in the runtime's tagged
 * form (seal/allowlist.py), so the program's own traps here and never sees a host pid.
 *
 * @family processes: fork, vfork and clone's fork forms (posix_spawn's CLONE_VM|CLONE_VFORK
 *     on a stack of its own included) made real forks when the Monitor enables processes (PAL
 *     setting processes=1; else ENOSYS, as before); wait4 and waitid for the caller's children by
 *     virtual pid; getppid
 * @serves fork vfork clone wait4 waitid getppid
 */
#include <linux/sched.h>
#include <linux/signal.h>
#include <linux/wait.h>

#include "xax_frame.h"

#include "../lib/sys.h"
#include "layer.h"
#include "user.h"
#include "../vfs/vfs.h"

#define TAGGED(v) ((long)((XAX_PROC_TAG << 32) | (unsigned long)(unsigned)(v)))

static int processes_enabled(void)
{
    static int known = -1;
    if (known < 0) {
        known = 0;
        for (const char **s = layer_host->settings; s && *s; s++)
            if (!strcmp(*s, "processes=1"))
                known = 1;
    }
    return known && layer_host->fork;
}

int32_t layer_vpid(void)
{
    return layer.vpid ? layer.vpid : XAX_VIRTUAL_PID;
}

long layer_getppid(struct layer_call *c)
{
    (void)c;
    return layer.ppid ? layer.ppid : 1; /* the entry program's parent is outside: init's number */
}

static struct layer_child *child_by_vpid(int32_t vpid)
{
    for (int i = 0; i < layer.nchildren; i++)
        if (layer.children[i].vpid == vpid)
            return &layer.children[i];
    return 0;
}

static struct layer_child *child_by_host(int32_t host_pid)
{
    for (int i = 0; i < layer.nchildren; i++)
        if (layer.children[i].host_pid == host_pid)
            return &layer.children[i];
    return 0;
}

static void forget_child(struct layer_child *k)
{
    *k = layer.children[--layer.nchildren];
}

/* The fork itself.  In the child (returns 0) the stack pointer moves to `stack` if one was
 * given (posix_spawn's clone), and the tid words are written with virtual pids. */
/* One pipe made the Monitor's (vfs_pipes_to_channels): PIPE with what is buffered in it. */
static long make_pipe(void *ctx, const void *data, size_t len, int *chans)
{
    (void)ctx;
    int32_t wchan = -1;
    uint32_t got = 0;
    int32_t r = layer_host->xaxcall(XAX_MSG_PIPE, -1, 0, data, (uint32_t)len, &wchan, sizeof wchan, &got);
    if (r < 0 || got != sizeof wchan || wchan < 0)
        return -EMFILE;
    chans[0] = r;
    chans[1] = wchan;
    return 0;
}

static long do_fork(struct layer_call *c, uint64_t stack, uint64_t parent_tid, uint64_t child_tid)
{
    if (!processes_enabled())
        return -ENOSYS;
    if (layer.nchildren >= LAYER_CHILDREN_MAX)
        return -EAGAIN;
    long e = vfs_pipes_to_channels(layer.vfs, make_pipe, 0); /* the family shares its pipes through the Monitor */
    if (e < 0)
        return e == -EMFILE ? -EAGAIN : e;
    int32_t vpid = 0;
    long pid = layer_host->fork(0, 0, &vpid);
    if (pid < 0)
        return pid;
    if (pid == 0) { /* the child: a process of one thread with no children yet */
        layer.ppid = layer_vpid();
        layer.vpid = vpid;
        layer.nchildren = 0;
        if (child_tid)
            user_out(child_tid, &vpid, 4);
        if (parent_tid)
            user_out(parent_tid, &vpid, 4);
        if (stack)
            ((struct ucontext *)c->uc)->uc_mcontext.rsp = stack;
        return 0;
    }
    layer.children[layer.nchildren++] = (struct layer_child){vpid, (int32_t)pid};
    if (parent_tid)
        user_out(parent_tid, &vpid, 4);
    return vpid;
}

long layer_fork(struct layer_call *c)
{
    return do_fork(c, 0, 0, 0);
}

long layer_vfork(struct layer_call *c)
{
    return do_fork(c, 0, 0, 0); /* a vfork child only execs or exits, which a fork child does as well */
}

/* clone(flags, stack, parent_tid, child_tid, tls): the fork forms only.  A thread form other
 * than pthread_create's (which the filter lets through) and every namespace answer ENOSYS. */
#define CLONE_FORK_FLAGS (CSIGNAL | CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | \
                          CLONE_CHILD_CLEARTID)

long layer_clone(struct layer_call *c)
{
    uint64_t flags = c->a[0];
    if ((flags & ~(uint64_t)CLONE_FORK_FLAGS) || (flags & CSIGNAL) != SIGCHLD)
        return -ENOSYS;
    if ((flags & CLONE_VM) && !(flags & CLONE_VFORK))
        return -ENOSYS; /* shared memory without a vfork's promise: a thread, which this is not */
    uint64_t stack = (flags & CLONE_VM) ? c->a[1] : 0; /* a fork child stays on its copy of the stack */
    return do_fork(c, stack, (flags & CLONE_PARENT_SETTID) ? c->a[2] : 0, (flags & CLONE_CHILD_SETTID) ? c->a[3] : 0);
}

/* The host pid to wait for: -1 for any child (process groups are the family's one, so 0 and
 * -pgid wait for any child too), or a child's; 0 when there is no such child. */
static int32_t host_target(int32_t pid)
{
    if (pid <= 0)
        return layer.nchildren ? -1 : 0;
    struct layer_child *k = child_by_vpid(pid);
    return k ? k->host_pid : 0;
}

static int reaps(int options, int status_or_code, int is_waitid)
{
    if (is_waitid)
        return !(options & WNOWAIT) && (status_or_code == CLD_EXITED || status_or_code == CLD_KILLED ||
                                        status_or_code == CLD_DUMPED);
    return (status_or_code & 0x7f) != 0x7f && status_or_code != 0xffff; /* exited or killed, not stopped/continued */
}

long layer_wait4(struct layer_call *c)
{
    int32_t pid = (int32_t)c->a[0];
    int options = (int)c->a[2];
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE | __WNOTHREAD))
        return -EINVAL;
    int32_t target = host_target(pid);
    if (!target)
        return -ECHILD;
    int status = 0;
    struct rusage_k {
        long w[18];
    } ru;
    layer_wait_begin(); /* a wait takes as long as the child does: other threads go on */
    long r = sys4(__NR_wait4, TAGGED(target), (long)&status, options, c->a[3] ? (long)&ru : 0);
    layer_wait_end();
    if (r <= 0)
        return r;
    struct layer_child *k = child_by_host((int32_t)r);
    int32_t vpid = k ? k->vpid : 0;
    if (k && reaps(options, status, 0))
        forget_child(k);
    if (c->a[1] && user_out(c->a[1], &status, 4) < 0)
        return -EFAULT;
    if (c->a[3] && user_out(c->a[3], &ru, sizeof ru) < 0)
        return -EFAULT;
    return vpid;
}

/* waitid(idtype, id, infop, options, rusage): P_ALL, P_PID and P_PGID (the family's one group). */
long layer_waitid(struct layer_call *c)
{
    int idtype = (int)c->a[0];
    int32_t id = (int32_t)c->a[1];
    int options = (int)c->a[3];
    int32_t target;
    if (idtype == P_ALL || idtype == P_PGID)
        target = host_target(-1);
    else if (idtype == P_PID)
        target = id > 0 ? host_target(id) : -1;
    else
        return -EINVAL;
    if (target < 0 && idtype == P_PID)
        return -EINVAL;
    if (!target)
        return -ECHILD;
    siginfo_t info;
    memset(&info, 0, sizeof info);
    long rus[18];
    layer_wait_begin();
    long r = sys6(__NR_waitid, TAGGED(target > 0 ? P_PID : P_ALL), target > 0 ? target : 0, (long)&info, options,
                  c->a[4] ? (long)rus : 0, 0);
    layer_wait_end();
    if (r < 0)
        return r;
    if (info.si_pid) { /* a child changed state: name it by its virtual pid */
        struct layer_child *k = child_by_host(info.si_pid);
        info.si_pid = k ? k->vpid : 0;
        info.si_uid = layer_knobs.identity.uid;
        if (k && reaps(options, info.si_code, 1))
            forget_child(k);
    }
    if (c->a[2] && user_out(c->a[2], &info, sizeof info) < 0)
        return -EFAULT;
    if (c->a[4] && user_out(c->a[4], rus, sizeof rus) < 0)
        return -EFAULT;
    return 0;
}
