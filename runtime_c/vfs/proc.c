/* The /proc route (vfs_mount_proc): the process's own entries and a machine of
 * its own, made by the vfs: nothing here is read from the host.
 *
 *   self          -> "<pid>" (the virtual pid the layer gives getpid: in a process of a family,
 *                 its own, vfs_proc_set_pid — a magic link made as it is read, for a family's
 *                 processes share the vfs's nodes)
 *   <pid>/        the process (owned by the virtual user, as procfs shows the caller's)
 *   <pid>/exe     -> the program's path as the picoprocess sees it (absent when none
 *                 is known: a bare program has no path in the namespace); after an exec,
 *                 the program it runs now (vfs_proc_set_exe: a magic link, for the family
 *                 shares the node and each process runs its own program)
 *   <pid>/fd/     the open fds; fd/N is a "magic" link: readlink gives what the fd
 *                 is open on (a path, "pipe:[N]" for a stdio channel, " (deleted)"
 *                 after the path of a removed file), following it reaches that
 *                 very file (opening it opens the file again), lstat's mode shows
 *                 the fd's access (r-x read, -wx write)
 *   loadavg       "0.00 0.00 0.00 1/1 <pid>": idle, one runnable thread of one,
 *                 the last pid ours (what sysinfo answers too)
 *   stat          one CPU (cpu0) with no time accounted, no interrupts or context
 *                 switches, one process, booted when the route was mounted
 *
 * The one CPU is what glibc's get_nprocs counts from the "cpuN" lines (sysconf's
 * _SC_NPROCESSORS_ONLN, Python's os.cpu_count), as sched_getaffinity is refused.
 * Anything else under /proc is ENOENT, creating included (procfs has no negative
 * entries).  As procfs shows them: st_size 0 and st_blksize 1024, files 0444 and
 * /proc 0555 owned by root, seeks SET and CUR only (proc_seek), no fsync, no mmap. */
#include "vfs_int.h"

enum { PROC_LOADAVG = 1, PROC_STAT };

#define SELF_LINK (-1) /* "self"'s arg: VN_MAGIC, but no fd */
#define EXE_LINK (-2)  /* "exe"'s: the program this process runs */

/* This process's pid where it is not the route's (a forked process of the family): it lives in
 * the layer's own memory, private to each process, never in the vfs's (shared by a family). */
static uint32_t own_pid;

void vfs_proc_set_pid(uint32_t pid)
{
    own_pid = pid;
}

/* The program it runs since its last exec (0 bytes: the one the route was mounted with), as
 * private to the process as own_pid. */
static char own_exe[VFS_PATH_MAX];
static size_t own_exe_len;

void vfs_proc_set_exe(const char *path, size_t len)
{
    if (len >= sizeof own_exe)
        len = 0;
    memcpy(own_exe, path, len);
    own_exe_len = len;
}

long vfs_fd_path(struct vfs *v, int fd, char *buf, size_t size)
{
    struct ofd *f = fd_get(v, fd);
    if (!f)
        return -EBADF;
    struct vnode *n = ofd_link_node(v, f);
    if (!n)
        return -ENOENT;
    int r = node_path(v, n, buf, size, 0);
    return r < 0 ? r : r - 1;
}

/* exe's text: the program's path */
static const char *exe_text(const struct vnode *link, size_t *len)
{
    *len = own_exe_len ? own_exe_len : link->size;
    return own_exe_len ? own_exe : (const char *)link->data;
}

static uint32_t pid_of(const struct route *rt)
{
    return own_pid ? own_pid : rt->pid;
}

/* The <pid> directory: made with the route's pid as its name, shown as this process's. */
static struct vnode *pid_dir(struct vfs *v, const struct route *rt)
{
    char name[12];
    return node_child(v, rt->root, name, fmt_u64(name, rt->pid));
}

static size_t put(char *out, size_t pos, const char *s)
{
    size_t n = strlen(s);
    memcpy(out + pos, s, n);
    return pos + n;
}

static long add(struct vfs *v, struct vnode *dir, const char *name, size_t len, int copy, uint32_t mode,
                struct vnode **out)
{
    struct vnode *n = node_new(v, dir->rt, mode);
    if (!n)
        return -ENOMEM;
    long r = node_set_name(v, n, name, len, copy);
    if (r < 0) {
        node_destroy(v, n);
        return r;
    }
    node_link(v, dir, n);
    *out = n;
    return 0;
}

