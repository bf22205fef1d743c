/* The vfs's internal structures, shared by its files:
 *   struct vnode         one file, directory or symlink of any backend (and the skeleton
 *                        directories that lead to route prefixes);
 *   struct route         one mounted prefix and its backend;
 *   struct vfs_backend   what a backend does with its nodes: one table per backend;
 *   struct ofd           an open file description (what fds point to);
 *   struct vfs_file_ops  what a kind of description does: one table per kind;
 *   struct vfs           everything: routes, fd table, cwd, identity, allocator;
 * and the constants the vfs needs, from the kernel's uapi headers (no libc).
 *
 * The files, in layers: each uses only files of the layers above it (tools/vfs_calls.py
 * prints who calls whom; tests/test_vfs_layers.py keeps them free of cycles).
 *   alloc.c sha256.c stream.c       memory; hashing; what the kinds with no node share;
 *   user.c                          the caller's data buffers (vfs_copy_out, vfs_copy_in)
 *   node.c fdtable.c route.c        nodes and the entry table; fds and descriptions; the
 *                                   namespace (routes, the skeleton, "..", a node's path)
 *   lookup.c path.c                 one directory entry; the walker
 *   readdir.c stat.c file.c         listings; stat; a node's file (vfs_node_fops)
 *   tar.c ram.c origin.c deny.c     the backends, each with its vfs_mount_* and its table
 *   devices.c proc.c hostdir.c
 *   export.c                        the RAM disks as a tar (run --export-ram)
 *   stdio.c pipe.c eventfd.c        the kinds of description that have no node (epoll.c's
 *   epoll.c sock.c                  sets hold other descriptions; sock.c's sockets are made
 *   (sockobj.c sockaddr.c           of the parts in parentheses, sock_int.h, which only
 *    sockio.c sockopt.c)            they use)
 *   io.c open.c dir.c cwd.c vfs.c   the system calls
 * Generic code (the namespace, the walker, the system calls) never asks which backend or
 * which kind it holds: it calls through the tables, and a NULL entry answers what Linux
 * answers for a file without that operation (said at each entry).
 *
 * Adding a backend (a new kind of route), say foo.c:
 *   1. const struct vfs_backend vfs_foo_backend = {...}, filling what differs from the
 *      defaults (deny.c fills one entry, tar.c four, proc.c most).  It is read-only
 *      unless it has .create and .write; .perm_only for synthetic trees owned by root.
 *   2. long vfs_mount_foo(struct vfs *v, const char *prefix, ...) in foo.c: route_new
 *      (checks the prefix, makes the root directory), the route's state and nodes
 *      (node_new, node_set_name, node_link), route_attach; route_discard if it fails.
 *      What the route holds outside its nodes is a field of struct route, freed by
 *      .unmount; what a node holds, freed by .drop.
 *   3. Declare vfs_mount_foo in vfs.h (the layer and the cffi host build call it), add
 *      foo.c to BACKENDS in tests/test_vfs_layers.py, and test it against the kernel.
 * Adding a kind of descriptor (an eventfd, a listening socket), say evfd.c:
 *   1. static const struct vfs_file_ops evfd_fops = {...}: .read, .write, .readv and
 *      .writev (stream_readv / stream_writev for a stream), .stat (stream_stat_fill: an
 *      inode of the picoprocess's own), .poll (its readiness: what poll, select and
 *      epoll wait for), .release for what it holds in f->priv, and what else it does; a
 *      NULL entry answers ESPIPE, ENOTDIR, EINVAL or ENOTTY, as Linux does for a file
 *      without that operation, and poll's NULL is "ready for everything".
 *   2. The call that makes one (vfs_eventfd2): ofd_new, f->ops = &evfd_fops, its state in
 *      f->priv, fd_alloc, fd_install.  Calls only that kind answers check f->ops first
 *      (socket.c's socket_of: ENOTSOCK).
 *   3. Declare the call in vfs.h, add evfd.c to KINDS in tests/test_vfs_layers.py.
 * A call that may block (a pipe's read) holds a reference on its description for the
 * whole call (f->refs++, then ofd_put) and waits through env->wait: see pipe.c.
 * The bytes a read, write or getdents64 moves to or from the caller's buffer go through
 * vfs_copy_out / vfs_copy_in (user.c), never memcpy: in the layer that buffer is the
 * program's memory, and may be bad.  What could not move is not taken (a pipe keeps it,
 * a file does not grow by it); a call that moved nothing answers -EFAULT (vfs_moved). */
#ifndef XAX_VFS_INT_H
#define XAX_VFS_INT_H

#include <asm-generic/errno.h>
#include <asm-generic/poll.h>
#include <linux/fcntl.h>
#include <linux/stat.h>

#include "vfs.h"
#include "../include/xax_protocol.h"

/* freestanding helpers: lib/mem.c in the layer, libc in the host build */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#define VFS_INTERNAL __attribute__((visibility("hidden")))

