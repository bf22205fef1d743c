/* Bad pointers to every emulated system call that takes one: each pointer
 * argument gets an address that cannot be read or written and a kernel address, and each one the call
 * writes through also a read-only page.  Linux answers -EFAULT (or, where it
 * never touches the memory, what it would answer anyway); the picoprocess must
 * answer the same and never die.  Every other argument is valid, so that the bad
 * pointer is the only thing wrong.  Also: a path running into such a page,
 * a path without a NUL in PATH_MAX bytes, and that a failed call changed
 * nothing (the pipe keeps its bytes, the file stays empty, no fd is left over).
 *
 * Each line is "<call>[_<which argument>] <kind of bad pointer> = <answer>".
 * The last argument: a directory to write in (the picoprocess has a RAM disk
 * there).  Raw system calls throughout: libc wrappers would check some pointers
 * themselves or answer from the vDSO. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/random.h>
#include <linux/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include "hostile.h" /* raw6: a raw system call */

#define SC(n, a, b, c, d, e, f) raw6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

static const char *kind;
static void say(const char *call, long r)
{
    printf("%s %s = %ld\n", call, kind, r);
}

static int zero, null, urandom, loadavg, devdir, pipe_r, pipe_w, file, sock;
static int listener, dgram_a, dgram_b, stream_pair[2], ep;
static struct sockaddr_un listen_name, a_name, b_name;
static char path[4096];

/* An abstract AF_UNIX name (the same inside the picoprocess and natively). */
static socklen_t abstract(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "xax-efault-%s-%ld", name,
                     SC(SYS_getpid, 0, 0, 0, 0, 0, 0));
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

/* A connection waiting on the listener: the client's fd (closed after the accept). */
static int pending(void)
{
    int c = SC(SYS_socket, AF_UNIX, SOCK_STREAM, 0, 0, 0, 0);
    SC(SYS_connect, c, &listen_name, abstract(&listen_name, "listen"), 0, 0, 0);
    return c;
}

/* A datagram waiting for dgram_b, from the named dgram_a. */
static void queue_datagram(void)
{
    SC(SYS_sendto, dgram_a, "ping", 4, 0, &b_name, abstract(&b_name, "b"));
}

/* Whatever the last call left queued goes, so that each line starts alike whether the
 * failed call took its datagram or not (Linux and the layer may differ there, never in
 * the answer). */
static void drain(void)
{
    char junk[64];
    while (SC(SYS_recvfrom, dgram_b, junk, sizeof junk, MSG_DONTWAIT, 0, 0) > 0)
        ;
    while (SC(SYS_recvfrom, stream_pair[1], junk, sizeof junk, MSG_DONTWAIT, 0, 0) > 0)
        ;
}

