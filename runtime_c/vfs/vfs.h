/* The virtual filesystem of the interposition layer: its public interface.
 *
 * Portable, freestanding C: no libc, no errno, no TLS.  Every function returns
 * >= 0 on success or -errno (Linux x86-64 values) on failure, exactly like the
 * system call it emulates.  All state lives in one `struct vfs`; whatever comes
 * from outside (memory, downloads, the stdio channels, the clock) comes through
 * the `struct vfs_env` given to vfs_new.  The same files are compiled into the
 * layer (freestanding) and into a Python extension for tests (cffi).
 *
 * This header is self-contained on purpose (stddef.h and stdint.h only), so that
 * it can sit next to libc headers in the host build: the kernel's structures
 * (struct stat, struct statx, struct iovec, struct linux_dirent64) are repeated
 * here with the kernel's x86-64 layout (stat.c checks the layouts at compile time).
 *
 * Namespace: routes map a path prefix to a backend (tar image, RAM disk, origin,
 * deny, and the synthetic /dev and /proc), chosen by longest prefix.  Routes behave like mounts: `..` at a route's
 * root goes to the directory holding it; a symlink inside a tar image resolves
 * inside that image (absolute targets start at the route's root, `..` stops
 * there).  Directories leading to a route's prefix that no route provides exist
 * as read-only directories (the "skeleton").
 *
 * Not thread-safe: the layer lets one thread in at a time (and out while it
 * waits on a pipe, see env.wait).
 */
#ifndef XAX_VFS_H
#define XAX_VFS_H

#include <stddef.h>
#include <stdint.h>

struct vfs;