/* file types and permission bits (linux/stat.h hides them next to glibc) */
#ifndef S_IFMT
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#endif
#define VFS_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define VFS_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#define VFS_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#define VFS_ISCHR(m) (((m) & S_IFMT) == S_IFCHR)
#define VFS_ISSPECIAL(m) (((m) & S_IFMT) == S_IFCHR || ((m) & S_IFMT) == S_IFBLK || ((m) & S_IFMT) == S_IFIFO || \
                          ((m) & S_IFMT) == S_IFSOCK)
#define VFS_PERM_MASK 07777
/* what poll shows of a file whose kind says nothing (Linux's DEFAULT_POLLMASK) */
#define VFS_POLL_DEFAULT (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#define RENAME_WHITEOUT (1 << 2)
#endif
#ifndef __O_TMPFILE
#define __O_TMPFILE 020000000
#endif
#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif
#define VFS_SEEK_DATA 3
#define VFS_SEEK_HOLE 4
#define VFS_DT_UNKNOWN 0
#define VFS_DT_FIFO 1
#define VFS_DT_CHR 2
#define VFS_DT_DIR 4
#define VFS_DT_BLK 6
#define VFS_DT_REG 8
#define VFS_DT_LNK 10
#define VFS_DT_SOCK 12

#define VFS_PATH_MAX 4096      /* with the NUL */
#define VFS_SKEL_DEPTH 32      /* components in a route prefix */
#define VFS_NAME_MAX 255
#define VFS_MAXSYMLINKS 40
#define VFS_MAX_RW 0x7ffff000L /* MAX_RW_COUNT */
#define VFS_UIO_MAXIOV 1024
#define VFS_MAX_FILESIZE 0x7fffffffffffffffLL
#define VFS_BOGO_DIRENT 20     /* tmpfs: a directory's size is 40 + 20 per entry */

/* permission requests (MAY_*) */
#define MAY_X 1
#define MAY_W 2
#define MAY_R 4

/* -- memory ----------------------------------------------------------------- */
#define VMEM_CLASSES 8          /* 16 .. 2048 bytes */
#define VMEM_SMALL_MAX 2048
#define VMEM_CHUNK 65536
struct vmem {
    void *free[VMEM_CLASSES];
    void *chunks;               /* chunk list, released at vfs_free */
    char *cur;                  /* carving position in the newest chunk */
    size_t left;
};
VFS_INTERNAL void *vmem_alloc(struct vfs *v, size_t n);
VFS_INTERNAL void *vmem_zalloc(struct vfs *v, size_t n);
VFS_INTERNAL void vmem_free(struct vfs *v, void *p, size_t n);
VFS_INTERNAL void vmem_release_all(struct vfs *v);

/* -- nodes ------------------------------------------------------------------ */
struct vfs_ts {
    int64_t sec;
    uint32_t nsec;
};

enum { VN_DEAD = 1, VN_OWN_NAME = 2, VN_OWN_DATA = 4, VN_IMPLICIT = 8,
       VN_OWNED = 16,   /* owned by uid/gid below, not by the virtual user (root's devices) */
       VN_MAGIC = 32,   /* a symlink its backend follows and reads (vfs_backend.follow, readlink) */
       VN_FDDIR = 64,   /* proc.c's: /proc/<pid>/fd, whose entries are the open fds */
       VN_HASHED = 128 }; /* in the vfs's entry table (node.c): linked in a directory */

struct route;
struct vnode {
    struct vnode *parent;       /* the directory holding it; a route's root: itself */
    struct vnode *next, *prev;  /* siblings, in listing (dir_off) order */
    struct vnode *first, *last; /* a directory's entries */
    struct vnode *all_next, *all_prev; /* every node of the vfs (vfs_free) */
    struct vnode *hnext;        /* the next node in its bucket of the entry table (node.c) */
    struct route *rt;
    struct route *mount;        /* skeleton node: the route mounted here, if any */
    const char *name;           /* namelen bytes, not NUL-terminated */
    uint32_t namelen;
    uint32_t mode;
    uint32_t nlink;
    uint32_t refs;              /* open descriptions, the cwd, dead children */
    uint32_t flags;             /* VN_* */
    uint32_t nentries;          /* directory: its entries (for st_size) */
    uint64_t ino;
    uint64_t size;              /* regular file: logical size; symlink: target length */
    uint64_t dir_off;           /* its position in its directory's listing */
    uint64_t next_off;          /* directory: the next position to hand out */
    const uint8_t *data;        /* tar and origin file data; tar symlink target */
    uint64_t data_off;          /* tar: where the data is in the image */
    uint8_t *buf;               /* RAM disk: bytes [0, used) of the file, cap allocated */
    size_t used, cap;
    struct vfs_ts atime, mtime, ctime;
    uint32_t uid, gid;          /* VN_OWNED */
    uint64_t rdev;              /* character devices: as st_rdev shows it */
    uint32_t synth;             /* synthetic routes: which device or file it is (devices.c, proc.c) */
    int32_t arg;                /* VN_MAGIC: the fd; channel nodes: the channel */
};

