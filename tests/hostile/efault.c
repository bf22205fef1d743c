/* Bad pointers to every emulated system call that takes one: each pointer
 * argument gets an unmapped address and a kernel address, and each one the call
 * writes through also a read-only page.  Linux answers -EFAULT (or, where it
 * never touches the memory, what it would answer anyway); the picoprocess must
 * answer the same and never die.  Every other argument is valid, so that the bad
 * pointer is the only thing wrong.  Also: a path running into an unmapped page,
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
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

static long sc6(long n, long a, long b, long c, long d, long e, long f)
{
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}
#define SC(n, a, b, c, d, e, f) sc6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

static const char *kind;
static void say(const char *call, long r)
{
    printf("%s %s = %ld\n", call, kind, r);
}

static int zero, null, urandom, loadavg, devdir, pipe_r, pipe_w, file, sock;
static char path[4096];

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
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *dir = argv[argc - 1];
    char *page = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *unmapped = page + 2 * 4096, *ro = page + 4096, *kernel = (char *)0xffffffff81000000UL;
    memset(page, 'a', 4096); /* a path of 4096 bytes, no NUL, running into the read-only page */
    char *runs_off = ro + 4096 - 4; /* "aaaa" and then the unmapped page */
    memset(runs_off, 'a', 4);
    munmap(unmapped, 4096);
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
    if (zero < 0 || null < 0 || urandom < 0 || loadavg < 0 || devdir < 0 || file < 0 || sock < 0 || pipe_r < 0) {
        printf("setup failed: %d %d %d %d %d %d %d %d\n", zero, null, urandom, loadavg, devdir, file, sock, pipe_r);
        return 1;
    }

    kind = "unmapped";
    read_from(unmapped);
    write_to(unmapped);
    kind = "kernel";
    read_from(kernel);
    write_to(kernel);
    kind = "readonly";
    write_to(ro);

    kind = "edge";
    say("open_runs_into_unmapped", SC(SYS_open, runs_off, O_RDONLY, 0, 0, 0, 0));
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