struct vfs_env {
    void *ctx;
    /* Memory: may be page-granular (small objects are carved from larger chunks).
     * alloc returns NULL when out of memory; release gets the size alloc was given. */
    void *(*alloc)(void *ctx, size_t n);
    void (*release)(void *ctx, void *p, size_t n);
    /* Memory for struct vfs alone (each process's own fds and cwd, where alloc's may be
     * shared by a family of processes: fork.c); NULL: alloc and release. */
    void *(*alloc_own)(void *ctx, size_t n);
    void (*release_own)(void *ctx, void *p, size_t n);
    /* Origin backend: fetch a whole file.  Returns 0 with *data (allocated with
     * alloc, owned by the vfs from then on; NULL if *len is 0) and *len, or
     * -ENOENT (no such file) or -EIO (anything else).  May be NULL: every
     * origin file is then -EIO. */
    int (*fetch)(void *ctx, const char *url, void **data, size_t *len);
    /* Stdio channels (chan 0 = stdin, 1 = stdout, 2 = stderr): >= 0 bytes moved
     * (0 from chan_read is end of file) or -errno.  chan_close is called when the
     * last fd referring to a channel is closed.  Any may be NULL (-EBADF / no-op). */
    long (*chan_read)(void *ctx, int chan, void *buf, size_t n);
    long (*chan_write)(void *ctx, int chan, const void *buf, size_t n);
    /* The same without waiting (an O_NONBLOCK description of a family pipe): -EAGAIN when
     * nothing can move now.  May be NULL: such a description is refused (EINVAL). */
    long (*chan_try_read)(void *ctx, int chan, void *buf, size_t n);
    long (*chan_try_write)(void *ctx, int chan, const void *buf, size_t n);
    void (*chan_close)(void *ctx, int chan);
    /* Wall clock for RAM-disk timestamps; NULL: time 0. */
    void (*clock)(void *ctx, int64_t *sec, uint32_t *nsec);
    /* Blocking on a pipe: wait until *word is no longer `seen` (or spuriously),
     * letting other threads into the vfs meanwhile; wake every waiter on word.
     * NULL: nothing can wait, and a call that would block is -EAGAIN.  wait and net_wait
     * answer 0, or -EINTR when the caller must give up its call at once (the thread ends:
     * another thread exec'd), which the call then answers, leaving the files as they were. */
    long (*wait)(void *ctx, uint32_t *word, uint32_t seen);
    void (*wake)(void *ctx, uint32_t *word);
    /* Random bytes for /dev/random and /dev/urandom: 1 .. n bytes written (a short
     * answer is asked again) or -errno.  NULL: reading them is -EIO. */
    long (*random)(void *ctx, void *buf, size_t n);
    /* The caller's data buffers: what read, pread64, readv, write, pwrite64, writev,
     * getdents64 and ioctl are given to fill or take bytes from (never the paths and
     * structs, which the caller passes in its own memory).  Copy n bytes to or from
     * one and answer how many could NOT be copied, as Linux's copy_to_user does (the
     * layer: fault-safe copies of the program's memory).  A call whose buffer takes
     * no byte answers -EFAULT; one that moved some, how many.  NULL: memcpy. */
    size_t (*copy_out)(void *ctx, void *dst, const void *src, size_t n);
    size_t (*copy_in)(void *ctx, void *dst, const void *src, size_t n);
    /* Host directories (hostdir.c): one request to the Monitor, a message of
     * xax_emu/protocol.py (MOUNT_*): its type, chan (the mount's number), arg and
     * payload.  Returns the reply's arg (>= 0, or -errno) with its payload copied into
     * out (at most outcap bytes; *outlen: the payload's whole length).  out may be
     * payload.  NULL: every host directory is -EIO. */
    long (*monitor)(void *ctx, uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len,
                    void *out, uint32_t outcap, uint32_t *outlen);
    /* Sockets' ways out of the picoprocess (sock*.c); any may be NULL: no network.
     * net_accept: the channel of the next connection from the browser, or -EAGAIN when none
     * waits.  net_connect: a channel to addr (16 bytes, IPv4 as IPv4-mapped) and port when
     * that is the image's origin, else -ENETUNREACH; -ECONNREFUSED if the origin refused.
     * net_read and net_write never block: > 0 bytes moved or -EAGAIN (not ready); net_read
     * 0 at the channel's end, net_write -EPIPE once it is closed.  net_shutdown: nothing
     * more will be written on chan (its reading goes on).  net_wait: until chan (or
     * VFS_CHAN_ACCEPT) is ready for events (POLLIN, POLLOUT), or *word is no longer seen,
     * or spuriously, letting other threads into the vfs meanwhile.  A socket's channel is
     * closed with chan_close. */
    long (*net_accept)(void *ctx);
    long (*net_connect)(void *ctx, const uint8_t addr[16], uint16_t port);
    long (*net_read)(void *ctx, int chan, void *buf, size_t n);
    long (*net_write)(void *ctx, int chan, const void *buf, size_t n);
    void (*net_shutdown)(void *ctx, int chan);
    long (*net_wait)(void *ctx, int chan, uint32_t events, uint32_t *word, uint32_t seen);
};

/* Not a channel: in vfs_poll's *chan and env.net_wait, the Monitor's queue of browser
 * connections (the protocol's ACCEPT_CHAN) */
#define VFS_CHAN_ACCEPT -2

/* struct stat of the x86-64 kernel (asm/stat.h) */
struct vfs_stat {
    uint64_t st_dev;
    uint64_t st_ino;
    uint64_t st_nlink;
    uint32_t st_mode;
    uint32_t st_uid;
    uint32_t st_gid;
    uint32_t pad0;
    uint64_t st_rdev;
    int64_t st_size;
    int64_t st_blksize;
    int64_t st_blocks;
    uint64_t st_atime_sec;
    uint64_t st_atime_nsec;
    uint64_t st_mtime_sec;
    uint64_t st_mtime_nsec;
    uint64_t st_ctime_sec;
    uint64_t st_ctime_nsec;
    int64_t unused[3];
};

struct vfs_statx_timestamp {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t reserved;
};