/* A node is a 256-byte block of the allocator (alloc.c rounds up to a power of two): one
 * byte more and every node costs twice as much memory. */
_Static_assert(sizeof(struct vnode) <= 256, "struct vnode outgrew its 256-byte size class");

/* listing positions (f->pos of a directory): 0 '.', 1 '..', 2 the newest entry, then
 * VFS_SKEL_OFF - k for the entries older than the one at dir_off k; from VFS_SKEL_OFF
 * on, the skeleton entries a backend directory does not have */
#define VFS_DIR_FIRST 2
#define VFS_SKEL_OFF (1ULL << 40)

VFS_INTERNAL struct vnode *node_new(struct vfs *v, struct route *rt, uint32_t mode);
/* node_new without asking the clock (times 0): for nodes whose times come from elsewhere (tar) */
VFS_INTERNAL struct vnode *node_new_untimed(struct vfs *v, struct route *rt, uint32_t mode);
VFS_INTERNAL int node_set_name(struct vfs *v, struct vnode *n, const char *name, size_t len, int copy);
/* n's name becomes name (allocated with vmem_alloc(len + 1), owned by n from now on) */
VFS_INTERNAL void node_take_name(struct vfs *v, struct vnode *n, char *name, size_t len);
VFS_INTERNAL struct vnode *node_child(struct vfs *v, const struct vnode *dir, const char *name, size_t len);
VFS_INTERNAL void node_link(struct vfs *v, struct vnode *dir, struct vnode *n);
VFS_INTERNAL void node_unlink(struct vfs *v, struct vnode *n);
VFS_INTERNAL void node_move(struct vfs *v, struct vnode *n, struct vnode *dir);
/* n leaves its directory and becomes a root (its own parent): a tar route's subdir */
VFS_INTERNAL void node_make_root(struct vfs *v, struct vnode *n);
VFS_INTERNAL long node_table_init(struct vfs *v);
VFS_INTERNAL void node_get(struct vnode *n);
VFS_INTERNAL void node_put(struct vfs *v, struct vnode *n);
VFS_INTERNAL void node_destroy(struct vfs *v, struct vnode *n);
VFS_INTERNAL int node_is_ancestor(const struct vnode *a, const struct vnode *n);
VFS_INTERNAL void vfs_now(struct vfs *v, struct vfs_ts *t);
VFS_INTERNAL void node_own(struct vnode *n, uint32_t uid, uint32_t gid);
VFS_INTERNAL int name_eq(const char *a, size_t alen, const char *b, size_t blen);

#ifdef VFS_DEBUG
/* The host build's counters and knobs (-DVFS_DEBUG; never in the layer): what the tests
 * read through vfs_debug_stats and set through vfs_debug_hash_mask (vfs.h). */
struct vfs_debug {
    uint64_t lookups;           /* node_child calls */
    uint64_t probes;            /* nodes node_child examined: its cost, whatever the clock says */
    uint32_t hash_mask;         /* ANDed into every entry hash: 0 puts every entry in one bucket */
};
#define VFS_DEBUG_COUNT(v, field) ((v)->dbg.field++)
#else
#define VFS_DEBUG_COUNT(v, field) ((void)0)
#endif

/* -- routes and their backends --------------------------------------------- */
struct vfs_pin {
    struct vfs_pin *next;
    char *path;                 /* normalized, relative to the route */
    size_t len;
    uint8_t hash[32];
};

struct ofd;
/* a directory's listing being written into the caller's buffer (readdir.c) */
struct dirlist {
    struct vfs *v;
    char *buf;      /* the caller's (vfs_copy_out) */
    size_t size, used;
    int fault;      /* a record could not be written there */
};
#define VFS_DIR_FULL 1          /* readdir: the buffer is full */
#define VFS_MAP_ZEROS 1         /* mmap: the mapping is zeros, whatever the file */
#define VFS_FETCH_LATER 1       /* fetch: ask again with the whole path (fetch_path) */

/* What a backend does with its nodes: everything generic code asks a backend goes
 * through here (see the top of this file for how a backend is added).  Every entry may be
 * NULL; what NULL means is said at each.  NULL write/truncate/create: read-only (EROFS),
 * unless perm_only.  read and write also serve character devices. */
