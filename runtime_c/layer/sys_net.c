/* Sockets: the calls of runtime_c/vfs/sock*.c, their arguments copied in and their answers
 * copied out as Linux's socket calls do (addresses through move_addr_to_kernel and
 * move_addr_to_user: at most a sockaddr_storage in, as much as the program's buffer takes
 * out and the whole length written back; a msghdr, its iovec and its name).  No emulated
 * socket is ever a host socket: what leaves the picoprocess is a Monitor's channel (a
 * browser's connection, the image's origin), see runtime_c/layer/net.c.
 *
 * @family sockets: AF_UNIX, AF_INET and AF_INET6 inside the picoprocess (streams, datagrams,
 *     unix seqpackets): connections between its own sockets are made inside it; its first
 *     listening internet socket takes the browser's connections under serve; a connect to the
 *     image's origin is the Monitor's; every other address ENETUNREACH; no signal (EPIPE)
 * @serves socket socketpair bind listen accept accept4 connect getsockname getpeername
 *     setsockopt getsockopt shutdown sendto recvfrom sendmsg recvmsg sendmmsg recvmmsg
 *
 * @family sendfile: a file's bytes to any fd (a socket, mostly) through a bounce buffer
 * @serves sendfile
 */
#include "../lib/sys.h"
#include "../vfs/vfs.h"
#include "layer.h"
#include "progmem.h"

#define V (layer.vfs)
#define A(i) (c->a[i])
#define FD(i) arg_fd(c->a[i])
#define MAX_RW 0x7ffff000UL
#define UIO_MAXIOV 1024
#define IOV_ON_STACK 16
#define CONTROL_MAX 20480 /* net.core.optmem_max: a larger control buffer is ENOBUFS */

long layer_socket(struct layer_call *c) { return vfs_socket(V, (int)A(0), (int)A(1), (int)A(2)); }

/* the two fds go out after the pair is made; if they cannot, it is undone */
long layer_socketpair(struct layer_call *c)
{
    int fds[2];
    long r = vfs_socketpair(V, (int)A(0), (int)A(1), (int)A(2), fds);
    if (r < 0)
        return r;
    if (prog_out(A(3), fds, sizeof fds) < 0) {
        vfs_close(V, fds[0]);
        vfs_close(V, fds[1]);
        return -EFAULT;
    }
    return 0;
}

/* move_addr_to_kernel: at most a sockaddr_storage; NULL to the VFS for one that cannot be
 * read, which it answers with its fd's errors first, then -EFAULT */
static const void *addr_in(uint8_t *buf, uint64_t addr, uint32_t len)
{
    if ((int)len < 0 || len > VFS_SOCKADDR_MAX)
        return buf; /* the VFS's EINVAL (after the fd's errors) */
    return prog_in(buf, addr, len) < 0 ? 0 : buf;
}

long layer_bind(struct layer_call *c)
{
    uint8_t buf[VFS_SOCKADDR_MAX];
    return vfs_bind(V, FD(0), addr_in(buf, A(1), (uint32_t)A(2)), (uint32_t)A(2));
}

long layer_connect(struct layer_call *c)
{
    uint8_t buf[VFS_SOCKADDR_MAX];
    return vfs_connect(V, FD(0), addr_in(buf, A(1), (uint32_t)A(2)), (uint32_t)A(2));
}

long layer_listen(struct layer_call *c) { return vfs_listen(V, FD(0), (int)A(1)); }
long layer_shutdown(struct layer_call *c) { return vfs_shutdown(V, FD(0), (int)A(1)); }

/* move_addr_to_user: the length the program's buffer holds is read, as much of the address
 * as fits is written, and the address's whole length written back */