/* struct statx (linux/stat.h), 256 bytes; the vfs writes all of it */
struct vfs_statx {
    uint32_t stx_mask;
    uint32_t stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink;
    uint32_t stx_uid;
    uint32_t stx_gid;
    uint16_t stx_mode;
    uint16_t spare0;
    uint64_t stx_ino;
    uint64_t stx_size;
    uint64_t stx_blocks;
    uint64_t stx_attributes_mask;
    struct vfs_statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major;
    uint32_t stx_rdev_minor;
    uint32_t stx_dev_major;
    uint32_t stx_dev_minor;
    uint64_t stx_mnt_id;
    uint32_t stx_dio_mem_align;
    uint32_t stx_dio_offset_align;
    uint64_t spare3[12];
};

/* struct iovec */
struct vfs_iovec {
    void *iov_base;
    size_t iov_len;
};

/* struct msghdr as the socket calls take it, its parts already the vfs's to read (the
 * iovec array, the name, the control data) but for the buffers the iovec names.  sendmsg:
 * name the destination (namelen bytes) or NULL.  recvmsg: name a buffer of
 * VFS_SOCKADDR_MAX bytes or NULL, and namelen, controllen and flags (MSG_TRUNC, MSG_CTRUNC)
 * are set to what was received. */
#define VFS_SOCKADDR_MAX 128
struct vfs_msghdr {
    void *name;
    uint32_t namelen;
    struct vfs_iovec *iov;
    int iovlen;
    void *control;
    size_t controllen;
    int flags;
};

/* getdents64 writes records of this shape (struct linux_dirent64), each
 * d_reclen bytes long (8-aligned), the name NUL-terminated. */
struct vfs_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
    char d_name[];
};

/* -- life cycle and configuration ------------------------------------------ */

/* A vfs with no routes and no fds; the cwd is "/".  NULL if env lacks
 * alloc/release or memory is short. */
struct vfs *vfs_new(const struct vfs_env *env);
/* Releases everything the vfs holds (not the tar images, which the caller owns). */
void vfs_free(struct vfs *v);
/* The virtual user that owns every file (uid 0 gets root's permission rules). */
long vfs_set_user(struct vfs *v, uint32_t uid, uint32_t gid);
/* Applied to the modes of files and directories created; returns the old mask. */
long vfs_umask(struct vfs *v, uint32_t mask);
/* RLIMIT_NOFILE: fds are 0 .. limit-1 (1 .. VFS_FD_MAX, default 1024); only
 * while no fd at or above the new limit is open (-EBUSY otherwise). */
#define VFS_FD_MAX 4096
long vfs_set_fd_limit(struct vfs *v, int limit);

/* -- routes ------------------------------------------------------------------
 * prefix: "/" or "/a/b" (absolute, no trailing slash, no "." / ".." / empty
 * components): -EINVAL otherwise; -EEXIST if already routed. */

/* The tar image, in the image format (docs/image-format.md), stays the caller's,
 * read-only, and must outlive the vfs.  The index is built here, once: -EINVAL for
 * an image that breaks a rule of the format (vfs_tar_refusal says which), -ENOMEM.
 * subdir ("" for the whole image) names the directory of the image the route shows
 * (-ENOENT / -ENOTDIR). */
long vfs_mount_tar(struct vfs *v, const char *prefix, const void *tar, size_t size, const char *subdir);
/* Why the last vfs_mount_tar refused its image: the rule's name, ": ", what is wrong (a
 * static string; NULL if it refused none), and in *offset the header it is about. */
const char *vfs_tar_refusal(struct vfs *v, uint64_t *offset);
/* A RAM disk holding at most cap bytes of file data (-ENOSPC beyond). */
long vfs_mount_ram(struct vfs *v, const char *prefix, size_t cap);
/* Files under prefix are fetched on first use from url_prefix + their path
 * (percent-encoded), kept, and read-only. */
long vfs_mount_origin(struct vfs *v, const char *prefix, const char *url_prefix);
/* The file relpath (relative to the origin route at prefix) must have this
 * sha256, or opening it fails with -EIO.  Before the file is first fetched. */