struct vfs_backend {
    /* -- names (path.c asks these while it walks) -- */
    /* A walk enters, or ends at, a node of this route (wflags: W_*): 0 to go on, or the
     * errno that stops it.  A route that refuses every walk is not listed either.  NULL: 0. */
    long (*enter)(struct vfs *v, const struct route *rt, int wflags);
    /* The entry `name` of dir, one of its directories (mounts are the namespace's, found
     * before): 0 and *out, or -errno; on failure, *final = 1 says the name cannot be made
     * either (procfs has no negative entries).  NULL: the entry table (node_child). */
    long (*lookup)(struct vfs *v, struct vnode *dir, const char *name, size_t len, struct vnode **out, int *final);
    /* Walks only (mkdir, unlink and rename never fetch): name is absent from dir, not
     * finally, and the backend may still get it from outside the vfs (origin: from the
     * server).  last: it is the path's final component; wflags: the walk's W_*.  0 and
     * *out, -errno, or, for a component that is not the last, VFS_FETCH_LATER: the walker
     * collects the rest of the path lexically (".." takes a component back) and calls
     * fetch_path once with it, relative to dir.  W_PARENT in fetch_path's wflags: the walk
     * wants the directory holding its final component, not a node.  NULL: absent. */
    long (*fetch)(struct vfs *v, struct vnode *dir, const char *name, size_t len, int last, int wflags,
                  struct vnode **out);
    long (*fetch_path)(struct vfs *v, struct vnode *dir, const char *rel, size_t len, int wflags,
                       struct vnode **out);
    /* A VN_MAGIC symlink's target is not a text: the node it leads to, and what readlink
     * shows (not NUL-terminated; its length).  NULL: no magic links here. */
    long (*follow)(struct vfs *v, const struct vnode *link, struct vnode **target);
    long (*readlink)(struct vfs *v, const struct vnode *link, char *buf, size_t size);
    /* A node that has no path in the namespace names itself, as Linux's d_dname does
     * ("pipe:[N]"): its length.  NULL: the node's path (node_path). */
    long (*dname)(struct vfs *v, const struct vnode *n, char *buf, size_t size);
    /* -- metadata -- */
    /* stat: what differs from node_stat's fill (stat.c), changed in st.  NULL: nothing. */
    void (*stat)(struct vfs *v, const struct vnode *n, struct vfs_stat *st);
    /* -- data -- */
    long (*read)(struct vfs *v, struct vnode *n, void *buf, size_t len, uint64_t off);
    long (*write)(struct vfs *v, struct vnode *n, const void *buf, size_t len, uint64_t off);
    long (*truncate)(struct vfs *v, struct vnode *n, uint64_t len);
    /* lseek of a node's file (whence checked); NULL: node_seek (file.c) */
    long (*seek)(struct vfs *v, struct ofd *f, int64_t off, int whence);
    /* The listing of directory dir after "." and ".." from position *pos, into d (with
     * dirlist_emit); *pos moves past what went in.  0: all of it, VFS_DIR_FULL: d is full,
     * or -errno.  NULL: dir_list (readdir.c: its entries, then the route prefixes below). */
    long (*readdir)(struct vfs *v, struct vnode *dir, struct dirlist *d, uint64_t *pos);
    /* NULL: EINVAL (no fsync of its own: /proc); vfs_fsync_noop for data kept in memory */
    long (*fsync)(struct vfs *v, struct vnode *n);
    /* Whether a private mmap of n may be made: 0 (the file's bytes, through read),
     * VFS_MAP_ZEROS, or -errno.  NULL: regular files map, others are ENODEV. */
    long (*mmap)(struct vfs *v, const struct vnode *n);
    /* where a regular file's bytes lie in the tar image (the layer maps the image there);
     * NULL: ENODEV */
    long (*image_offset)(struct vfs *v, const struct vnode *n, uint64_t *off);
    /* NULL: ENOTTY */
    long (*ioctl)(struct vfs *v, struct vnode *n, uint32_t cmd, uint64_t arg);
    /* readiness of an open node (POLL* bits, all of them: the caller filters);
     * NULL: VFS_POLL_DEFAULT, ready for everything */
    uint32_t (*poll)(struct vfs *v, const struct vnode *n);
    /* -- life -- */
    /* a new, unlinked node of this backend (file or directory per mode) */
    long (*create)(struct vfs *v, struct route *rt, uint32_t mode, struct vnode **out);
    /* release what the node holds besides itself (called once, when it dies) */
    void (*drop)(struct vfs *v, struct vnode *n);
    /* opening a node that is neither a file nor a directory (acc: MAY_*); NULL: EACCES,
     * as devices on a nodev mount */
    long (*open)(struct vfs *v, struct vnode *n, int acc);
    /* what opening one of its nodes gives (but with O_PATH); NULL: the node's file (file.c) */
    const struct vfs_file_ops *fops;
    /* release what the route holds besides its nodes (vfs_free, a mount that failed) */
    void (*unmount)(struct vfs *v, struct route *rt);
    /* Nothing can be created, yet it is not a read-only filesystem: the owner's
     * permission bits refuse writes (EACCES), as on devtmpfs and procfs. */
    int perm_only;
    /* chmod (stat.c, owner and route checked): the node's permission bits become mode (07777).
     * NULL: EROFS on a read-only route, else EPERM (the backend keeps no modes the program sets:
     * a host directory's are the host's, a device's are fixed). */
    long (*chmod)(struct vfs *v, struct vnode *n, uint32_t mode);
    /* -- changes made outside the vfs first (hostdir.c: by the Monitor, in the host
     * directory); generic code changes its nodes only once the backend said 0.  NULL: 0. -- */
    /* n, new from .create, is about to be named `name` in dir (open O_CREAT, mkdir) */
    long (*make)(struct vfs *v, struct vnode *dir, const char *name, size_t len, struct vnode *n);
    /* n, an entry of dir, is about to be removed (unlink, rmdir) */
    long (*remove)(struct vfs *v, struct vnode *dir, struct vnode *n);
    /* odir's entry oname is about to be renamed ndir's nname (flags: renameat2's, checked) */
    long (*rename)(struct vfs *v, struct vnode *odir, const char *oname, size_t olen, struct vnode *ndir,
                   const char *nname, size_t nlen, uint32_t flags);
};

