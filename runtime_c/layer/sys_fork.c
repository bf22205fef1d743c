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
 *
 * @family sigsuspend: rt_sigsuspend as shells use it to wait for SIGCHLD: until a child changes
 *     state (or 10 ms pass, with no child), then EINTR with the given mask left in place, so that
 *     a pending signal's handler runs as the call returns (the old mask is not restored after it)
 * @serves rt_sigsuspend
 *
 * @family exec: execve and execveat of a program from the image, in place (static, dynamic with
 *     its interpreter from the image, a #! script with its interpreter from the image), never a
 *     host program; with processes enabled, else ENOSYS as before
 * @serves execve execveat
 */
#include "arena.h"
#include <linux/fcntl.h>
#include <linux/futex.h>
#include <linux/time_types.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/signal.h>
#include <linux/stat.h>
#include <linux/wait.h>

#include "xax_frame.h"

#include "../lib/sys.h"
#include "chan.h"
#include "layer.h"
#include "user.h"
#include "../vfs/vfs.h"

#define TAGGED(v) ((long)((XAX_PROC_TAG << 32) | (unsigned long)(unsigned)(v)))

int layer_processes_enabled(void)
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

#define processes_enabled layer_processes_enabled

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
    layer.reaped[layer.nreaped++ % (sizeof layer.reaped / sizeof layer.reaped[0])] = *k;
    *k = layer.children[--layer.nchildren];
}

int32_t layer_vpid_of(int32_t host_pid)
{
    struct layer_child *k = child_by_host(host_pid);
    if (k)
        return k->vpid;
    for (unsigned i = 0; i < sizeof layer.reaped / sizeof layer.reaped[0]; i++)
        if (layer.reaped[i].host_pid == host_pid && host_pid)
            return layer.reaped[i].vpid;
    return 0;
}

/* The fork itself.  In the child (returns 0) the stack pointer moves to `stack` if one was
 * given (posix_spawn's clone), and the tid words are written with virtual pids. */
/* One pipe made the Monitor's (vfs_pipes_to_channels): PIPE with what is buffered in it. */
static long make_pipe(void *ctx, const void *data, size_t len, uint32_t capacity, int *chans)
{
    (void)ctx;
    int32_t wchan = -1;
    uint32_t got = 0;
    /* a pipe made larger (F_SETPIPE_SZ) may hold more than one message carries: the rest is
     * written into the family's pipe through its write end, which has room for it all */
    size_t first = len < XAX_MAX_PAYLOAD ? len : XAX_MAX_PAYLOAD;
    int32_t r = layer_host->xaxcall(XAX_MSG_PIPE, -1, (int32_t)capacity, data, (uint32_t)first, &wchan,
                                    sizeof wchan, &got);
    if (r < 0 || got != sizeof wchan || wchan < 0)
        return -EMFILE;
    for (size_t done = first; done < len;) {
        long w = chan_write(wchan, (const char *)data + done, len - done);
        if (w <= 0) {
            LAYER_ABI->close(r);
            LAYER_ABI->close(wchan);
            return -EMFILE;
        }
        done += (size_t)w;
    }
    chans[0] = r;
    chans[1] = wchan;
    return 0;
}

/* The fork, the file system shared (arena.c, vfs/fork.c): the child's references are taken
 * before it, under the family's lock; the lock is let go across the fork (the child must not
 * start out as its holder) and taken again by the parent here, by the child in do_fork. */
