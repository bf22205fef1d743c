/* Files: every fd and path system call, served by the VFS (runtime_c/vfs/)
 * over the profile's routes; fds 0-2 are the stdio channels; /dev/urandom's
 * bytes are the Monitor's (a forwarded getrandom).  File-backed mmap: a
 * page-aligned member of the image is mapped from the image fd; anything else
 * is copied into anonymous memory.
 *
 * @family vfs: files through the profile's routes (tar image, RAM disk, origin, deny, the
 *     synthetic /dev and /proc); fds 0-2 are the stdio channels; no fd is a terminal
 * @serves read write readv writev pread64 pwrite64 lseek close open openat creat stat lstat fstat
 *     newfstatat statx getdents64 readlink readlinkat access faccessat faccessat2 mkdir mkdirat
 *     rmdir unlink unlinkat rename renameat renameat2 ftruncate fsync fdatasync dup dup2 dup3
 *     close_range fcntl ioctl chdir fchdir getcwd umask pipe pipe2 chmod fchmod fchmodat
 *
 * @family mmap: the mmap forms the filter traps: files are copied into private memory, shared
 *     anonymous memory is private memory, huge pages ENOMEM
 * @serves mmap
 */
#include <asm-generic/ioctls.h>
#include <linux/fcntl.h>
#include <linux/futex.h>
#include <linux/mman.h>
#include <linux/stat.h>
#include <linux/time.h>
#include <linux/time_types.h>

#include "../lib/sys.h"
#include "../vfs/vfs.h"
#include "arena.h"
#include "chan.h"
#include "layer.h"
#include "net.h"
#include "user.h"
#include "wait.h"
#include "xax_protocol.h"

#define V (layer.vfs)

#define A(i) (c->a[i])
#define FD(i) program_fd(c->a[i])

/* The channel's number and the image's are never the program's fds: a read or
 * write on the channel would reach the kernel (the filter allows those) and the
 * Monitor, a private mmap of the image fd would too.  The VFS keeps both
 * numbers occupied (see layer_fs_init) so that it never hands them out, and
 * every call naming them sees -EBADF, as for a closed fd. */
static int program_fd(uint64_t v)
{
    int fd = arg_fd(v);
    return fd == XAX_CHANNEL_FD || fd == XAX_IMAGE_FD ? -1 : fd;
}

/* -- the VFS's environment inside the picoprocess ---------------------------- */

/* The process's own memory: struct vfs (its fds and cwd), and everything when processes are off. */
static void *env_alloc_own(void *ctx, size_t n)
{
    (void)ctx;
    return LAYER_ABI->alloc(0, (long)n);
}

static void env_release_own(void *ctx, void *p, size_t n)
{
    (void)ctx;
    (void)n;
    LAYER_ABI->free(p);
}

/* The file system's memory: the family's arena when processes are enabled (arena.c: nodes,
 * descriptions and the RAM disks' bytes are then the family's), else the process's own. */
static void *env_alloc(void *ctx, size_t n)
{
    return arena_on() ? arena_alloc(n) : env_alloc_own(ctx, n);
}

static void env_release(void *ctx, void *p, size_t n)
{
    if (arena_on())
        arena_release(p, n);
    else
        env_release_own(ctx, p, n);
}

/* An origin file: layer_host->origin + url, fetched whole through the Monitor
 * (which enforces the Same Origin Policy). */
static int env_fetch(void *ctx, const char *url, void **data, size_t *len)
{
    (void)ctx;
    const char *origin = layer_host->origin;
    if (!origin)
        return -ENOENT;
    size_t o = strlen(origin), u = strlen(url);
    char *full = env_alloc(0, o + u + 1);
    if (!full)
        return -EIO;
    memcpy(full, origin, o);
    memcpy(full + o, url, u + 1);
    const unsigned char *got;
    long r = layer_host->fetch(full, &got, len);
    env_release(0, full, o + u + 1);
    if (r == 0 && arena_on() && *len) { /* the PAL's memory is the process's own: the family's copy */
        void *copy = env_alloc(0, *len);
        if (copy)
            memcpy(copy, got, *len);
        LAYER_ABI->free((void *)got);
        if (!copy)
            return -EIO;
        got = copy;
    }
    if (r == 0)
        *data = (void *)got;
    return (int)r;
}