/* EROFS for writes where nothing can be created and it is not perm_only */
static inline int route_rofs(const struct route *rt);

/* Mounting (route.c), what each backend's vfs_mount_* does: route_new checks the prefix
 * (-EINVAL, -EEXIST) and makes the route with its root directory; the backend fills its
 * state and nodes; route_attach mounts it (on failure it discards it); route_discard
 * frees a route that could not be mounted, nodes included; route_free frees what the
 * route itself holds (its backend's unmount first).  route_at: the route mounted at
 * prefix (-EINVAL, -ENOENT). */
VFS_INTERNAL long route_new(struct vfs *v, const char *prefix, const struct vfs_backend *ops, uint32_t rootmode,
                            struct route **out);
VFS_INTERNAL long route_attach(struct vfs *v, struct route *rt);
VFS_INTERNAL void route_discard(struct vfs *v, struct route *rt);
VFS_INTERNAL void route_free(struct vfs *v, struct route *rt);
VFS_INTERNAL long route_at(struct vfs *v, const char *prefix, struct route **out);

struct route {
    struct route *next;
    const struct vfs_backend *ops;
    char *prefix;
    size_t prefixlen;
    struct vnode *root;
    struct vnode *mountpoint;   /* the skeleton node it is mounted on */
    uint32_t dev;
    /* dev and proc: absolute symlink targets start at the namespace's root, not the route's */
    int global_links;
    /* the backends' own state: tar */
    const uint8_t *image;
    size_t image_size;
    /* RAM disk */
    size_t cap, used;
    uint32_t nodes;
    /* origin */
    char *url;
    size_t urllen;
    struct vfs_pin *pins;
    /* proc */
    uint32_t pid;
    int64_t btime;
    /* host directory: the mount's number, and where its requests and replies are made */
    int mount;
    uint8_t *iobuf;
};

static inline int route_rofs(const struct route *rt)
{
    return !rt->ops->create && !rt->ops->perm_only;
}

/* 0, or the errno with which the route stops a walk (vfs_backend.enter) */
static inline long route_enter(struct vfs *v, const struct route *rt, int wflags)
{
    return rt->ops->enter ? rt->ops->enter(v, rt, wflags) : 0;
}

/* the skeleton's pseudo-route: the directories leading to route prefixes (route.c) */
static inline int route_is_skel(const struct vfs *v, const struct route *rt);

VFS_INTERNAL extern const struct vfs_backend vfs_tar_backend, vfs_ram_backend, vfs_origin_backend,
    vfs_skel_backend, vfs_deny_backend, vfs_dev_backend, vfs_proc_backend, vfs_chan_backend,
    vfs_hostdir_ro_backend, vfs_hostdir_rw_backend;
VFS_INTERNAL long vfs_fsync_noop(struct vfs *v, struct vnode *n);
VFS_INTERNAL struct vnode *skel_of(struct vfs *v, const struct vnode *n);
VFS_INTERNAL struct vnode *vfs_root(struct vfs *v);
VFS_INTERNAL struct vnode *resolve_skel(struct vfs *v, struct vnode *s);
/* the directory ".." of n leads to in the namespace (confine: a symlink's route, whose
 * root ".." does not leave; NULL: none) */
VFS_INTERNAL struct vnode *ns_parent(struct vfs *v, struct vnode *n, const struct route *confine);
/* deleted: how to treat removed nodes: 0 -ENOENT, 1 append " (deleted)" as /proc does */
VFS_INTERNAL int node_path(struct vfs *v, const struct vnode *n, char *buf, size_t size, int deleted);

/* x in decimal, not NUL-terminated (at most 20 bytes); its length */
static inline size_t fmt_u64(char *out, uint64_t x)
{
    char tmp[20];
    size_t n = 0, len = 0;
    do {
        tmp[n++] = (char)('0' + x % 10);
        x /= 10;
    } while (x);
    while (n)
        out[len++] = tmp[--n];
    return len;
}

/* directory listings (readdir.c): one record into d (1 if it fit, 0 if d is full); the
 * generic listing of a directory (vfs_backend.readdir) */
VFS_INTERNAL int dirlist_emit(struct dirlist *d, uint64_t ino, int64_t off, uint8_t type, const char *name,
                              size_t len);
VFS_INTERNAL long dir_list(struct vfs *v, struct vnode *dir, struct dirlist *d, uint64_t *pos);