long vfs_pin_sha256(struct vfs *v, const char *prefix, const char *relpath, const uint8_t hash[32]);
/* Nothing under prefix: -ENOENT, or -EACCES for operations that write. */
long vfs_mount_deny(struct vfs *v, const char *prefix);
/* A host directory the user granted (run --mount): what is in it is the Monitor's to
 * say, through env->monitor (number: the mount's, 0 .. XAX_MAX_MOUNTS - 1); rw: it may
 * be changed, else it is a read-only filesystem.  Its root is asked for now: -ENOTDIR,
 * or the Monitor's answer (-ENOENT, -EACCES, -EIO). */
long vfs_mount_hostdir(struct vfs *v, const char *prefix, int number, int rw);
/* fds 0, 1, 2 become the stdio channels (a pipe each: 0 read-only, 1 and 2
 * write-only).  -EBUSY if any of them is in use. */
long vfs_stdio(struct vfs *v);
/* The fd number is never handed out and every call naming it gets -EBADF, as for
 * a closed fd (the layer keeps its channel's number out of the program's way).
 * Any number of them (the channel's and the image's); -EBUSY if it is open. */
long vfs_reserve_fd(struct vfs *v, int fd);

/* Synthetic routes, made of what the vfs itself knows (devices.c, proc.c).
 * /dev: the memory devices null, zero, full, random, urandom (bytes from
 * env->random) and tty (ENXIO: no controlling terminal), and the symlinks fd,
 * stdin, stdout, stderr into /proc/self/fd.  Owned by root as on Linux. */
long vfs_mount_dev(struct vfs *v, const char *prefix);
/* /proc: self -> <pid>, <pid>/exe -> exe (absent if exe is NULL), <pid>/fd/N (the
 * open fds: readlink gives what they are, opening one opens that file again),
 * loadavg and stat (one idle CPU, one process).  Nothing of the host's. */
long vfs_mount_proc(struct vfs *v, const char *prefix, uint32_t pid, const char *exe);
/* This process's pid in /proc (self, <pid>, loadavg) where it is not the one the route was
 * mounted with: a forked process of a family, whose vfs nodes its family shares (proc.c). */
void vfs_proc_set_pid(uint32_t pid);
/* The program this process runs since its exec, for /proc/<pid>/exe (len bytes, no NUL): the
 * process's own, as its pid is. */
void vfs_proc_set_exe(const char *path, size_t len);
/* The absolute path of what fd is open on, as /proc/self/fd/N names it, NUL-terminated in buf
 * (size bytes): its length without the NUL, or -EBADF, -ENOENT, -ENAMETOOLONG. */
long vfs_fd_path(struct vfs *v, int fd, char *buf, size_t size);

/* -- system calls ------------------------------------------------------------
 * Arguments as the kernel takes them (dirfd may be AT_FDCWD = -100). */

long vfs_openat(struct vfs *v, int dirfd, const char *path, int flags, uint32_t mode);
long vfs_close(struct vfs *v, int fd);
long vfs_read(struct vfs *v, int fd, void *buf, size_t n);
long vfs_pread64(struct vfs *v, int fd, void *buf, size_t n, int64_t off);
long vfs_readv(struct vfs *v, int fd, const struct vfs_iovec *iov, int cnt);
long vfs_write(struct vfs *v, int fd, const void *buf, size_t n);
long vfs_pwrite64(struct vfs *v, int fd, const void *buf, size_t n, int64_t off);
long vfs_writev(struct vfs *v, int fd, const struct vfs_iovec *iov, int cnt);
long vfs_lseek(struct vfs *v, int fd, int64_t off, int whence);
/* sendfile (io.c): count bytes of in_fd (at *off if off, else at its position) to out_fd */
long vfs_sendfile(struct vfs *v, int out_fd, int in_fd, int64_t *off, size_t count);
long vfs_fstat(struct vfs *v, int fd, struct vfs_stat *st);
long vfs_newfstatat(struct vfs *v, int dirfd, const char *path, struct vfs_stat *st, int flags);
long vfs_statx(struct vfs *v, int dirfd, const char *path, int flags, uint32_t mask, struct vfs_statx *stx);
/* "." and "..", then the entries newest first (as tmpfs lists them), then route
 * prefixes under the directory that its backend lacks; positions survive changes. */