/* The stdio channels: the PAL moves the bytes between the channel and the
 * program's buffer.  A read takes at most one reply's worth, and only into what
 * the program can write: the Monitor's bytes would be lost in a bad buffer. */
static long into_program(int chan, void *buf, size_t n, long (*read)(int, void *, size_t))
{
    n = layer_host->writable(buf, n < XAX_MAX_PAYLOAD ? n : XAX_MAX_PAYLOAD);
    return n ? read(chan, buf, n) : -EFAULT;
}

static long from_program(int chan, const void *buf, size_t n, long (*write)(int, const void *, size_t))
{
    n = layer_host->readable(buf, n); /* what it can read of it, as far as the first bad page */
    return n ? write(chan, buf, n) : -EFAULT;
}

static long env_chan_read(void *ctx, int chan, void *buf, size_t n)
{
    (void)ctx;
    return into_program(chan, buf, n, chan_read);
}

static long env_chan_write(void *ctx, int chan, const void *buf, size_t n)
{
    (void)ctx;
    return from_program(chan, buf, n, chan_write);
}

static long env_chan_try_read(void *ctx, int chan, void *buf, size_t n)
{
    (void)ctx;
    return into_program(chan, buf, n, chan_try_read);
}

static long env_chan_try_write(void *ctx, int chan, const void *buf, size_t n)
{
    (void)ctx;
    return from_program(chan, buf, n, chan_try_write);
}

static void env_chan_close(void *ctx, int chan)
{
    (void)ctx;
    LAYER_ABI->close(chan);
}

/* /dev/random and /dev/urandom: the Monitor's randomness, through the same
 * xaxcall as a forwarded getrandom (it answers at most 64 KiB at a time). */
static long env_random(void *ctx, void *buf, size_t n)
{
    (void)ctx;
    struct layer_call c = {.nr = __NR_getrandom, .a = {(uint64_t)(uintptr_t)buf, n, 0, 0, 0, 0}};
    return layer_host->forward(&c);
}

static void env_clock(void *ctx, int64_t *sec, uint32_t *nsec)
{
    (void)ctx;
    struct __kernel_timespec ts = {0, 0};
    sys2(__NR_clock_gettime, CLOCK_REALTIME, (long)&ts);
    *sec = ts.tv_sec;
    *nsec = (uint32_t)ts.tv_nsec;
}

/* A thread blocked on a pipe lets the others into the layer (dispatch.c) and
 * sleeps on the pipe's word: private futex wait and wake, on the allowlist.  Once the family
 * has forked, the word may lie in the arena and be bumped by another member, whose private
 * wake never reaches this process: the wait then ends every FAMILY_SLICE_NS and the caller
 * looks again (its callers loop until what they wait for is there). */
static long env_wait(void *ctx, uint32_t *word, uint32_t seen)
{
    (void)ctx;
    uint32_t exec_gen = layer_wait_begin();
    if (family_forked()) {
        struct __kernel_timespec slice = {0, FAMILY_SLICE_NS};
        sys4(__NR_futex, (long)word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, (long)seen, (long)&slice);
    } else {
        sys4(__NR_futex, (long)word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, (long)seen, 0);
    }
    return layer_wait_end(exec_gen);
}

static void env_wake(void *ctx, uint32_t *word)
{
    (void)ctx;
    sys3(__NR_futex, (long)word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 0x7fffffff);
    wait_changed(); /* and the waits for readiness (poll, select, epoll) look again */
}

/* The program's data buffers, for the VFS: fault-safe (pal/usercopy.S). */
static size_t env_copy_out(void *ctx, void *dst, const void *src, size_t n)
{
    (void)ctx;
    return layer_host->copy_out(dst, src, n);
}

static size_t env_copy_in(void *ctx, void *dst, const void *src, size_t n)
{
    (void)ctx;
    return layer_host->copy_in(dst, src, n);
}