static long fork_sharing_files(int32_t *vpid)
{
    if (!arena_on())
        return layer_host->fork(0, 0, vpid);
    long e = vfs_fork_prepare(layer.vfs);
    if (e < 0)
        return -EAGAIN;
    family_mark_forked(); /* before the child exists: its first wait already looks in slices */
    family_unlock();
    long pid = layer_host->fork(0, 0, vpid);
    if (pid != 0)
        family_lock();
    if (pid < 0)
        vfs_fork_abort(layer.vfs);
    return pid;
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
    long pid = fork_sharing_files(&vpid);
    if (pid < 0)
        return pid;
    if (pid == 0) { /* the child: a process of one thread with no children yet */
        layer.ppid = layer_vpid();
        layer.vpid = vpid;
        vfs_proc_set_pid((uint32_t)vpid);
        layer.nchildren = 0;
        layer_threads_forked();
        family_lock(); /* as the child's own (its vpid) */
        vfs_fork_child(layer.vfs);
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

/* The host pid to wait for: -1 for any child, or a child's; 0 when there is no such child. */
static int32_t host_target(int32_t pid)
{
    if (pid == -1)
        return layer.nchildren ? -1 : 0;
    struct layer_child *k = child_by_vpid(pid);
    return k ? k->host_pid : 0;
}

/* A child of group `pgid` (the family's: the Monitor knows each child's) with a state change
 * `flags` (waitid's WEXITED, WSTOPPED, WCONTINUED) waits for: its host pid; 0 if no child is in
 * the group (ECHILD); -1 if none is ready yet and `nohang`.  The kernel cannot wait for a
 * virtual group, so this waits for any child (WNOWAIT, the child stays) and looks again, with a
 * nap when the one that changed is of another group (it stays ready, and would be found again). */
static int32_t group_target(int32_t pgid, int flags, int nohang)
{
    for (;;) {
        int in_group = 0;
        for (int i = 0; i < layer.nchildren; i++) {
            struct layer_child *k = &layer.children[i];
            if (layer_host->xaxcall(XAX_MSG_PGRP, k->vpid, XAX_PGRP_GETPGID, 0, 0, 0, 0, 0) != pgid)
                continue;
            in_group = 1;
            siginfo_t info;
            info.si_pid = 0;
            long r = sys6(__NR_waitid, TAGGED(P_PID), k->host_pid, (long)&info, flags | WNOHANG | WNOWAIT, 0, 0);
            if (r == 0 && info.si_pid)
                return k->host_pid;
        }
        if (!in_group)
            return 0;
        if (nohang)
            return -1;
        siginfo_t info;
        info.si_pid = 0;
        uint32_t exec_gen = layer_wait_begin();
        long r = sys6(__NR_waitid, TAGGED(P_ALL), 0, (long)&info, flags | WNOWAIT, 0, 0);
        layer_wait_end(exec_gen);
        if (r < 0 && r != -EINTR)
            return 0;
        struct layer_child *changed = info.si_pid ? child_by_host(info.si_pid) : 0;
        if (changed && layer_host->xaxcall(XAX_MSG_PGRP, changed->vpid, XAX_PGRP_GETPGID, 0, 0, 0, 0, 0) == pgid)
            continue; /* one of the group: found by the next look */
        struct __kernel_timespec nap = {0, 5 * 1000 * 1000};
        exec_gen = layer_wait_begin();
        sys4(__NR_futex, (long)&layer.never_woken, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, (long)&nap);
        layer_wait_end(exec_gen);
    }
}

/* wait4's pid for a group: 0 its own, -pgid that one; else 0 (not a group). */
static int32_t wait4_group(int32_t pid)
{
    if (pid == 0)
        return processes_enabled() ? layer_host->xaxcall(XAX_MSG_PGRP, 0, XAX_PGRP_GETPGID, 0, 0, 0, 0, 0) : 0;
    return pid < -1 && pid != INT32_MIN ? -pid : 0;
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
    int32_t pgid = wait4_group(pid);
    if (pgid > 0) {
        int flags = WEXITED | ((options & WUNTRACED) ? WSTOPPED : 0) | ((options & WCONTINUED) ? WCONTINUED : 0);
        target = group_target(pgid, flags, options & WNOHANG);
        if (target < 0)
            return 0;
    }
    if (!target)
        return -ECHILD;
    int status = 0;
    struct rusage_k {
        long w[18];
    } ru;
    uint32_t exec_gen = layer_wait_begin(); /* a wait takes as long as the child does: other threads go on */
    long r = sys4(__NR_wait4, TAGGED(target), (long)&status, options, c->a[3] ? (long)&ru : 0);
    layer_wait_end(exec_gen);
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
    if (idtype == P_ALL)
        target = host_target(-1);
    else if (idtype == P_PID)
        target = id > 0 ? host_target(id) : -1;
    else if (idtype == P_PGID)
        target = id < 0 ? -1 : 1; /* checked below, after the options */
    else
        return -EINVAL;
    if (target < 0 && idtype != P_ALL)
        return -EINVAL;
    if (idtype == P_PGID) {
        if (!(options & (WEXITED | WSTOPPED | WCONTINUED)) ||
            (options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WALL | __WCLONE | __WNOTHREAD)))
            return -EINVAL;
        int32_t pgid = id ? id : (processes_enabled() ? layer_host->xaxcall(XAX_MSG_PGRP, 0, XAX_PGRP_GETPGID, 0, 0, 0, 0, 0)
                                                       : XAX_VIRTUAL_PID);
        target = processes_enabled() ? group_target(pgid, options & (WEXITED | WSTOPPED | WCONTINUED), options & WNOHANG) : 0;
        if (target < 0) { /* none ready: Linux's WNOHANG answer, a siginfo of zeros */
            siginfo_t none;
            memset(&none, 0, sizeof none);
            return c->a[2] && user_out(c->a[2], &none, sizeof none) < 0 ? -EFAULT : 0;
        }
    }
    if (!target)
        return -ECHILD;
    siginfo_t info;
    memset(&info, 0, sizeof info);
    long rus[18];
    uint32_t exec_gen = layer_wait_begin();
    long r = sys6(__NR_waitid, TAGGED(target > 0 ? P_PID : P_ALL), target > 0 ? target : 0, (long)&info, options,
                  c->a[4] ? (long)rus : 0, 0);
    layer_wait_end(exec_gen);
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

#define NEVER_BLOCKED_ ((1ULL << (SIGSYS - 1)) | (1ULL << (SIGSEGV - 1)) | (1ULL << (SIGBUS - 1)) | \
                        (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)))