/* a symlink whose target is copied into vfs memory (freed by proc_drop) */
static long add_link(struct vfs *v, struct vnode *dir, const char *name, const char *target, size_t len,
                     struct vnode **out)
{
    char *copy = vmem_alloc(v, len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, target, len);
    copy[len] = 0;
    long r = add(v, dir, name, strlen(name), 0, S_IFLNK | 0777, out);
    if (r < 0) {
        vmem_free(v, copy, len + 1);
        return r;
    }
    (*out)->data = (const uint8_t *)copy;
    (*out)->size = len;
    (*out)->flags |= VN_OWN_DATA;
    return 0;
}

static long proc_populate(struct vfs *v, struct route *rt, const char *exe)
{
    size_t exelen = 0;
    if (exe) {
        while (exe[exelen])
            if (++exelen >= VFS_PATH_MAX)
                return -ENAMETOOLONG;
        if (exe[0] != '/')
            return -EINVAL;
    }
    struct vfs_ts now;
    vfs_now(v, &now);
    rt->btime = now.sec;
    node_own(rt->root, 0, 0);
    char pid[12];
    size_t pidlen = fmt_u64(pid, rt->pid);
    struct vnode *n, *piddir, *fd;
    long r = add_link(v, rt->root, "self", pid, pidlen, &n);
    if (r < 0)
        return r;
    node_own(n, 0, 0);
    n->flags |= VN_MAGIC;
    n->arg = SELF_LINK;
    r = add(v, rt->root, pid, pidlen, 1, S_IFDIR | 0555, &piddir);
    if (r < 0)
        return r;
    if (exe && (r = add_link(v, piddir, "exe", exe, exelen, &n)) < 0)
        return r;
    if (exe) {
        n->flags |= VN_MAGIC;
        n->arg = EXE_LINK;
    }
    r = add(v, piddir, "fd", 2, 0, S_IFDIR | 0500, &fd);
    if (r < 0)
        return r;
    fd->flags |= VN_FDDIR;
    r = add(v, rt->root, "loadavg", 7, 0, S_IFREG | 0444, &n);
    if (r < 0)
        return r;
    node_own(n, 0, 0);
    n->synth = PROC_LOADAVG;
    r = add(v, rt->root, "stat", 4, 0, S_IFREG | 0444, &n);
    if (r < 0)
        return r;
    node_own(n, 0, 0);
    n->synth = PROC_STAT;
    return 0;
}

/* the file's text, as procfs prints it; its length */
static size_t text(const struct vnode *n, char *out)
{
    const struct route *rt = n->rt;
    size_t pos = 0;
    if (n->synth == PROC_LOADAVG) {
        pos = put(out, pos, "0.00 0.00 0.00 1/1 ");
        pos += fmt_u64(out + pos, pid_of(rt));
        return put(out, pos, "\n");
    }
    pos = put(out, pos, "cpu  0 0 0 0 0 0 0 0 0 0\n"
                        "cpu0 0 0 0 0 0 0 0 0 0 0\n"
                        "intr 0\n"
                        "ctxt 0\n"
                        "btime ");
    pos += fmt_u64(out + pos, rt->btime > 0 ? (uint64_t)rt->btime : 0);
    return put(out, pos, "\n"
                         "processes 1\n"
                         "procs_running 1\n"
                         "procs_blocked 0\n"
                         "softirq 0 0 0 0 0 0 0 0 0 0 0\n");
}

static long proc_read(struct vfs *v, struct vnode *n, void *buf, size_t len, uint64_t off)
{
    char out[512];
    size_t size = text(n, out);
    if (off >= size)
        return 0;
    if (len > size - off)
        len = size - (size_t)off;
    return vfs_moved(len, vfs_copy_out(v, buf, out + off, len));
}

/* -- the fd directory ---------------------------------------------------------- */

/* fd/N's node (kept as an entry of the directory, one per number ever looked up) */
static struct vnode *proc_fd_node(struct vfs *v, struct vnode *dir, int fd)
{
    char name[12];
    size_t len = fmt_u64(name, (uint64_t)fd);
    struct vnode *n = node_child(v, dir, name, len);
    if (n)
        return n;
    if (add(v, dir, name, len, 1, S_IFLNK | 0777, &n) < 0)
        return 0;
    n->flags |= VN_MAGIC;
    n->arg = fd;
    return n;
}