/* -- path resolution -------------------------------------------------------- */
enum { LAST_NORM, LAST_ROOT, LAST_DOT, LAST_DOTDOT };
#define W_FOLLOW 1      /* follow a final symlink */
#define W_PARENT 2      /* stop before the final component */
#define W_CREATE 4      /* the final component may be absent (open O_CREAT) */
#define W_WRITE 8       /* the operation writes: deny routes say EACCES */
#define W_EMPTY 16      /* an empty path means dirfd itself */
#define W_DIRECTORY 32  /* the final node must be a directory */
#define W_EMPTY_ENOENT 64 /* readlinkat: empty path allowed, but not a dirfd that is a directory */

struct walk {
    struct vnode *node;         /* the final node (NULL: absent, W_CREATE/W_PARENT) */
    struct vnode *dir;          /* the directory holding the final component */
    const char *name;           /* the final component (W_PARENT, or absent) */
    size_t len;
    int type;                   /* LAST_* */
    int slash;                  /* the final component had a trailing slash */
    int empty;                  /* the path was empty (W_EMPTY) */
};
VFS_INTERNAL long vfs_walk(struct vfs *v, int dirfd, const char *path, int flags, struct walk *w);
/* the entry `name` of dir as the namespace shows it (mounts included), no symlinks followed;
 * *how: LOOKUP_MOUNT if it is a mount point (or a skeleton directory); on failure,
 * LOOKUP_FINAL if the name cannot be made either (a deny route, /proc) */
enum { LOOKUP_MOUNT = 1, LOOKUP_FINAL = 2 };
VFS_INTERNAL long lookup_entry(struct vfs *v, struct vnode *dir, const char *name, size_t len, int wflags,
                               struct vnode **out, int *how);
/* lookup_entry once dir's route has let the walk in (path.c checks that of each directory
 * it stands in) */
VFS_INTERNAL long lookup_name(struct vfs *v, struct vnode *dir, const char *name, size_t len, int wflags,
                              struct vnode **out, int *how);
VFS_INTERNAL long vfs_rel_path(const struct vnode *n, char *buf, size_t size);
/* a new node at path (dir.c): what mkdirat and a unix socket's bind make */
VFS_INTERNAL long vfs_make_node(struct vfs *v, int dirfd, const char *path, uint32_t mode, struct vnode **out);
VFS_INTERNAL long vfs_permission(struct vfs *v, const struct vnode *n, int mask);

/* -- open files --------------------------------------------------------------- */
#define FM_READ 1
#define FM_WRITE 2
#define FM_PATH 4

struct vfs_file_ops;
struct ofd {
    uint32_t refs;
    const struct vfs_file_ops *ops; /* what kind of description it is (see struct vfs_file_ops) */
    int chan;                   /* the stdio channel; a socket's type */
    uint32_t fmode;             /* FM_* */
    uint32_t flags;             /* as F_GETFL shows them */
    uint64_t pos;               /* a node's file: the file position; a socket: its inode number */
    struct vnode *node;         /* a node's file (O_PATH too): the node; NULL for every other kind */
    void *priv;                 /* the kind's own state (a pipe's struct vpipe) */
};

/* struct flock of x86-64 */
struct vfs_flock {
    int16_t l_type;
    int16_t l_whence;
    int64_t l_start;
    int64_t l_len;
    int32_t l_pid;
};

/* What an open description does: one table per kind of description.  A node's file
 * (vfs_node_fops, file.c) reads and writes through its node's backend; the others have no
 * node: the stdio channels (stdio.c), pipes (pipe.c), sockets (socket.c).  The calls of
 * io.c, fdtable.c, stat.c and readdir.c check the fd and the arguments that every kind shares
 * (EBADF, access mode, iovec counts), then call here.  A NULL entry gives the errno Linux
 * gives a file without that operation, named at each entry. */