long layer_rt_sigsuspend(struct layer_call *c)
{
    uint64_t mask;
    if (c->a[1] != 8)
        return -EINVAL;
    if (user_in(&mask, c->a[0], 8) < 0)
        return -EFAULT;
    long r = -ECHILD;
    if (layer.nchildren) { /* the usual wait: for SIGCHLD; the child stays to be reaped */
        siginfo_t info;
        uint32_t exec_gen = layer_wait_begin();
        r = sys6(__NR_waitid, TAGGED(P_ALL), 0, (long)&info, WEXITED | WSTOPPED | WCONTINUED | WNOWAIT, 0, 0);
        layer_wait_end(exec_gen);
    }
    if (r < 0) {
        struct __kernel_timespec nap = {0, 10 * 1000 * 1000};
        uint32_t exec_gen = layer_wait_begin();
        sys4(__NR_futex, (long)&layer.never_woken, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, (long)&nap);
        layer_wait_end(exec_gen);
    }
    mask &= ~NEVER_BLOCKED_;
    memcpy(&((struct ucontext *)c->uc)->uc_sigmask, &mask, 8);
    return -EINTR;
}

/* -- execve in place ------------------------------------------------------------------------ */

#define EXEC_ARGS_MAX 4096          /* argv and envp entries, each */
#define EXEC_STRINGS_MAX (1UL << 20) /* their bytes, NULs included (Linux allows more: 1/4 of the stack) */
#define EXEC_PATH_MAX 4096

struct exec_args {
    char *strings;                  /* EXEC_STRINGS_MAX bytes */
    size_t used;
    const char *argv[EXEC_ARGS_MAX + 4]; /* room for a #! line's interpreter, its argument and the script */
    const char *envp[EXEC_ARGS_MAX + 1];
    char exe[EXEC_PATH_MAX];        /* the loaded file's absolute path: /proc/self/exe from the exec on */
    long exelen;
};

static long keep_string(struct exec_args *a, const char *src, const char **out)
{
    if (a->used >= EXEC_STRINGS_MAX)
        return -E2BIG;
    long n = layer_host->string_in(a->strings + a->used, src, EXEC_STRINGS_MAX - a->used);
    if (n < 0)
        return n == -ENAMETOOLONG ? -E2BIG : n;
    *out = a->strings + a->used;
    a->used += (size_t)n + 1;
    return 0;
}

/* A NULL-terminated array of the program's strings (NULL itself: none), copied. */
static long keep_vector(struct exec_args *a, uint64_t vec, const char **out, int first)
{
    int n = first;
    for (int i = 0; vec; i++) {
        uint64_t p;
        if (user_in(&p, vec + 8 * (uint64_t)i, 8) < 0)
            return -EFAULT;
        if (!p)
            break;
        if (n >= EXEC_ARGS_MAX)
            return -E2BIG;
        long r = keep_string(a, (const char *)p, &out[n++]);
        if (r < 0)
            return r;
    }
    out[n] = 0;
    return n;
}

/* Resolve path in the image: a regular file someone may execute, loaded; its absolute path
 * (symlinks resolved, as Linux's /proc/self/exe shows it) in a->exe. */