long vfs_getdents64(struct vfs *v, int fd, void *buf, size_t n);
long vfs_readlinkat(struct vfs *v, int dirfd, const char *path, char *buf, int n);
long vfs_faccessat2(struct vfs *v, int dirfd, const char *path, int mode, int flags);
long vfs_faccessat(struct vfs *v, int dirfd, const char *path, int mode);
long vfs_mkdirat(struct vfs *v, int dirfd, const char *path, uint32_t mode);
long vfs_unlinkat(struct vfs *v, int dirfd, const char *path, int flags);
/* flags: RENAME_NOREPLACE, RENAME_EXCHANGE (RENAME_WHITEOUT is refused) */
long vfs_renameat2(struct vfs *v, int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                   uint32_t flags);
long vfs_ftruncate(struct vfs *v, int fd, int64_t len);
long vfs_fsync(struct vfs *v, int fd);
long vfs_fdatasync(struct vfs *v, int fd);
long vfs_dup(struct vfs *v, int fd);
long vfs_dup2(struct vfs *v, int oldfd, int newfd);
long vfs_dup3(struct vfs *v, int oldfd, int newfd, int flags);
/* Pipe sizes (F_SETPIPE_SZ): xax_protocol.h's XAX_PIPE_CAPACITY (the default), XAX_PIPE_MIN_SIZE
 * (a page) and XAX_PIPE_MAX_SIZE (Linux's pipe-max-size: what an unprivileged process may ask
 * for; the picoprocess has no CAP_SYS_RESOURCE), shared with the Monitor's pipes. */
#define VFS_CLOSE_RANGE_UNSHARE 2 /* <linux/close_range.h>'s (1U << 1) */
#define VFS_CLOSE_RANGE_CLOEXEC 4 /* (1U << 2) */
long vfs_close_range(struct vfs *v, unsigned first, unsigned last, unsigned flags);
long vfs_fcntl(struct vfs *v, int fd, int cmd, uint64_t arg);
/* pipe2: fds[0] the read end, fds[1] the write end (flags: O_CLOEXEC, O_NONBLOCK). */
long vfs_pipe2(struct vfs *v, int *fds, int flags);
/* execve: close the fds marked close-on-exec. */
void vfs_close_on_exec(struct vfs *v);
/* Before a fork (docs/processes.md): every pipe the fd table holds becomes a pipe of the
 * Monitor's.  make gets the bytes buffered in one pipe and gives the channels of its two ends
 * (chans[0] read, chans[1] write): 0, or -errno, which this returns (pipes converted so far
 * stay converted). */
typedef long (*vfs_make_pipe)(void *ctx, const void *buffered, size_t len, uint32_t capacity, int *chans);
long vfs_pipes_to_channels(struct vfs *v, vfs_make_pipe make, void *ctx);
/* Fork, when the vfs's memory (env.alloc's) is shared by the family and struct vfs
 * (env.alloc_own's) is each process's own (fork.c, docs/processes.md).  In the parent,
 * before the fork: the child's references to the descriptions it inherits (0, or -ENOMEM:
 * nothing taken).  vfs_fork_abort gives them back if the fork failed; vfs_fork_child, in
 * the child, installs its own copies of the channels' descriptions.  vfs_fork_exit: the
 * process is ending; its shared descriptions and its cwd are let go (not its channels: the
 * Monitor lets go of those when it has exited). */