/* "N": an open fd, in decimal without leading zeros, as procfs's name_to_int reads it */
static long fd_lookup(struct vfs *v, struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
    *out = 0;
    if (len == 0 || len > 4 || (len > 1 && name[0] == '0'))
        return -ENOENT;
    int fd = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -ENOENT;
        fd = fd * 10 + (name[i] - '0');
    }
    if (!fd_get(v, fd))
        return -ENOENT;
    *out = proc_fd_node(v, dir, fd);
    return *out ? 0 : -ENOMEM;
}

/* -- the backend's table ---------------------------------------------------------- */

/* procfs has no negative entries: a name that is not there cannot be made either */
static long proc_lookup(struct vfs *v, struct vnode *dir, const char *name, size_t len, struct vnode **out,
                        int *final)
{
    *final = 1;
    if (dir->flags & VN_FDDIR)
        return fd_lookup(v, dir, name, len, out);
    if (dir == dir->rt->root && own_pid) { /* <pid>: this process's, never the route's */
        char mine[12], made[12];
        size_t mlen = fmt_u64(mine, own_pid), dlen = fmt_u64(made, dir->rt->pid);
        if (name_eq(name, len, mine, mlen)) {
            *out = pid_dir(v, dir->rt);
            return *out ? 0 : -ENOENT;
        }
        if (name_eq(name, len, made, dlen)) {
            *out = 0;
            return -ENOENT;
        }
    }
    *out = node_child(v, dir, name, len);
    return *out ? 0 : -ENOENT;
}

/* fd/N leads to what fd N is open on */
static long proc_follow(struct vfs *v, const struct vnode *link, struct vnode **target)
{
    if (link->arg == SELF_LINK) {
        *target = pid_dir(v, link->rt);
        return *target ? 0 : -ENOENT;
    }
    if (link->arg == EXE_LINK) { /* the program's file, wherever its path leads now */
        size_t len;
        const char *text = exe_text(link, &len);
        static char path[VFS_PATH_MAX]; /* one call at a time (the layer's lock); not on the signal stack */
        memcpy(path, text, len);
        path[len] = 0;
        struct walk w;
        long r = vfs_walk(v, AT_FDCWD, path, W_FOLLOW, &w);
        if (r < 0)
            return r;
        *target = w.node;
        return w.node ? 0 : -ENOENT;
    }
    struct ofd *f = fd_get(v, link->arg);
    if (!f)
        return -ENOENT; /* closed since it was looked up */
    struct vnode *n = ofd_link_node(v, f);
    if (!n)
        return -ENOENT;
    *target = n;
    return 0;
}

/* fd/N's text: the path of what fd N is open on, or the name it gives itself (a channel's
 * "pipe:[N]") */
static long proc_readlink(struct vfs *v, const struct vnode *link, char *buf, size_t size)
{
    if (link->arg == SELF_LINK) {
        char pid[12];
        size_t len = fmt_u64(pid, pid_of(link->rt));
        if (len > size)
            len = size;
        memcpy(buf, pid, len);
        return (long)len;
    }
    if (link->arg == EXE_LINK) {
        size_t len;
        const char *text = exe_text(link, &len);
        if (len > size)
            len = size;
        memcpy(buf, text, len);
        return (long)len;
    }
    struct vnode *n;
    long r = proc_follow(v, link, &n);
    if (r < 0)
        return r;
    if (n->rt->ops->dname)
        return n->rt->ops->dname(v, n, buf, size);
    r = node_path(v, n, buf, size, 1);
    return r < 0 ? r : r - 1;
}

/* the open fds: fd k is at position k + 2 (as procfs numbers them) */
static long fd_readdir(struct vfs *v, struct vnode *dir, struct dirlist *d, uint64_t *pos)
{
    for (uint64_t fd = *pos - VFS_DIR_FIRST; *pos >= VFS_DIR_FIRST && fd < (uint64_t)v->fd_limit; fd++) {
        if (!fd_get(v, (int)fd))
            continue;
        struct vnode *link = proc_fd_node(v, dir, (int)fd);
        if (!link)
            return -ENOMEM;
        if (!dirlist_emit(d, link->ino, (int64_t)fd + 3, VFS_DT_LNK, link->name, link->namelen))
            return VFS_DIR_FULL;
        *pos = fd + 3;
    }
    *pos = VFS_DIR_FIRST + (uint64_t)v->fd_limit;
    return 0;
}