static long addr_out(uint64_t to, uint64_t lenp, const void *addr, uint32_t klen)
{
    if (!to)
        return 0;
    int32_t ulen;
    if (prog_in(&ulen, lenp, sizeof ulen) < 0)
        return -EFAULT;
    if (ulen < 0)
        return -EINVAL;
    uint32_t n = (uint32_t)ulen < klen ? (uint32_t)ulen : klen;
    if (prog_out(to, addr, n) < 0 || prog_out(lenp, &klen, sizeof klen) < 0)
        return -EFAULT;
    return 0;
}

static long accept_flags(struct layer_call *c, int flags)
{
    uint8_t addr[VFS_SOCKADDR_MAX];
    uint32_t len = 0;
    long fd = vfs_accept4(V, FD(0), addr, &len, flags);
    if (fd < 0)
        return fd;
    long r = addr_out(A(1), A(2), addr, len);
    if (r < 0) { /* as Linux: the connection is lost with the fd it could not report */
        vfs_close(V, (int)fd);
        return r;
    }
    return fd;
}

long layer_accept(struct layer_call *c) { return accept_flags(c, 0); }
long layer_accept4(struct layer_call *c) { return accept_flags(c, (int)A(3)); }

static long name_of(struct layer_call *c, long (*call)(struct vfs *, int, void *, uint32_t *))
{
    uint8_t addr[VFS_SOCKADDR_MAX];
    uint32_t len = 0;
    long r = call(V, FD(0), addr, &len);
    if (r < 0)
        return r;
    if (!A(1))
        return -EFAULT;
    return addr_out(A(1), A(2), addr, len);
}

long layer_getsockname(struct layer_call *c) { return name_of(c, vfs_getsockname); }
long layer_getpeername(struct layer_call *c) { return name_of(c, vfs_getpeername); }

#define OPT_MAX 64 /* the largest option value kept (struct linger, timeval, ucred fit) */

long layer_setsockopt(struct layer_call *c)
{
    uint8_t val[OPT_MAX] = {0};
    uint32_t len = (uint32_t)A(4);
    if ((int)len < 0)
        return vfs_setsockopt(V, FD(0), (int)A(1), (int)A(2), val, len);
    uint32_t take = len < OPT_MAX ? len : OPT_MAX;
    int bad = prog_in(val, A(3), take) < 0;
    return vfs_setsockopt(V, FD(0), (int)A(1), (int)A(2), bad ? 0 : val, take);
}

long layer_getsockopt(struct layer_call *c)
{
    uint8_t val[OPT_MAX];
    int32_t ulen;
    int bad = prog_in(&ulen, A(4), sizeof ulen) < 0;
    uint32_t len = bad ? 0 : ulen < 0 ? (uint32_t)ulen : ((uint32_t)ulen < OPT_MAX ? (uint32_t)ulen : OPT_MAX);
    long r = vfs_getsockopt(V, FD(0), (int)A(1), (int)A(2), val, bad ? 0 : &len);
    if (r < 0)
        return r;
    if (prog_out(A(3), val, len) < 0 || prog_out(A(4), &len, sizeof len) < 0)
        return -EFAULT;
    return 0;
}

/* -- data ------------------------------------------------------------------------------------ */

/* struct msghdr of x86-64 */
struct k_msghdr {
    uint64_t name;
    uint32_t namelen;
    uint32_t pad;
    uint64_t iov;
    uint64_t iovlen;
    uint64_t control;
    uint64_t controllen;
    int32_t flags;
    uint32_t pad2;
};
_Static_assert(sizeof(struct k_msghdr) == 56, "struct msghdr of x86-64");

/* A message's parts copied in: the iovec (lengths checked as import_iovec checks them, the
 * total capped at MAX_RW_COUNT), the name and the control data, into m. */
struct msg_in {
    struct vfs_msghdr m;
    struct vfs_iovec local[IOV_ON_STACK], *iov;
    size_t iov_bytes;
    uint8_t name[VFS_SOCKADDR_MAX];
};