static long load_program(struct exec_args *a, const char *path, const void **data, uint64_t *size)
{
    long fd = vfs_openat(layer.vfs, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    struct vfs_stat st;
    long r = vfs_fstat(layer.vfs, (int)fd, &st);
    a->exelen = vfs_fd_path(layer.vfs, (int)fd, a->exe, sizeof a->exe);
    vfs_close(layer.vfs, (int)fd);
    if (r < 0)
        return r;
    if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
        return -EACCES;
    return layer_load_file(path, data, size);
}

/* A #! line: the interpreter and its one optional argument, put before the script's path. */
static long shebang(struct exec_args *a, const char *script, const unsigned char *data, uint64_t size)
{
    char line[256];
    uint64_t n = 2;
    while (n < size && n < sizeof line && data[n] != '\n')
        n++;
    if (n >= sizeof line)
        return -ENOEXEC;
    memcpy(line, data + 2, n - 2);
    line[n - 2] = 0;
    char *p = line, *interp, *arg = 0;
    while (*p == ' ' || *p == '\t')
        p++;
    interp = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (*p) {
        *p++ = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p) {
            arg = p;
            char *end = p + strlen(p);
            while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
                *--end = 0;
        }
    }
    if (!*interp)
        return -ENOEXEC;
    int shift = arg ? 2 : 1; /* argv becomes: interp [arg] script argv[1..] */
    int argc = 0;
    while (a->argv[argc])
        argc++;
    if (argc + shift >= EXEC_ARGS_MAX + 3)
        return -E2BIG;
    const char *s_interp, *s_arg = 0, *s_script;
    if (keep_string(a, interp, &s_interp) < 0 || (arg && keep_string(a, arg, &s_arg) < 0) ||
        keep_string(a, script, &s_script) < 0)
        return -E2BIG;
    int from = argc ? 1 : 0; /* argv[0] is replaced by the script's path */
    for (int i = argc; i >= from; i--)
        a->argv[i + shift + 1 - from] = a->argv[i];
    a->argv[0] = s_interp;
    if (arg)
        a->argv[1] = s_arg;
    a->argv[shift] = s_script;
    return 0;
}

static void reset_handlers(void)
{
    struct xax_k_sigaction dfl = {0, 0, 0, 0};
    for (int sig = 1; sig <= LAYER_SIG_MAX; sig++) {
        void *h = layer.sigactions[sig].handler;
        if (h == (void *)0 || h == (void *)1 || sig == SIGKILL || sig == SIGSTOP)
            continue; /* default and ignored stay as they are */
        layer_host->sigaction(sig, &dfl);
        layer.sigactions[sig] = dfl;
    }
}

static long do_exec(struct layer_call *c, uint64_t upath, uint64_t uargv, uint64_t uenvp)
{
    if (!processes_enabled())
        return -ENOSYS;
    long m = sys6(__NR_mmap, 0, sizeof(struct exec_args) + EXEC_STRINGS_MAX, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sys_failed(m))
        return -ENOMEM;
    struct exec_args *a = (struct exec_args *)m;
    a->strings = (char *)m + sizeof *a;
    const char *path;
    long r = keep_string(a, (const char *)upath, &path);
    if (r == -E2BIG)
        r = -ENAMETOOLONG;
    const void *data = 0;
    uint64_t size = 0;
    if (r >= 0) /* Linux's order: the file is opened before argv and envp are read */
        r = load_program(a, path, &data, &size);
    if (r >= 0)
        r = keep_vector(a, uargv, a->argv, 0);
    if (r >= 0)
        r = keep_vector(a, uenvp, a->envp, 0);
    if (r >= 0 && size >= 2 && !memcmp(data, "#!", 2)) {
        r = shebang(a, path, data, size);
        if (r >= 0)
            r = load_program(a, a->argv[0], &data, &size);
    }
    if (r >= 0 && (size < 4 || memcmp(data, "\177ELF", 4)))
        r = -ENOEXEC;
    if (r >= 0) {
        size_t plen = strlen(path); /* the Monitor's record: the trace's tree, setpgid's EACCES */
        layer_end_other_threads(path, (uint32_t)(plen > XAX_EXEC_PATH_MAX ? XAX_EXEC_PATH_MAX : plen));
        if (layer.brk.mapped > layer.brk.start) /* a fixed-address program's break may lie where the next one goes */
            sys2(__NR_munmap, layer.brk.start, layer.brk.mapped - layer.brk.start);
        r = layer_host->exec(c->uc, data, size, a->argv, (const char *const *)a->envp);
        if (r < 0) /* past the point of no return: the old program has no break left */
            sys_exit_group(XAX_EXIT_RUNTIME_FAILED); /* the runtime could not finish what it began */
        vfs_close_on_exec(layer.vfs);
        reset_handlers();
        vfs_proc_set_exe(a->exe, a->exelen > 0 ? (size_t)a->exelen : 0);
    }
    sys2(__NR_munmap, m, sizeof(struct exec_args) + EXEC_STRINGS_MAX);
    return r;
}

long layer_execve(struct layer_call *c)
{
    return do_exec(c, c->a[0], c->a[1], c->a[2]);
}

long layer_execveat(struct layer_call *c)
{
    int dirfd = (int)c->a[0];
    if (!processes_enabled())
        return -ENOSYS;
    if (c->a[4]) /* AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW: not offered */
        return -EINVAL;
    char first;
    if (user_in(&first, c->a[1], 1) < 0)
        return -EFAULT;
    if (first != '/' && dirfd != AT_FDCWD)
        return -ENOSYS; /* a path relative to a directory fd: not offered yet */
    return do_exec(c, c->a[1], c->a[2], c->a[3]);
}