struct vfs_file_ops {
    /* f is being opened on n (its node, or the channel node it stands for): f->ops, fmode and
     * flags are set.  Takes what f holds (a reference on n); on failure takes nothing.
     * NULL: nothing to take (descriptions made by their own call: pipe2, socket). */
    long (*open)(struct vfs *v, struct ofd *f, struct vnode *n);
    /* read and write at the description's position (streams: none), n <= any size */
    long (*read)(struct vfs *v, struct ofd *f, void *buf, size_t n);
    long (*write)(struct vfs *v, struct ofd *f, const void *buf, size_t n);
    /* the vectored forms, iov checked (total: the bytes asked for, capped at MAX_RW_COUNT, > 0) */
    long (*readv)(struct vfs *v, struct ofd *f, const struct vfs_iovec *iov, int cnt, size_t total);
    long (*writev)(struct vfs *v, struct ofd *f, const struct vfs_iovec *iov, int cnt, size_t total);
    /* at a given offset; NULL: ESPIPE */
    long (*pread)(struct vfs *v, struct ofd *f, void *buf, size_t n, uint64_t off);
    long (*pwrite)(struct vfs *v, struct ofd *f, const void *buf, size_t n, uint64_t off);
    /* whence checked (SEEK_SET .. SEEK_HOLE); NULL: ESPIPE */
    long (*lseek)(struct vfs *v, struct ofd *f, int64_t off, int whence);
    /* NULL: ENOTDIR */
    long (*getdents)(struct vfs *v, struct ofd *f, void *buf, size_t n);
    /* len >= 0; NULL: EINVAL */
    long (*truncate)(struct vfs *v, struct ofd *f, uint64_t len);
    /* NULL: EINVAL */
    long (*fsync)(struct vfs *v, struct ofd *f);
    /* fstat (every kind has one) */
    void (*stat)(struct vfs *v, struct ofd *f, struct vfs_stat *st);
    /* NULL: ENOTTY */
    long (*ioctl)(struct vfs *v, struct ofd *f, uint32_t cmd, uint64_t arg);
    /* Readiness now (POLL* bits, all of them: vfs_poll filters).  Readiness the vfs cannot
     * know (a stdio channel's: the Monitor's) goes in *chan, the channel to ask, with 0.
     * NULL: VFS_POLL_DEFAULT, ready for everything. */
    uint32_t (*poll)(struct vfs *v, struct ofd *f, int *chan);
    /* A count of the description's events (every change of its readiness, every data
     * arrival): what epoll's EPOLLET compares.  NULL: 0 (nothing ever happens). */
    uint32_t (*events)(struct vfs *v, struct ofd *f);
    /* F_SETFL with these flags: the answer, the flags changed or not; NULL: the flags of
     * F_SETFL's mask are kept as asked */
    long (*setfl)(struct vfs *v, struct ofd *f, uint32_t flags);
    /* F_GETPIPE_SZ (size 0) and F_SETPIPE_SZ (size already rounded as Linux rounds it, a
     * power of two from XAX_PIPE_MIN_SIZE to XAX_PIPE_MAX_SIZE): the pipe's capacity in bytes,
     * or -EBUSY (more is buffered than the new size holds); NULL: not a pipe, EBADF */
    long (*pipe_size)(struct vfs *v, struct ofd *f, uint32_t size);
    /* the record locks of fcntl (fl checked non-NULL); NULL: EINVAL */
    long (*lock)(struct vfs *v, struct ofd *f, int cmd, struct vfs_flock *fl);
    /* what /proc/self/fd/N leads to; NULL: f->node (nothing, if it has none) */
    struct vnode *(*link_node)(struct vfs *v, struct ofd *f);
    /* the last reference is gone: release what f holds (f itself is freed after) */
    void (*release)(struct vfs *v, struct ofd *f);
    /* A description of a Monitor's channel, which counts each process's holds apart (a
     * process's exit lets go of its own): a forked child gets its own copy (fork.c) instead
     * of sharing it, and its close is its own.  0: the family shares the description, its
     * position included, as Linux shares one across fork. */
    int per_process;
};

VFS_INTERNAL struct ofd *fd_get(struct vfs *v, int fd);        /* NULL: EBADF */
VFS_INTERNAL struct ofd *fd_get_io(struct vfs *v, int fd);     /* also NULL for O_PATH */
VFS_INTERNAL long fd_alloc(struct vfs *v, int from);           /* lowest free fd >= from, or -EMFILE */
VFS_INTERNAL void fd_install(struct vfs *v, int fd, struct ofd *f, int cloexec);
VFS_INTERNAL struct ofd *ofd_new(struct vfs *v);
VFS_INTERNAL void ofd_put(struct vfs *v, struct ofd *f);
/* what /proc/self/fd/N of a description leads to (NULL: nothing) */
static inline struct vnode *ofd_link_node(struct vfs *v, struct ofd *f)
{
    return f->ops->link_node ? f->ops->link_node(v, f) : f->node;
}
/* readiness of a description (io.c): its kind's mask filtered as vfs_poll filters it, and
 * the channel the rest lies with (*chan, -1 for none); whether it can be polled at all (what
 * epoll_ctl asks: a regular file or a directory cannot); its count of events */
VFS_INTERNAL uint32_t ofd_poll(struct vfs *v, struct ofd *f, uint32_t events, int *chan);
VFS_INTERNAL int ofd_can_poll(const struct ofd *f);
VFS_INTERNAL uint32_t ofd_events(struct vfs *v, struct ofd *f);
/* the record locks of a node's file: always granted (one process holds them all) */
VFS_INTERNAL long vfs_lock_granted(struct vfs *v, struct ofd *f, int cmd, struct vfs_flock *fl);

/* the kinds of description */
VFS_INTERNAL extern const struct vfs_file_ops vfs_node_fops, vfs_stdio_fops;

/* what the kinds with no node share (stream.c): readv fills the first non-empty buffer only
 * (a short read, as a pipe may give), writev stops at the first short write; fstat shows an
 * inode of the picoprocess's own */