long vfs_fork_prepare(struct vfs *v);
/* chmod: fchmodat's flags AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH (fchmodat2's) */
long vfs_fchmodat(struct vfs *v, int dirfd, const char *path, uint32_t mode, int flags);
long vfs_fchmod(struct vfs *v, int fd, uint32_t mode);
void vfs_fork_abort(struct vfs *v);
void vfs_fork_child(struct vfs *v);
void vfs_fork_exit(struct vfs *v);
/* Sockets of the picoprocess (sock*.c): AF_UNIX, AF_INET and AF_INET6; streams, datagrams
 * and (AF_UNIX) seqpackets.  Connections between its own sockets are made inside it; the
 * first listening internet socket takes the browser's connections (vfs_net_accepts); a
 * connect to the image's origin gets a channel (env.net_connect); every other address is
 * unreachable (ENETUNREACH).  Addresses are struct sockaddr as the kernel takes them; an
 * address given back is written whole into VFS_SOCKADDR_MAX bytes at addr and *len set to
 * its length (the caller copies what the program's buffer takes). */
long vfs_socket(struct vfs *v, int family, int type, int protocol);
long vfs_socketpair(struct vfs *v, int family, int type, int protocol, int *fds);
long vfs_bind(struct vfs *v, int fd, const void *addr, uint32_t len);
long vfs_listen(struct vfs *v, int fd, int backlog);
long vfs_connect(struct vfs *v, int fd, const void *addr, uint32_t len);
long vfs_accept4(struct vfs *v, int fd, void *addr, uint32_t *len, int flags);
long vfs_getsockname(struct vfs *v, int fd, void *addr, uint32_t *len);
long vfs_getpeername(struct vfs *v, int fd, void *addr, uint32_t *len);
long vfs_shutdown(struct vfs *v, int fd, int how);
long vfs_sendmsg(struct vfs *v, int fd, const struct vfs_msghdr *m, int flags);
long vfs_recvmsg(struct vfs *v, int fd, struct vfs_msghdr *m, int flags);
long vfs_setsockopt(struct vfs *v, int fd, int level, int name, const void *val, uint32_t len);
/* *len in: the buffer's size; out: what was written */
long vfs_getsockopt(struct vfs *v, int fd, int level, int name, void *val, uint32_t *len);
/* on: the Monitor hands this picoprocess connections (serve's instances that serve HTTP):
 * the first socket that listens on an internet address receives them, whatever its port */
long vfs_net_accepts(struct vfs *v, int on);
/* eventfd2 (eventfd.c): flags EFD_SEMAPHORE, EFD_CLOEXEC, EFD_NONBLOCK */
long vfs_eventfd2(struct vfs *v, unsigned initval, int flags);
/* epoll (epoll.c).  struct epoll_event is packed on x86-64 (12 bytes): data as two words. */
struct vfs_epoll_event {
    uint32_t events;
    uint32_t data[2];
};
long vfs_epoll_create1(struct vfs *v, int flags);
long vfs_epoll_ctl(struct vfs *v, int epfd, int op, int fd, const struct vfs_epoll_event *ev);
/* epoll_wait in two halves, around the caller's wait.  vfs_epoll_scan: one probe per armed
 * item of the set (at most cap written; the count of all returned, or -EBADF / -EINVAL):
 * its readiness inside the picoprocess and the channel the rest lies with (chan, -1 for
 * none), as vfs_poll gives them.  vfs_epoll_deliver: the events of probes whose revents
 * (the caller has added the Monitor's answers) the set reports, at most max of them;
 * EPOLLONESHOT and EPOLLET take effect here.  Items gone meanwhile are skipped.  Without out,
 * only how many it would report (nothing changes). */
struct vfs_epoll_probe {
    uint64_t id;
    uint32_t events;
    uint32_t revents;
    int32_t chan;
    uint32_t seq;
};
long vfs_epoll_scan(struct vfs *v, int epfd, struct vfs_epoll_probe *out, int cap);
long vfs_epoll_deliver(struct vfs *v, int epfd, const struct vfs_epoll_probe *p, int n, struct vfs_epoll_event *out,
                       int max);