/* Pointers the calls read from: the kernel must fault on every one. */
static void read_from(const char *bad)
{
    long iov_bad[2] = {(long)bad, 4};
    say("write", SC(SYS_write, pipe_w, bad, 4, 0, 0, 0));
    say("pwrite64", SC(SYS_pwrite64, file, bad, 4, 0, 0, 0));
    say("pwrite64_null", SC(SYS_pwrite64, null, bad, 4, 0, 0, 0)); /* never touched: 4 */
    say("readv_iov", SC(SYS_readv, zero, bad, 1, 0, 0, 0));
    say("writev_iov", SC(SYS_writev, pipe_w, bad, 1, 0, 0, 0));
    say("writev_base", SC(SYS_writev, pipe_w, iov_bad, 1, 0, 0, 0));
    say("open", SC(SYS_open, bad, O_RDONLY, 0, 0, 0, 0));
    say("openat", SC(SYS_openat, AT_FDCWD, bad, O_RDONLY, 0, 0, 0));
    say("creat", SC(SYS_creat, bad, 0600, 0, 0, 0, 0));
    struct stat st;
    say("stat_path", SC(SYS_stat, bad, &st, 0, 0, 0, 0));
    say("lstat_path", SC(SYS_lstat, bad, &st, 0, 0, 0, 0));
    say("newfstatat_path", SC(SYS_newfstatat, AT_FDCWD, bad, &st, 0, 0, 0));
    struct statx stx;
    say("statx_path", SC(SYS_statx, AT_FDCWD, bad, 0, STATX_BASIC_STATS, &stx, 0));
    char buf[64];
    say("readlink_path", SC(SYS_readlink, bad, buf, sizeof buf, 0, 0, 0));
    say("readlinkat_path", SC(SYS_readlinkat, AT_FDCWD, bad, buf, sizeof buf, 0, 0));
    say("access", SC(SYS_access, bad, F_OK, 0, 0, 0, 0));
    say("faccessat", SC(SYS_faccessat, AT_FDCWD, bad, F_OK, 0, 0, 0));
    say("faccessat2", SC(SYS_faccessat2, AT_FDCWD, bad, F_OK, 0, 0, 0));
    say("mkdir", SC(SYS_mkdir, bad, 0700, 0, 0, 0, 0));
    say("mkdirat", SC(SYS_mkdirat, AT_FDCWD, bad, 0700, 0, 0, 0));
    say("chmod", SC(SYS_chmod, bad, 0700, 0, 0, 0, 0));
    say("fchmodat", SC(SYS_fchmodat, AT_FDCWD, bad, 0700, 0, 0, 0));
    say("rmdir", SC(SYS_rmdir, bad, 0, 0, 0, 0, 0));
    say("unlink", SC(SYS_unlink, bad, 0, 0, 0, 0, 0));
    say("unlinkat", SC(SYS_unlinkat, AT_FDCWD, bad, 0, 0, 0, 0));
    say("rename_old", SC(SYS_rename, bad, path, 0, 0, 0, 0));
    say("rename_new", SC(SYS_rename, path, bad, 0, 0, 0, 0));
    say("renameat_old", SC(SYS_renameat, AT_FDCWD, bad, AT_FDCWD, path, 0, 0));
    say("renameat_new", SC(SYS_renameat, AT_FDCWD, path, AT_FDCWD, bad, 0, 0));
    say("renameat2_old", SC(SYS_renameat2, AT_FDCWD, bad, AT_FDCWD, path, 0, 0));
    say("renameat2_new", SC(SYS_renameat2, AT_FDCWD, path, AT_FDCWD, bad, 0, 0));
    say("chdir", SC(SYS_chdir, bad, 0, 0, 0, 0, 0));
    say("fcntl_setlk", SC(SYS_fcntl, file, F_SETLK, bad, 0, 0, 0));
    say("connect", SC(SYS_connect, sock, bad, 20, 0, 0, 0));
    say("setsockopt", SC(SYS_setsockopt, sock, SOL_SOCKET, SO_REUSEADDR, bad, 4, 0));
    int val;
    say("getsockopt_len", SC(SYS_getsockopt, sock, SOL_SOCKET, SO_TYPE, &val, bad, 0));
    say("rt_sigprocmask_set", SC(SYS_rt_sigprocmask, SIG_BLOCK, bad, 0, 8, 0, 0));
    say("rt_sigaction_act", SC(SYS_rt_sigaction, SIGUSR1, bad, 0, 8, 0, 0));
    say("sigaltstack_ss", SC(SYS_sigaltstack, bad, 0, 0, 0, 0, 0));
    say("prlimit64_new", SC(SYS_prlimit64, 0, RLIMIT_NOFILE, bad, 0, 0, 0));
    say("setrlimit", SC(SYS_setrlimit, RLIMIT_NOFILE, bad, 0, 0, 0, 0));
    say("nanosleep", SC(SYS_nanosleep, bad, 0, 0, 0, 0, 0));
    say("clock_nanosleep", SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, bad, 0, 0, 0));
    say("prctl_set_name", SC(SYS_prctl, PR_SET_NAME, bad, 0, 0, 0, 0));

    /* sockets: what they read */
    struct sockaddr_un scratch;
    socklen_t slen = abstract(&scratch, "nobody");
    say("bind", SC(SYS_bind, sock, bad, sizeof(struct sockaddr_un), 0, 0, 0));
    say("sendto_buf", SC(SYS_sendto, dgram_a, bad, 4, 0, &b_name, abstract(&b_name, "b")));
    drain();
    say("sendto_addr", SC(SYS_sendto, dgram_a, "ping", 4, 0, bad, slen));
    drain();
    say("sendto_stream_buf", SC(SYS_sendto, stream_pair[0], bad, 4, 0, 0, 0));
    drain();
    say("sendmsg", SC(SYS_sendmsg, stream_pair[0], bad, 0, 0, 0, 0));
    struct msghdr mh = {.msg_iov = (struct iovec *)iov_bad, .msg_iovlen = 1};
    say("sendmsg_iov_base", SC(SYS_sendmsg, stream_pair[0], &mh, 0, 0, 0, 0));
    drain();
    say("sendmmsg", SC(SYS_sendmmsg, stream_pair[0], bad, 1, 0, 0, 0));
    drain();
    queue_datagram();
    say("recvmsg", SC(SYS_recvmsg, dgram_b, bad, MSG_DONTWAIT, 0, 0, 0));
    drain();
    queue_datagram();
    say("recvmmsg_msg", SC(SYS_recvmmsg, dgram_b, bad, 1, MSG_DONTWAIT, 0, 0));
    drain();
    char rbuf[16];
    struct iovec riov = {rbuf, sizeof rbuf};
    struct mmsghdr mm = {.msg_hdr = {.msg_iov = &riov, .msg_iovlen = 1}};
    queue_datagram();
    say("recvmmsg_timeout", SC(SYS_recvmmsg, dgram_b, &mm, 1, MSG_DONTWAIT, bad, 0));
    drain();
    off_t off = 0;
    (void)off;
    say("sendfile_offset", SC(SYS_sendfile, null, file, bad, 4, 0, 0));

    /* waiting: what poll, select and epoll read */
    struct timespec ts0 = {0, 0};
    struct timeval tv0 = {0, 0};
    struct pollfd pfd = {pipe_r, POLLIN, 0};
    uint64_t mask = 0;
    say("ppoll_tsp", SC(SYS_ppoll, &pfd, 1, bad, 0, 8, 0));
    say("ppoll_sigmask", SC(SYS_ppoll, &pfd, 1, &ts0, bad, 8, 0));
    unsigned long set[16] = {0};
    set[0] = 1UL << pipe_r;
    int nfds = pipe_r + 1;
    say("select_inp", SC(SYS_select, nfds, bad, 0, 0, &tv0, 0));
    say("select_outp", SC(SYS_select, nfds, 0, bad, 0, &tv0, 0));
    say("select_exp", SC(SYS_select, nfds, 0, 0, bad, &tv0, 0));
    say("select_tvp", SC(SYS_select, nfds, set, 0, 0, bad, 0));
    set[0] = 1UL << pipe_r;
    struct { const uint64_t *ss; size_t len; } sig = {&mask, 8};
    say("pselect6_inp", SC(SYS_pselect6, nfds, bad, 0, 0, &ts0, &sig));
    say("pselect6_outp", SC(SYS_pselect6, nfds, 0, bad, 0, &ts0, &sig));
    say("pselect6_exp", SC(SYS_pselect6, nfds, 0, 0, bad, &ts0, &sig));
    say("pselect6_tsp", SC(SYS_pselect6, nfds, set, 0, 0, bad, &sig));
    set[0] = 1UL << pipe_r;
    say("pselect6_sig", SC(SYS_pselect6, nfds, set, 0, 0, &ts0, bad));
    struct epoll_event ev = {.events = EPOLLIN};
    say("epoll_ctl", SC(SYS_epoll_ctl, ep, EPOLL_CTL_MOD, pipe_w, bad, 0, 0));
    (void)ev;
    struct epoll_event got[4];
    say("epoll_pwait_sigmask", SC(SYS_epoll_pwait, ep, got, 4, 0, bad, 8));
    say("epoll_pwait2_timeout", SC(SYS_epoll_pwait2, ep, got, 4, bad, 0, 8));
    say("epoll_pwait2_sigmask", SC(SYS_epoll_pwait2, ep, got, 4, &ts0, bad, 8));
}