VFS_INTERNAL long stream_readv(struct vfs *v, struct ofd *f, const struct vfs_iovec *iov, int cnt, size_t total);
VFS_INTERNAL long stream_writev(struct vfs *v, struct ofd *f, const struct vfs_iovec *iov, int cnt, size_t total);
VFS_INTERNAL void stream_stat_fill(struct vfs *v, struct vfs_stat *st, uint64_t ino, uint32_t mode);
/* a description that is a Monitor's channel (f->chan): one read or write of it */
VFS_INTERNAL long stream_chan_read(struct vfs *v, struct ofd *f, void *buf, size_t n);
VFS_INTERNAL long stream_chan_write(struct vfs *v, struct ofd *f, const void *buf, size_t n);
VFS_INTERNAL long stream_chan_try_read(struct vfs *v, struct ofd *f, void *buf, size_t n);
VFS_INTERNAL long stream_chan_try_write(struct vfs *v, struct ofd *f, const void *buf, size_t n);

/* a node's file (file.c): lseek as the node's size and type say (vfs_backend.seek may
 * call it); getdents64 (readdir.c) */
VFS_INTERNAL long node_seek(struct ofd *f, int64_t off, int whence);
VFS_INTERNAL long node_getdents(struct vfs *v, struct ofd *f, void *buf, size_t n);

/* stat (stat.c) */
VFS_INTERNAL void node_stat(struct vfs *v, const struct vnode *n, struct vfs_stat *st);

/* the caller's data buffers (user.c): how many bytes could NOT be copied */
VFS_INTERNAL size_t vfs_copy_out(struct vfs *v, void *dst, const void *src, size_t n);
VFS_INTERNAL size_t vfs_copy_in(struct vfs *v, void *dst, const void *src, size_t n);
VFS_INTERNAL size_t vfs_zero_out(struct vfs *v, void *dst, size_t n);

/* A data call's answer when `left` of the n bytes it meant to move could not be:
 * how many it moved, or -EFAULT if none (n > 0). */
static inline long vfs_moved(size_t n, size_t left)
{
    return left == n ? -EFAULT : (long)(n - left);
}

/* -- the vfs ------------------------------------------------------------------- */
/* What a family of processes shares (docs/processes.md): the allocator, every node (the
 * entry table, inode and device numbers), the sockets' and epoll sets' lists.  The layer
 * puts it, and everything vmem_alloc hands out, in memory all the family's processes map at
 * the same address; struct vfs itself (fds, cwd, umask, identity) is each process's own. */
struct vfs_shared {
    struct vmem mem;
    struct vnode *all;          /* every node */
    struct vnode **htab;        /* the entry table: (directory, name) -> node, chained (node.c) */
    uint32_t hmask;             /* its size - 1 (a power of two) */
    uint32_t hcount;            /* nodes in it */
    uint64_t next_ino;
    uint32_t next_dev;
    /* sockets (sock*.c) and epoll sets (epoll.c) */
    struct vsock *socks;        /* every socket: the names bound, who listens */
    uint32_t next_port;         /* the next ephemeral port to try */
    uint32_t next_autobind;     /* the next AF_UNIX autobind name */
    uint64_t listen_order;      /* listen calls so far: which socket listened first */
    struct vepoll *epolls;      /* every epoll set: a description that goes leaves them */
    void (*on_release)(struct vfs *v, struct ofd *f); /* set by epoll.c while sets exist */
};

struct vfs {
    struct vfs_env env;
    struct vfs_shared *sh;      /* allocated with env.alloc, next to this struct's env.alloc_own */
    struct route *routes;       /* mounted before any fork: the same list in every process */
    struct vnode *skel_root;    /* the skeleton: "/" and the directories leading to prefixes */
    struct route skel;          /* the skeleton's pseudo-route */
#ifdef VFS_DEBUG
    struct vfs_debug dbg;       /* the host build's counters and knobs (vfs.h) */
#endif
    struct vnode *cwd;
    struct ofd *fds[VFS_FD_MAX];
    uint8_t cloexec[VFS_FD_MAX];
    int fd_limit;
    uint8_t reserved[VFS_FD_MAX]; /* never handed out (vfs_reserve_fd): the channel's and the image's */
    struct route chan_rt;       /* the channels' pseudo-route (stat: st_dev) */
    struct vnode *chan_node[3]; /* the channels as FIFOs, after vfs_stdio */
    uint32_t chan_refs[3];      /* open descriptions of each channel: closed when none is left */
    uint32_t uid, gid, umask;
    uint32_t stdio_dev;
    char scratch[VFS_PATH_MAX * 2]; /* origin paths and URLs */
    const char *tar_refusal;    /* why the last vfs_mount_tar refused its image (tar.c) */
    uint64_t tar_refusal_at;    /* the offset of the header it is about */
    int outside_accepts;        /* the Monitor hands over connections (vfs_net_accepts) */
    struct ofd **fork_copy;     /* VFS_FD_MAX of them, from a process's first fork on: the child's copies (fork.c) */
};

static inline int route_is_skel(const struct vfs *v, const struct route *rt)
{
    return rt == &v->skel;
}

#endif