/* ENOTTY (no fd is a terminal), but the random devices' own answers. */
long vfs_ioctl(struct vfs *v, int fd, uint32_t cmd, uint64_t arg);
/* Readiness, for poll, select and epoll; never blocks.  The POLL* bits (asm-generic/poll.h's
 * numbers) of events that fd is ready for now, with POLLERR and POLLHUP whatever was asked,
 * or POLLNVAL for an fd that is not open (O_PATH too), as poll(2) reports them.  What lies
 * with the Monitor (a stdio channel, a socket's channel, the browser's connections waiting
 * for a listening socket: VFS_CHAN_ACCEPT) it alone knows: *chan gets the channel to ask
 * for the rest, and the answer is what the vfs knows itself; otherwise *chan is -1.
 * -EFAULT without chan. */
long vfs_poll(struct vfs *v, int fd, uint32_t events, int *chan);
long vfs_chdir(struct vfs *v, const char *path);
long vfs_fchdir(struct vfs *v, int fd);
/* Writes the cwd NUL-terminated; returns its length including the NUL. */
long vfs_getcwd(struct vfs *v, char *buf, size_t size);
/* The path a relative path given with dirfd starts from (AT_FDCWD: the cwd), NUL-terminated:
 * its length with the NUL, or -EBADF, -ENOENT, -ENAMETOOLONG.  For reports, not lookups. */
long vfs_dir_name(struct vfs *v, int dirfd, char *buf, size_t size);

/* -- memory mapping ----------------------------------------------------------
 * File-backed private mmap, done by copying: checks fd as mmap(2) would
 * (-EBADF, -EACCES if not open for reading, -ENODEV if not a regular file,
 * -EINVAL for an offset that is not page-aligned, -EOVERFLOW), then copies the
 * file's bytes [off, off+len) into dst (memory the caller provides), zero-filling
 * past the end of the file.  Returns the number of bytes that came from the file. */
long vfs_mmap_copy(struct vfs *v, int fd, uint64_t off, void *dst, size_t len);
/* The same checks without the copy: 0 and the file's size in *size, or -errno. */
long vfs_mmap_check(struct vfs *v, int fd, uint64_t off, size_t len, uint64_t *size);
/* SHA-256 of len bytes (what vfs_pin_sha256 compares with). */
void vfs_sha256(const void *data, size_t len, uint8_t out[32]);

/* run --export-ram: the RAM disks as one tar (ustar, with pax records for long names
 * and large sizes): each route's directory, then what it holds, named by their paths
 * without the leading '/'; regular files (holes as zeros), directories and symlinks with
 * their modes and mtimes.  The bytes go to emit, piece by piece; a negative answer stops
 * it.  0, or -ENAMETOOLONG (a path over 4095 bytes), -ENOMEM, or emit's error. */
long vfs_export_ram(struct vfs *v, long (*emit)(void *ctx, const void *data, size_t len), void *ctx);

/* For a regular file of a tar route: the offset of its data inside the tar image
 * (so that the caller can map the image instead of copying: the layer maps the
 * image fd at that offset when it is page-aligned); -ENODEV otherwise. */
long vfs_tar_offset(struct vfs *v, int fd, uint64_t *offset);

#ifdef VFS_DEBUG
/* -- the host build's view inside (-DVFS_DEBUG, for tests; never in the layer) --
 * out[0] name lookups so far, out[1] directory entries they examined, out[2] buckets of
 * the entry table, out[3] entries in it, out[4] its longest chain.  Returns 0. */
long vfs_debug_stats(struct vfs *v, uint64_t out[5]);
/* Every entry hash is ANDed with mask from now on (the table is rebuilt): 0 puts every
 * entry in one bucket, to test chains of colliding names. */
long vfs_debug_hash_mask(struct vfs *v, uint32_t mask);
#endif

#endif