static const struct vfs_env env = {
    .alloc = env_alloc,
    .release = env_release,
    .alloc_own = env_alloc_own,
    .release_own = env_release_own,
    .fetch = env_fetch,
    .chan_read = env_chan_read,
    .chan_write = env_chan_write,
    .chan_try_read = env_chan_try_read,
    .chan_try_write = env_chan_try_write,
    .chan_close = env_chan_close,
    .clock = env_clock,
    .wait = env_wait,
    .wake = env_wake,
    .random = env_random,
    .copy_out = env_copy_out,
    .copy_in = env_copy_in,
    .monitor = layer_env_monitor, /* host directories (grants.c) */
    LAYER_NET_ENV,                /* sockets: the Monitor's channels (net.c) */
};

/* Mount the profile's routes; NULL on success, else a one-line reason. */
const char *layer_fs_init(void)
{
    V = vfs_new(&env);
    if (!V)
        return "out of memory for the file system";
    vfs_set_user(V, layer_knobs.identity.uid, layer_knobs.identity.gid);
    if ((layer_host->flags & XAX_BOOT_FLAG_STDIO) && vfs_stdio(V) < 0)
        return "cannot set up the stdio fds";
    if (layer_host->flags & XAX_BOOT_FLAG_ACCEPT)
        vfs_net_accepts(V, 1); /* the browser's connections reach the first listening socket */
    /* The channel's and the image's numbers are never the VFS's fds (nor in /proc/self/fd). */
    if (vfs_reserve_fd(V, XAX_CHANNEL_FD) < 0)
        return "cannot reserve the channel's fd number";
    if (vfs_reserve_fd(V, XAX_IMAGE_FD) < 0)
        return "cannot reserve the image's fd number";
    /* /proc/self/exe: the profile's knob, else the image's entry (a bare program has none) */
    const char *exe = layer_knobs.proc_self_exe ? layer_knobs.proc_self_exe : layer_host->exe;
    for (unsigned i = 0; i < layer_nroutes; i++) {
        const struct layer_route *r = &layer_routes[i];
        long e;
        switch (r->kind) {
        case LAYER_ROUTE_TAR:
            if (!layer_host->image)
                return "the profile has tar routes but no filesystem image was given";
            e = vfs_mount_tar(V, r->prefix, layer_host->image, layer_host->image_size, r->where);
            if (e < 0) /* the rule the image breaks (docs/image-format.md), for the PAL's one failure line */
                return e == -EINVAL && vfs_tar_refusal(V, 0) ? vfs_tar_refusal(V, 0) : "a tar route cannot be mounted";
            break;
        case LAYER_ROUTE_RAM:
            e = vfs_mount_ram(V, r->prefix, r->size);
            break;
        case LAYER_ROUTE_ORIGIN:
            e = vfs_mount_origin(V, r->prefix, r->where);
            break;
        case LAYER_ROUTE_DEV:
            e = vfs_mount_dev(V, r->prefix);
            break;
        case LAYER_ROUTE_PROC:
            e = vfs_mount_proc(V, r->prefix, XAX_VIRTUAL_PID, exe);
            break;
        default:
            e = vfs_mount_deny(V, r->prefix);
        }
        if (e < 0)
            return "a route cannot be mounted";
    }
    /* An image's files appear at / unless the profile routes / itself. */
    int root_routed = 0;
    for (unsigned i = 0; i < layer_nroutes; i++)
        root_routed |= strcmp(layer_routes[i].prefix, "/") == 0;
    if (layer_host->image && !root_routed &&
        vfs_mount_tar(V, "/", layer_host->image, layer_host->image_size, "") < 0)
        return vfs_tar_refusal(V, 0) ? vfs_tar_refusal(V, 0) : "the image cannot be mounted";
    const char *grants = layer_mount_grants(); /* host directories the user granted (grants.c) */
    if (grants)
        return grants;
    for (unsigned i = 0; i < layer_npins; i++)
        if (vfs_pin_sha256(V, layer_pins[i].prefix, layer_pins[i].path, layer_pins[i].sha256) < 0)
            return "a sha256 pin names no origin route";
    const char *cwd = layer_host->cwd ? layer_host->cwd : layer_knobs.cwd;
    if (cwd && vfs_chdir(V, cwd) < 0)
        return "the working directory does not exist";
    return 0;
}