/* /proc itself: its entries as dir_list gives them (newest first), <pid> named as this
 * process's own */
static long root_readdir(struct vfs *v, struct vnode *dir, struct dirlist *d, uint64_t *pos)
{
    struct vnode *mine = pid_dir(v, dir->rt);
    char pid[12];
    size_t pidlen = fmt_u64(pid, pid_of(dir->rt));
    if (*pos < VFS_SKEL_OFF) {
        uint64_t below = *pos == VFS_DIR_FIRST ? ~(uint64_t)0 : VFS_SKEL_OFF - *pos;
        struct vnode *c = dir->last;
        while (c && c->dir_off >= below)
            c = c->prev;
        for (; c; c = c->prev) {
            uint64_t next = VFS_SKEL_OFF - c->dir_off;
            int self = c == mine;
            if (!dirlist_emit(d, c->ino, (int64_t)next, VFS_ISDIR(c->mode) ? VFS_DT_DIR : VFS_ISLNK(c->mode) ? VFS_DT_LNK : VFS_DT_REG, self ? pid : c->name,
                              self ? pidlen : c->namelen))
                return VFS_DIR_FULL;
            *pos = next;
        }
        *pos = VFS_SKEL_OFF;
    }
    return dir_list(v, dir, d, pos); /* from VFS_SKEL_OFF on: the routes below /proc, if any */
}

static long proc_readdir(struct vfs *v, struct vnode *dir, struct dirlist *d, uint64_t *pos)
{
    if (dir->flags & VN_FDDIR)
        return fd_readdir(v, dir, d, pos);
    if (dir == dir->rt->root && own_pid)
        return root_readdir(v, dir, d, pos);
    return dir_list(v, dir, d, pos);
}

/* as procfs shows them: st_size 0 (the fd directory: the number of open fds, as newer
 * kernels show), st_blksize 1024; an fd link's mode shows the fd's access */
static void proc_stat(struct vfs *v, const struct vnode *n, struct vfs_stat *st)
{
    st->st_blksize = 1024;
    st->st_size = 0;
    if (n->flags & VN_FDDIR) {
        for (int fd = 0; fd < v->fd_limit; fd++)
            st->st_size += fd_get(v, fd) != 0;
    }
    if ((n->flags & VN_MAGIC) && n->arg >= 0) { /* an fd's link */
        struct ofd *f = fd_get(v, n->arg);
        uint32_t perm = 0;
        if (f && (f->fmode & FM_READ))
            perm |= 0500;
        if (f && (f->fmode & FM_WRITE))
            perm |= 0300;
        st->st_mode = S_IFLNK | perm;
    }
}

/* seq_files: SEEK_SET and SEEK_CUR only */
static long proc_seek(struct vfs *v, struct ofd *f, int64_t off, int whence)
{
    (void)v;
    if (whence != SEEK_SET && whence != SEEK_CUR)
        return -EINVAL;
    return node_seek(f, off, whence);
}

/* proc_reg_mmap: EIO for its files; the directories do not map at all */
static long proc_mmap(struct vfs *v, const struct vnode *n)
{
    (void)v;
    return VFS_ISREG(n->mode) ? -EIO : -ENODEV;
}

static void proc_drop(struct vfs *v, struct vnode *n)
{
    if ((n->flags & VN_OWN_DATA) && n->data)
        vmem_free(v, (void *)n->data, n->size + 1);
    n->data = 0;
}

/* No fsync (EINVAL): procfs has none. */
const struct vfs_backend vfs_proc_backend = {
    .lookup = proc_lookup,
    .follow = proc_follow,
    .readlink = proc_readlink,
    .stat = proc_stat,
    .read = proc_read,
    .seek = proc_seek,
    .readdir = proc_readdir,
    .mmap = proc_mmap,
    .drop = proc_drop,
    .perm_only = 1,
};

long vfs_mount_proc(struct vfs *v, const char *prefix, uint32_t pid, const char *exe)
{
    if (!v || pid == 0 || pid > 4194304 /* PID_MAX_LIMIT */)
        return -EINVAL;
    struct route *rt;
    long r = route_new(v, prefix, &vfs_proc_backend, 0555, &rt);
    if (r < 0)
        return r;
    rt->global_links = 1;
    rt->pid = pid;
    r = proc_populate(v, rt, exe);
    if (r < 0) {
        route_discard(v, rt);
        return r;
    }
    return route_attach(v, rt);
}