static long import_iov(struct msg_in *in, uint64_t iov, uint64_t cnt)
{
    if (cnt > UIO_MAXIOV)
        return -EMSGSIZE;
    in->iov = in->local;
    in->iov_bytes = cnt * sizeof(struct vfs_iovec);
    if (cnt > IOV_ON_STACK && !(in->iov = LAYER_ABI->alloc(0, (long)in->iov_bytes)))
        return -ENOMEM;
    if (prog_in(in->iov, iov, in->iov_bytes) < 0)
        return -EFAULT;
    size_t total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        if ((int64_t)in->iov[i].iov_len < 0)
            return -EINVAL;
        if (in->iov[i].iov_len && !prog_range((uint64_t)(uintptr_t)in->iov[i].iov_base, in->iov[i].iov_len))
            return -EFAULT;
        if (in->iov[i].iov_len > MAX_RW - total)
            in->iov[i].iov_len = MAX_RW - total;
        total += in->iov[i].iov_len;
    }
    in->m.iov = in->iov;
    in->m.iovlen = (int)cnt;
    return 0;
}

static void msg_done(struct msg_in *in)
{
    if (in->iov && in->iov != in->local)
        LAYER_ABI->free(in->iov);
    in->iov = 0;
}

/* one buffer, as send, sendto, recv and recvfrom give it */
static long import_one(struct msg_in *in, uint64_t buf, uint64_t len)
{
    in->iov = in->local;
    if (len > MAX_RW)
        len = MAX_RW;
    if (len && !prog_range(buf, len))
        return -EFAULT;
    in->local[0].iov_base = (void *)(uintptr_t)buf;
    in->local[0].iov_len = len;
    in->m.iov = in->local;
    in->m.iovlen = 1;
    return 0;
}

static long send_msg(int fd, struct msg_in *in, uint64_t name, uint32_t namelen, int flags)
{
    if (name && namelen) {
        if (namelen > VFS_SOCKADDR_MAX)
            return -EINVAL;
        if (prog_in(in->name, name, namelen) < 0)
            return -EFAULT;
        in->m.name = in->name;
        in->m.namelen = namelen;
    }
    return vfs_sendmsg(V, fd, &in->m, flags);
}

long layer_sendto(struct layer_call *c)
{
    struct msg_in in = {0};
    long r = import_one(&in, A(1), A(2));
    return r < 0 ? r : send_msg(FD(0), &in, A(4), (uint32_t)A(5), (int)A(3));
}

long layer_recvfrom(struct layer_call *c)
{
    struct msg_in in = {0};
    long r = import_one(&in, A(1), A(2));
    if (r < 0)
        return r;
    in.m.name = in.name;
    r = vfs_recvmsg(V, FD(0), &in.m, (int)A(3));
    if (r >= 0 && A(4)) {
        long e = addr_out(A(4), A(5), in.name, in.m.namelen);
        if (e < 0)
            return e;
    }
    return r;
}

static long one_sendmsg(int fd, uint64_t user_msg, int flags)
{
    struct k_msghdr km;
    if (prog_in(&km, user_msg, sizeof km) < 0)
        return -EFAULT;
    struct msg_in in = {0};
    long r = import_iov(&in, km.iov, km.iovlen);
    void *control = 0;
    if (r == 0 && km.controllen) {
        if (km.controllen > CONTROL_MAX)
            r = -ENOBUFS;
        else if (!(control = LAYER_ABI->alloc(0, (long)km.controllen)))
            r = -ENOMEM;
        else if (prog_in(control, km.control, km.controllen) < 0)
            r = -EFAULT;
        in.m.control = control;
        in.m.controllen = km.controllen;
    }
    if (r == 0)
        r = send_msg(fd, &in, km.name, km.namelen, flags);
    if (control)
        LAYER_ABI->free(control);
    msg_done(&in);
    return r;
}