long layer_load_file(const char *path, const void **data, uint64_t *size)
{
    long fd = vfs_openat(V, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    struct vfs_stat st;
    long r = vfs_fstat(V, (int)fd, &st);
    uint64_t off;
    if (r == 0 && !S_ISREG(st.st_mode))
        r = -EACCES; /* not a regular file */
    if (r == 0 && layer_host->image && vfs_tar_offset(V, (int)fd, &off) == 0 && off <= layer_host->image_size &&
        (uint64_t)st.st_size <= layer_host->image_size - off) {
        *data = (const unsigned char *)layer_host->image + off;
        *size = (uint64_t)st.st_size;
    } else if (r == 0) { /* not in the image: a copy */
        void *buf = env_alloc_own(0, st.st_size ? (size_t)st.st_size : 1);
        r = buf ? vfs_pread64(V, (int)fd, buf, (size_t)st.st_size, 0) : -ENOMEM;
        if (r >= 0 && r != st.st_size)
            r = -EIO;
        if (r >= 0) {
            *data = buf;
            *size = (uint64_t)st.st_size;
            r = 0;
        }
    }
    vfs_close(V, (int)fd);
    return r;
}

/* -- the system calls ---------------------------------------------------------
 * Paths and structs are copied in and out here (user.h); the data of read, write
 * and getdents64 the VFS moves itself (env.copy_out, env.copy_in). */

/* A path call's answer, and, if it failed, its path to the Monitor (failed_path.c): the
 * calls of protocol.py TRACE_PATH_CALLS end with it. */
#define FAILED(dirfd, path, r) failed_path(c->nr, (dirfd), (path), (r))
static long failed_path(long nr, int dirfd, const char *path, long r)
{
    layer_failed_path(nr, dirfd, path, r);
    return r;
}

/* A path argument, copied: the handler's first step (see PATH). */
#define PATH(var, i)                                                                                                 \
    char var[USER_PATH_MAX];                                                                                         \
    do {                                                                                                             \
        long e_ = user_path(var, A(i));                                                                              \
        if (e_ < 0)                                                                                                  \
            return e_;                                                                                               \
    } while (0)

/* A data buffer past the user address space: the call's errors for no buffer at all
 * (a bad fd...), else -EFAULT (user_range).  `none` is the call made with 0 bytes. */
static long outside_user(long none)
{
    return none < 0 ? none : -EFAULT;
}

long layer_read(struct layer_call *c)
{
    if (!user_range(A(1), A(2)))
        return outside_user(vfs_read(V, FD(0), 0, 0));
    return vfs_read(V, FD(0), (void *)A(1), A(2));
}

long layer_write(struct layer_call *c)
{
    if (!user_range(A(1), A(2)))
        return outside_user(vfs_write(V, FD(0), 0, 0));
    return vfs_write(V, FD(0), (const void *)A(1), A(2));
}

long layer_pread64(struct layer_call *c)
{
    if (!user_range(A(1), A(2)))
        return outside_user(vfs_pread64(V, FD(0), 0, 0, (int64_t)A(3)));
    return vfs_pread64(V, FD(0), (void *)A(1), A(2), (int64_t)A(3));
}

long layer_pwrite64(struct layer_call *c)
{
    if (!user_range(A(1), A(2)))
        return outside_user(vfs_pwrite64(V, FD(0), 0, 0, (int64_t)A(3)));
    return vfs_pwrite64(V, FD(0), (const void *)A(1), A(2), (int64_t)A(3));
}

/* readv and writev: the iovec array is copied in (the buffers it names are the
 * VFS's to reach).  A bad array, or a buffer past the user address space, is
 * -EFAULT, after the fd's own errors (those come first in Linux, and a call with
 * no iovec shows them). */
#define IOV_ON_STACK 64

static long vectored(struct layer_call *c, int writing)
{
    int cnt = (int)A(2);
    if (cnt < 0 || cnt > 1024 /* UIO_MAXIOV */)
        return writing ? vfs_writev(V, FD(0), 0, cnt) : vfs_readv(V, FD(0), 0, cnt); /* -EBADF or -EINVAL */
    struct vfs_iovec local[IOV_ON_STACK], *iov = local;
    size_t bytes = (size_t)cnt * sizeof *iov;
    if (cnt > IOV_ON_STACK && !(iov = env_alloc_own(0, bytes)))
        return -ENOMEM;
    long r = user_in(iov, A(1), bytes);
    for (int i = 0; r == 0 && i < cnt; i++)
        if (!user_range((uint64_t)(uintptr_t)iov[i].iov_base, iov[i].iov_len) && (int64_t)iov[i].iov_len >= 0)
            r = -EFAULT; /* as import_iovec checks each one */
    if (r == 0)
        r = writing ? vfs_writev(V, FD(0), iov, cnt) : vfs_readv(V, FD(0), iov, cnt);
    else
        r = outside_user(writing ? vfs_writev(V, FD(0), 0, 0) : vfs_readv(V, FD(0), 0, 0));
    if (iov != local)
        env_release_own(0, iov, bytes);
    return r;
}

long layer_readv(struct layer_call *c) { return vectored(c, 0); }
long layer_writev(struct layer_call *c) { return vectored(c, 1); }
long layer_lseek(struct layer_call *c) { return vfs_lseek(V, FD(0), (int64_t)A(1), (int)A(2)); }
long layer_close(struct layer_call *c) { return vfs_close(V, FD(0)); }

/* The two fds go out after the pipe is made; if they cannot, it is undone (no fd is left). */
static long make_pipe(struct layer_call *c, int flags)
{
    int fds[2];
    long r = vfs_pipe2(V, fds, flags);
    if (r < 0)
        return r;
    if (user_out(A(0), fds, sizeof fds) < 0) {
        vfs_close(V, fds[0]);
        vfs_close(V, fds[1]);
        return -EFAULT;
    }
    return r;
}

long layer_pipe2(struct layer_call *c) { return make_pipe(c, (int)A(1)); }
long layer_pipe(struct layer_call *c) { return make_pipe(c, 0); }

long layer_open(struct layer_call *c)
{
    PATH(path, 0);
    return FAILED(AT_FDCWD, path, vfs_openat(V, AT_FDCWD, path, (int)A(1), (uint32_t)A(2)));
}

long layer_openat(struct layer_call *c)
{
    PATH(path, 1);
    return FAILED(FD(0), path, vfs_openat(V, FD(0), path, (int)A(2), (uint32_t)A(3)));
}

long layer_creat(struct layer_call *c)
{
    PATH(path, 0);
    return FAILED(AT_FDCWD, path, vfs_openat(V, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, (uint32_t)A(1)));
}

/* stat and its kin: the record is made here and copied out. */
static long stat_out(long r, uint64_t to, const struct vfs_stat *st)
{
    return r == 0 ? user_out(to, st, sizeof *st) : r;
}

long layer_stat(struct layer_call *c)
{
    PATH(path, 0);
    struct vfs_stat st;
    return FAILED(AT_FDCWD, path, stat_out(vfs_newfstatat(V, AT_FDCWD, path, &st, 0), A(1), &st));
}

long layer_lstat(struct layer_call *c)
{
    PATH(path, 0);
    struct vfs_stat st;
    return FAILED(AT_FDCWD, path, stat_out(vfs_newfstatat(V, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW), A(1), &st));
}

long layer_fstat(struct layer_call *c)
{
    struct vfs_stat st;
    return stat_out(vfs_fstat(V, FD(0), &st), A(1), &st);
}

/* With AT_EMPTY_PATH the path may be NULL (Linux 6.11): the fd itself. */
static long path_or_empty(char *buf, uint64_t p, int flags)
{
    if (!p && (flags & AT_EMPTY_PATH)) {
        buf[0] = 0;
        return 0;
    }
    return user_path(buf, p);
}

long layer_newfstatat(struct layer_call *c)
{
    char path[USER_PATH_MAX];
    long r = path_or_empty(path, A(1), (int)A(3));
    if (r < 0)
        return r;
    struct vfs_stat st;
    return FAILED(FD(0), path, stat_out(vfs_newfstatat(V, FD(0), path, &st, (int)A(3)), A(2), &st));
}

long layer_statx(struct layer_call *c)
{
    char path[USER_PATH_MAX];
    long r = path_or_empty(path, A(1), (int)A(2));
    if (r < 0)
        return r;
    struct vfs_statx stx;
    r = vfs_statx(V, FD(0), path, (int)A(2), (uint32_t)A(3), &stx);
    return FAILED(FD(0), path, r == 0 ? user_out(A(4), &stx, sizeof stx) : r);
}

long layer_getdents64(struct layer_call *c) { return vfs_getdents64(V, FD(0), (void *)A(1), (uint32_t)A(2)); }

/* The link's text is made here (a link holds less than PATH_MAX bytes) and copied out. */
static long readlink_out(int dirfd, const char *path, uint64_t to, int n)
{
    char text[USER_PATH_MAX];
    long r = vfs_readlinkat(V, dirfd, path, text, n < (int)sizeof text ? n : (int)sizeof text);
    return r > 0 && user_out(to, text, (size_t)r) < 0 ? -EFAULT : r;
}

long layer_readlink(struct layer_call *c)
{
    PATH(path, 0);
    return FAILED(AT_FDCWD, path, readlink_out(AT_FDCWD, path, A(1), (int)A(2)));
}

long layer_readlinkat(struct layer_call *c)
{
    PATH(path, 1);
    return FAILED(FD(0), path, readlink_out(FD(0), path, A(2), (int)A(3)));
}

long layer_access(struct layer_call *c)
{
    PATH(path, 0);
    return FAILED(AT_FDCWD, path, vfs_faccessat(V, AT_FDCWD, path, (int)A(1)));
}

long layer_faccessat(struct layer_call *c)
{
    PATH(path, 1);
    return FAILED(FD(0), path, vfs_faccessat(V, FD(0), path, (int)A(2)));
}

long layer_faccessat2(struct layer_call *c)
{
    PATH(path, 1);
    return FAILED(FD(0), path, vfs_faccessat2(V, FD(0), path, (int)A(2), (int)A(3)));
}

long layer_chmod(struct layer_call *c)
{
    PATH(path, 0);
    return vfs_fchmodat(V, AT_FDCWD, path, (uint32_t)A(1), 0);
}

/* The kernel's fchmodat has no flags argument: 0. */
long layer_fchmodat(struct layer_call *c)
{
    PATH(path, 1);
    return vfs_fchmodat(V, FD(0), path, (uint32_t)A(2), 0);
}

long layer_fchmod(struct layer_call *c)
{
    return vfs_fchmod(V, FD(0), (uint32_t)A(1));
}

long layer_mkdir(struct layer_call *c)
{
    PATH(path, 0);
    return vfs_mkdirat(V, AT_FDCWD, path, (uint32_t)A(1));
}

long layer_mkdirat(struct layer_call *c)
{
    PATH(path, 1);
    return vfs_mkdirat(V, FD(0), path, (uint32_t)A(2));
}

long layer_rmdir(struct layer_call *c)
{
    PATH(path, 0);
    return vfs_unlinkat(V, AT_FDCWD, path, AT_REMOVEDIR);
}

long layer_unlink(struct layer_call *c)
{
    PATH(path, 0);
    return vfs_unlinkat(V, AT_FDCWD, path, 0);
}

long layer_unlinkat(struct layer_call *c)
{
    PATH(path, 1);
    return vfs_unlinkat(V, FD(0), path, (int)A(2));
}

/* Both paths first, the old one first, as Linux copies them. */
static long rename_paths(struct layer_call *c, int olddir, int oldp, int newdir, int newp, uint32_t flags)
{
    PATH(from, oldp);
    PATH(to, newp);
    return vfs_renameat2(V, olddir, from, newdir, to, flags);
}

long layer_rename(struct layer_call *c) { return rename_paths(c, AT_FDCWD, 0, AT_FDCWD, 1, 0); }
long layer_renameat(struct layer_call *c) { return rename_paths(c, FD(0), 1, FD(2), 3, 0); }
long layer_renameat2(struct layer_call *c) { return rename_paths(c, FD(0), 1, FD(2), 3, (uint32_t)A(4)); }
long layer_ftruncate(struct layer_call *c) { return vfs_ftruncate(V, FD(0), (int64_t)A(1)); }
long layer_fsync(struct layer_call *c) { return vfs_fsync(V, FD(0)); }
long layer_fdatasync(struct layer_call *c) { return vfs_fdatasync(V, FD(0)); }
long layer_dup(struct layer_call *c) { return vfs_dup(V, FD(0)); }

/* The channel's and the image's numbers are never found by the VFS (vfs_reserve_fd): a range
 * over them closes the program's fds around them and leaves them be. */
long layer_close_range(struct layer_call *c) { return vfs_close_range(V, (unsigned)A(0), (unsigned)A(1), (unsigned)A(2)); }
long layer_dup2(struct layer_call *c) { return vfs_dup2(V, FD(0), FD(1)); }
long layer_dup3(struct layer_call *c) { return vfs_dup3(V, FD(0), FD(1), (int)A(2)); }

/* The record locks take a struct flock (32 bytes): copied in, and out again for the GETLK forms. */
long layer_fcntl(struct layer_call *c)
{
    int cmd = (int)A(1);
    int getlk = cmd == F_GETLK || cmd == F_OFD_GETLK;
    if (!getlk && cmd != F_SETLK && cmd != F_SETLKW && cmd != F_OFD_SETLK && cmd != F_OFD_SETLKW)
        return vfs_fcntl(V, FD(0), cmd, A(2));
    uint64_t fl[4];
    if (user_in(fl, A(2), sizeof fl) < 0)
        return vfs_fcntl(V, FD(0), cmd, 0); /* the fd's errors, else -EFAULT */
    long r = vfs_fcntl(V, FD(0), cmd, (uint64_t)(uintptr_t)fl);
    return r == 0 && getlk ? user_out(A(2), fl, sizeof fl) : r;
}

long layer_chdir(struct layer_call *c)
{
    PATH(path, 0);
    return FAILED(AT_FDCWD, path, vfs_chdir(V, path));
}

long layer_fchdir(struct layer_call *c) { return vfs_fchdir(V, FD(0)); }

long layer_getcwd(struct layer_call *c)
{
    char cwd[USER_PATH_MAX];
    size_t size = A(1) < sizeof cwd ? A(1) : sizeof cwd;
    long r = vfs_getcwd(V, cwd, size);
    return r > 0 && user_out(A(0), cwd, (size_t)r) < 0 ? -EFAULT : r;
}

long layer_umask(struct layer_call *c) { return vfs_umask(V, (uint32_t)A(0) & 0777); }

/* No fd is a terminal: ENOTTY (but the random devices' own answers), EBADF for no fd. */
long layer_ioctl(struct layer_call *c) { return vfs_ioctl(V, FD(0), (uint32_t)A(1), A(2)); }

/* A file of the image whose data starts on a page of it: map the image fd (the
 * filter allows private mappings of it), at the file's offset in the image.
 * Whole pages of the file come straight from the image; the page holding the
 * file's end and any pages past it are anonymous memory with the file's last
 * bytes copied in: bytes past the end of a file read as zeros, as Linux maps
 * them, never as the tar's next header. */
static long mmap_image(uint64_t addr, uint64_t len, uint64_t prot, uint64_t place, int fd, uint64_t off,
                       uint64_t image_off, uint64_t size)
{
    uint64_t span = XAX_PAGE_UP(len), in_file = size > off ? size - off : 0;
    uint64_t whole = XAX_PAGE_DOWN(in_file < span ? in_file : span);
    if (whole == span) { /* file data to the end of the last page */
        long m = sys6(__NR_mmap, (long)addr, (long)len, (long)prot, (long)(place | MAP_PRIVATE), XAX_IMAGE_FD,
                      (long)image_off);
        if (!sys_failed(m) && (prot & PROT_EXEC) && layer_host->code_mapped)
            layer_host->code_mapped((uintptr_t)m, len, image_off, image_off - off, size, prot);
        return m;
    }
    long m = sys6(__NR_mmap, (long)addr, (long)len, PROT_READ | PROT_WRITE,
                  (long)(place | MAP_PRIVATE | MAP_ANONYMOUS), -1, 0);
    if (sys_failed(m))
        return m;
    long r = vfs_mmap_copy(V, fd, off + whole, (char *)m + whole, span - whole);
    if (r >= 0 && whole)
        r = sys6(__NR_mmap, m, (long)whole, (long)prot, MAP_PRIVATE | MAP_FIXED, XAX_IMAGE_FD, (long)image_off);
    if (sys_failed(r)) {
        if (!(place & (MAP_FIXED | MAP_FIXED_NOREPLACE)) || (uint64_t)m != addr)
            sys2(__NR_munmap, m, (long)len);
        return r;
    }
    if (prot != (PROT_READ | PROT_WRITE))
        sys3(__NR_mprotect, m + (long)whole, (long)(span - whole), (long)prot);
    if ((prot & PROT_EXEC) && layer_host->code_mapped)
        layer_host->code_mapped((uintptr_t)m, len, image_off, image_off - off, size, prot);
    return m;
}

/* mmap forms the filter traps.  A file of the image is mapped from the image
 * fd where its data is page-aligned (mmap_image); any other file is copied into
 * private anonymous memory.  A shared writable file mapping is refused: writes
 * could not reach the file. */
long layer_mmap(struct layer_call *c)
{
    uint64_t addr = A(0), len = A(1), prot = A(2), flags = A(3), off = A(5);
    int fd = FD(4);
    if (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC))
        return -EINVAL;
    if (flags & MAP_HUGETLB)
        return -ENOMEM; /* no huge pages in a picoprocess */
    uint64_t keep = MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_NORESERVE | MAP_POPULATE | MAP_STACK;
    uint64_t type = flags & MAP_TYPE;
    if (flags & ~(keep | MAP_TYPE | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE))
        return -EINVAL;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    if (len == 0)
        return -EINVAL;
    if (flags & MAP_ANONYMOUS) /* shared anonymous memory without fork is private memory */
        return sys6(__NR_mmap, (long)addr, (long)len, (long)prot, (long)((flags & keep) | MAP_PRIVATE | MAP_ANONYMOUS),
                    -1, 0);
    long valid = vfs_fcntl(V, fd, F_GETFD, 0); /* as Linux: a bad fd first */
    if (valid < 0)
        return valid;
    if (type != MAP_PRIVATE && (prot & PROT_WRITE))
        return -ENODEV;
    uint64_t size, data_off;
    long err = vfs_mmap_check(V, fd, off, len, &size);
    if (err < 0)
        return err;
    if (layer_host->image_fd == XAX_IMAGE_FD && vfs_tar_offset(V, fd, &data_off) == 0 && data_off % XAX_PAGE == 0)
        return mmap_image(addr, len, prot, flags & (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_NORESERVE | MAP_POPULATE),
                          fd, off, data_off + off, size);
    long m = sys6(__NR_mmap, (long)addr, (long)len, PROT_READ | PROT_WRITE,
                  (long)((flags & keep) | MAP_PRIVATE | MAP_ANONYMOUS), -1, 0);
    if (sys_failed(m))
        return m;
    long r = vfs_mmap_copy(V, fd, off, (void *)m, len);
    if (r < 0) {
        if (!(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) || (uint64_t)m != addr)
            sys2(__NR_munmap, m, (long)len);
        return r;
    }
    if (prot != (PROT_READ | PROT_WRITE))
        sys3(__NR_mprotect, m, (long)len, (long)prot);
    return m;
}