/* Pointers the calls write through (read-only memory included). */
static void write_to(char *bad)
{
    long iov_bad[2] = {(long)bad, 16};
    say("read", SC(SYS_read, zero, bad, 16, 0, 0, 0));
    say("read_pipe", SC(SYS_read, pipe_r, bad, 4, 0, 0, 0));
    say("read_urandom", SC(SYS_read, urandom, bad, 16, 0, 0, 0));
    say("pread64", SC(SYS_pread64, loadavg, bad, 8, 0, 0, 0));
    say("readv_base", SC(SYS_readv, zero, iov_bad, 1, 0, 0, 0));
    say("stat_buf", SC(SYS_stat, "/dev/null", bad, 0, 0, 0, 0));
    say("lstat_buf", SC(SYS_lstat, "/dev/null", bad, 0, 0, 0, 0));
    say("fstat_buf", SC(SYS_fstat, zero, bad, 0, 0, 0, 0));
    say("newfstatat_buf", SC(SYS_newfstatat, AT_FDCWD, "/dev/null", bad, 0, 0, 0));
    say("statx_buf", SC(SYS_statx, AT_FDCWD, "/dev/null", 0, STATX_BASIC_STATS, bad, 0));
    say("getdents64", SC(SYS_getdents64, devdir, bad, 4096, 0, 0, 0));
    say("readlink_buf", SC(SYS_readlink, "/dev/stdin", bad, 64, 0, 0, 0));
    say("readlinkat_buf", SC(SYS_readlinkat, AT_FDCWD, "/dev/stdin", bad, 64, 0, 0));
    say("getcwd", SC(SYS_getcwd, bad, 4096, 0, 0, 0, 0));
    long lowest_free = SC(SYS_dup, 0, 0, 0, 0, 0, 0);
    SC(SYS_close, lowest_free, 0, 0, 0, 0, 0);
    say("pipe", SC(SYS_pipe, bad, 0, 0, 0, 0, 0));
    say("pipe2", SC(SYS_pipe2, bad, 0, 0, 0, 0, 0));
    long after = SC(SYS_dup, 0, 0, 0, 0, 0, 0);
    SC(SYS_close, after, 0, 0, 0, 0, 0);
    say("pipe_left_fds", after - lowest_free); /* a failed pipe leaves none behind: 0 */
    say("fcntl_getlk", SC(SYS_fcntl, file, F_GETLK, bad, 0, 0, 0));
    say("ioctl_entcnt", SC(SYS_ioctl, urandom, RNDGETENTCNT, bad, 0, 0, 0));
    int len = 4;
    say("getsockopt_val", SC(SYS_getsockopt, sock, SOL_SOCKET, SO_TYPE, bad, &len, 0));
    say("uname", SC(SYS_uname, bad, 0, 0, 0, 0, 0));
    say("sysinfo", SC(SYS_sysinfo, bad, 0, 0, 0, 0, 0));
    unsigned id;
    say("getresuid_real", SC(SYS_getresuid, bad, &id, &id, 0, 0, 0));
    say("getresuid_effective", SC(SYS_getresuid, &id, bad, &id, 0, 0, 0));
    say("getresuid_saved", SC(SYS_getresuid, &id, &id, bad, 0, 0, 0));
    say("getresgid_real", SC(SYS_getresgid, bad, &id, &id, 0, 0, 0));
    say("getresgid_effective", SC(SYS_getresgid, &id, bad, &id, 0, 0, 0));
    say("getresgid_saved", SC(SYS_getresgid, &id, &id, bad, 0, 0, 0));
    say("rt_sigprocmask_old", SC(SYS_rt_sigprocmask, SIG_BLOCK, 0, bad, 8, 0, 0));
    say("rt_sigaction_old", SC(SYS_rt_sigaction, SIGUSR1, 0, bad, 8, 0, 0));
    say("sigaltstack_old", SC(SYS_sigaltstack, 0, bad, 0, 0, 0, 0));
    say("prlimit64_old", SC(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, bad, 0, 0));
    say("getrlimit", SC(SYS_getrlimit, RLIMIT_NOFILE, bad, 0, 0, 0, 0));
    say("gettimeofday_tv", SC(SYS_gettimeofday, bad, 0, 0, 0, 0, 0));
    say("gettimeofday_tz", SC(SYS_gettimeofday, 0, bad, 0, 0, 0, 0));
    say("time", SC(SYS_time, bad, 0, 0, 0, 0, 0));
    say("clock_getres", SC(SYS_clock_getres, CLOCK_MONOTONIC, bad, 0, 0, 0, 0));
    say("prctl_get_name", SC(SYS_prctl, PR_GET_NAME, bad, 0, 0, 0, 0));
    say("getrandom", SC(SYS_getrandom, bad, 16, 0, 0, 0, 0));

    /* sockets: what they write */
    struct sockaddr_un addr;
    socklen_t alen = sizeof addr;
    int c = pending();
    say("accept_addr", SC(SYS_accept, listener, bad, &alen, 0, 0, 0));
    SC(SYS_close, c, 0, 0, 0, 0, 0);
    c = pending();
    say("accept_addrlen", SC(SYS_accept, listener, &addr, bad, 0, 0, 0));
    SC(SYS_close, c, 0, 0, 0, 0, 0);
    c = pending();
    alen = sizeof addr;
    say("accept4_addr", SC(SYS_accept4, listener, bad, &alen, SOCK_CLOEXEC, 0, 0));
    SC(SYS_close, c, 0, 0, 0, 0, 0);
    c = pending();
    say("accept4_addrlen", SC(SYS_accept4, listener, &addr, bad, SOCK_CLOEXEC, 0, 0));
    SC(SYS_close, c, 0, 0, 0, 0, 0);
    alen = sizeof addr;
    say("getsockname_addr", SC(SYS_getsockname, listener, bad, &alen, 0, 0, 0));
    say("getsockname_addrlen", SC(SYS_getsockname, listener, &addr, bad, 0, 0, 0));
    alen = sizeof addr;
    say("getpeername_addr", SC(SYS_getpeername, dgram_a, bad, &alen, 0, 0, 0));
    say("getpeername_addrlen", SC(SYS_getpeername, dgram_a, &addr, bad, 0, 0, 0));
    queue_datagram();
    say("recvfrom_buf", SC(SYS_recvfrom, dgram_b, bad, 16, MSG_DONTWAIT, 0, 0));
    drain();
    queue_datagram();
    alen = sizeof addr;
    say("recvfrom_addr", SC(SYS_recvfrom, dgram_b, (char[16]){0}, 16, MSG_DONTWAIT, bad, &alen));
    drain();
    queue_datagram();
    say("recvfrom_addrlen", SC(SYS_recvfrom, dgram_b, (char[16]){0}, 16, MSG_DONTWAIT, &addr, bad));
    drain();
    SC(SYS_write, stream_pair[0], "pong", 4, 0, 0, 0);
    say("recvfrom_stream_buf", SC(SYS_recvfrom, stream_pair[1], bad, 16, MSG_DONTWAIT, 0, 0));
    drain();
    long lowest = SC(SYS_dup, 0, 0, 0, 0, 0, 0);
    SC(SYS_close, lowest, 0, 0, 0, 0, 0);
    say("socketpair", SC(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, bad, 0, 0));
    long next = SC(SYS_dup, 0, 0, 0, 0, 0, 0);
    SC(SYS_close, next, 0, 0, 0, 0, 0);
    say("socketpair_left_fds", next - lowest); /* 0 */

    /* waiting: what poll and epoll write (pipe_w is ready for writing) */
    struct timespec ts0 = {0, 0};
    say("poll", SC(SYS_poll, bad, 1, 0, 0, 0, 0));
    say("ppoll_fds", SC(SYS_ppoll, bad, 1, &ts0, 0, 8, 0));
    say("epoll_wait", SC(SYS_epoll_wait, ep, bad, 4, 0, 0, 0));
    say("epoll_pwait_events", SC(SYS_epoll_pwait, ep, bad, 4, 0, 0, 8));
    say("epoll_pwait2_events", SC(SYS_epoll_pwait2, ep, bad, 4, &ts0, 0, 8));
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *dir = argv[argc - 1];
    char *page = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    /* noaccess: a page that cannot be read or written.  PROT_NONE rather than unmapped: a
     * hole in the address space may be filled by the layer's own allocations during a
     * call (they share the address space), and then read as the program's memory. */
    char *noaccess = page + 2 * 4096, *ro = page + 4096, *kernel = (char *)0xffffffff81000000UL;
    memset(page, 'a', 4096); /* a path of 4096 bytes, no NUL, running into the read-only page */
    char *runs_off = ro + 4096 - 4; /* "aaaa" and then the page that cannot be read */
    memset(runs_off, 'a', 4);
    mprotect(noaccess, 4096, PROT_NONE);
    mprotect(ro, 4096, PROT_READ);
    snprintf(path, sizeof path, "%s/file", dir);

    zero = SC(SYS_open, "/dev/zero", O_RDONLY, 0, 0, 0, 0);
    null = SC(SYS_open, "/dev/null", O_WRONLY, 0, 0, 0, 0);
    urandom = SC(SYS_open, "/dev/urandom", O_RDONLY, 0, 0, 0, 0);
    loadavg = SC(SYS_open, "/proc/loadavg", O_RDONLY, 0, 0, 0, 0);
    devdir = SC(SYS_open, "/dev", O_RDONLY | O_DIRECTORY, 0, 0, 0, 0);
    file = SC(SYS_open, path, O_RDWR | O_CREAT | O_TRUNC, 0600, 0, 0, 0);
    sock = SC(SYS_socket, AF_UNIX, SOCK_STREAM, 0, 0, 0, 0);
    int p[2];
    SC(SYS_pipe, (long)p, 0, 0, 0, 0, 0);
    pipe_r = p[0];
    pipe_w = p[1];
    SC(SYS_write, pipe_w, (long)"abcd", 4, 0, 0, 0);
    listener = SC(SYS_socket, AF_UNIX, SOCK_STREAM, 0, 0, 0, 0);
    long bound = SC(SYS_bind, listener, &listen_name, abstract(&listen_name, "listen"), 0, 0, 0);
    long listening = SC(SYS_listen, listener, 16, 0, 0, 0, 0);
    dgram_a = SC(SYS_socket, AF_UNIX, SOCK_DGRAM, 0, 0, 0, 0);
    dgram_b = SC(SYS_socket, AF_UNIX, SOCK_DGRAM, 0, 0, 0, 0);
    long a_bound = SC(SYS_bind, dgram_a, &a_name, abstract(&a_name, "a"), 0, 0, 0);
    long b_bound = SC(SYS_bind, dgram_b, &b_name, abstract(&b_name, "b"), 0, 0, 0);
    long a_connected = SC(SYS_connect, dgram_a, &b_name, abstract(&b_name, "b"), 0, 0, 0);
    long paired = SC(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, stream_pair, 0, 0);
    ep = SC(SYS_epoll_create1, 0, 0, 0, 0, 0, 0);
    struct epoll_event out = {.events = EPOLLOUT};
    long added = SC(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, pipe_w, &out, 0, 0);
    if (bound || listening || a_bound || b_bound || a_connected || paired || ep < 0 || added) {
        printf("socket setup failed: %ld %ld %ld %ld %ld %ld %d %ld\n", bound, listening, a_bound, b_bound,
               a_connected, paired, ep, added);
        return 1;
    }
    if (zero < 0 || null < 0 || urandom < 0 || loadavg < 0 || devdir < 0 || file < 0 || sock < 0 || pipe_r < 0) {
        printf("setup failed: %d %d %d %d %d %d %d %d\n", zero, null, urandom, loadavg, devdir, file, sock, pipe_r);
        return 1;
    }

    kind = "noaccess";
    read_from(noaccess);
    write_to(noaccess);
    kind = "kernel";
    read_from(kernel);
    write_to(kernel);
    kind = "readonly";
    write_to(ro);

    kind = "edge";
    say("open_runs_into_noaccess", SC(SYS_open, runs_off, O_RDONLY, 0, 0, 0, 0));
    say("open_no_nul", SC(SYS_open, page, O_RDONLY, 0, 0, 0, 0));
    static char many[100];
    static struct iovec iov[100]; /* more than the layer keeps on its stack */
    for (int i = 0; i < 100; i++)
        iov[i] = (struct iovec){many + i, 1};
    say("readv_many", SC(SYS_readv, zero, iov, 100, 0, 0, 0));
    say("readv_too_many", SC(SYS_readv, zero, iov, 1025, 0, 0, 0));
    char got[8];
    say("pipe_kept", SC(SYS_read, pipe_r, got, sizeof got, 0, 0, 0)); /* "abcd", still there */
    struct stat st;
    long r = SC(SYS_fstat, file, &st, 0, 0, 0, 0);
    say("file_size", r < 0 ? r : st.st_size); /* the failed writes wrote nothing */
    SC(SYS_unlink, (long)path, 0, 0, 0, 0, 0);
    fflush(stdout);
    return 0;
}