static long one_recvmsg(int fd, uint64_t user_msg, int flags)
{
    struct k_msghdr km;
    if (prog_in(&km, user_msg, sizeof km) < 0)
        return -EFAULT;
    struct msg_in in = {0};
    long r = import_iov(&in, km.iov, km.iovlen);
    if (r == 0) {
        in.m.name = km.name ? in.name : 0;
        r = vfs_recvmsg(V, fd, &in.m, flags);
    }
    msg_done(&in);
    if (r < 0)
        return r;
    /* the name (as much as msg_namelen said), its length, no control data, the flags */
    uint32_t n = km.namelen < in.m.namelen ? km.namelen : in.m.namelen;
    if (km.name && prog_out(km.name, in.name, n) < 0)
        return -EFAULT;
    km.namelen = km.name ? in.m.namelen : 0;
    km.controllen = 0;
    km.flags = in.m.flags;
    if (prog_out(user_msg + __builtin_offsetof(struct k_msghdr, namelen), &km.namelen, sizeof km.namelen) < 0 ||
        prog_out(user_msg + __builtin_offsetof(struct k_msghdr, controllen), &km.controllen,
                 sizeof km.controllen) < 0 ||
        prog_out(user_msg + __builtin_offsetof(struct k_msghdr, flags), &km.flags, sizeof km.flags) < 0)
        return -EFAULT;
    return r;
}

long layer_sendmsg(struct layer_call *c) { return one_sendmsg(FD(0), A(1), (int)A(2)); }
long layer_recvmsg(struct layer_call *c) { return one_recvmsg(FD(0), A(1), (int)A(2)); }

/* struct mmsghdr: a msghdr and the byte count of its message */
#define MMSG_SIZE 64
#define MMSG_LEN 56
#define MSG_WAITFORONE_ 0x10000
#define MSG_DONTWAIT_ 0x40
#define MMSG_MAX 1024 /* UIO_MAXIOV: vlen is capped there */

/* sendmmsg and recvmmsg: one message after the other until one fails; the count done, or the
 * first one's error.  recvmmsg's timeout is not kept (it is checked only between messages on
 * Linux too); MSG_WAITFORONE makes the messages after the first non-blocking. */
static long multi(struct layer_call *c, int sending)
{
    unsigned vlen = (unsigned)A(2) > MMSG_MAX ? MMSG_MAX : (unsigned)A(2);
    int flags = (int)A(3);
    unsigned done = 0;
    long err = 0;
    for (; done < vlen; done++) {
        uint64_t at = A(1) + (uint64_t)done * MMSG_SIZE;
        int f = !sending && done && (flags & MSG_WAITFORONE_) ? flags | MSG_DONTWAIT_ : flags;
        long r = sending ? one_sendmsg(FD(0), at, f) : one_recvmsg(FD(0), at, f & ~MSG_WAITFORONE_);
        if (r < 0) {
            err = r;
            break;
        }
        uint32_t n = (uint32_t)r;
        if (prog_out(at + MMSG_LEN, &n, sizeof n) < 0) {
            err = -EFAULT;
            break;
        }
    }
    return done ? (long)done : err;
}

long layer_sendmmsg(struct layer_call *c) { return multi(c, 1); }
long layer_recvmmsg(struct layer_call *c)
{
    int64_t ts[2]; /* struct __kernel_timespec: read first, as Linux does (-EFAULT before any message) */
    if (A(4) && prog_in(ts, A(4), sizeof ts) < 0)
        return -EFAULT;
    return multi(c, 0);
}

/* sendfile: the offset (if given) copied in, and the moved offset out */
long layer_sendfile(struct layer_call *c)
{
    int64_t off;
    if (A(2) && prog_in(&off, A(2), sizeof off) < 0)
        return -EFAULT;
    long r = vfs_sendfile(V, FD(0), FD(1), A(2) ? &off : 0, A(3));
    if (A(2) && r >= 0 && prog_out(A(2), &off, sizeof off) < 0)
        return -EFAULT;
    return r;
}
