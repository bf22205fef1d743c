/* The boot block: trusted code that runs once inside the new picoprocess.
 *
 * It reads the BOOT message from the Monitor on the channel, then, in order:
 * parent-death signal (re-checked with getppid), resource limits, capabilities
 * dropped, not dumpable, no_new_privs, the SIGSYS handler on its own stack,
 * the image (if the Monitor handed one) mapped private and read-only, every fd
 * but the channel and the image closed, and finally the seccomp filter the
 * Monitor built.  Only then does it pass control to the (untrusted) PAL.  In
 * trace mode it installs the kernel-counting filter first and hands its
 * listener to the Monitor (notify.c).
 *
 * Failures before stderr is closed print one line; every failure exits with
 * XAX_EXIT_BOOT_FAILED so the Monitor can tell a boot failure from the program. */
#include <asm/signal.h>
#include <asm/stat.h>
#include <linux/capability.h>
#include <linux/fcntl.h>
#include <linux/filter.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/stat.h>

#include "../lib/sys.h"
#include "boot.h"
#include "xax_protocol.h"
#include "xax_runtime.h"
#include "../pal/rewrite_frame.h"

#define SIGALTSTACK_SIZE (256 * 1024)
_Static_assert(SIGALTSTACK_SIZE == PAL_RUNTIME_STACK_DEPTH, "pal/rewrite_frame.h: the runtime's depth");

void xax_self_relocate(void);

static int stderr_open = 1;

static __attribute__((noreturn)) void fail(const char *why, long err)
{
    if (stderr_open) {
        static const char prefix[] = "xax-boot: ";
        sys3(__NR_write, 2, (long)prefix, sizeof prefix - 1);
        sys3(__NR_write, 2, (long)why, strlen(why));
        if (err < 0) {
            char num[24];
            int i = sizeof num;
            unsigned long e = (unsigned long)-err;
            num[--i] = '\n';
            do
                num[--i] = '0' + e % 10;
            while ((e /= 10) && i > 8);
            sys3(__NR_write, 2, (long)" (errno ", 8);
            sys3(__NR_write, 2, (long)&num[i], sizeof num - i - 1);
            sys3(__NR_write, 2, (long)")\n", 2);
        } else {
            sys3(__NR_write, 2, (long)"\n", 1);
        }
    }
    sys_exit_group(XAX_EXIT_BOOT_FAILED);
}

static void *boot_mmap(size_t len)
{
    long p = sys6(__NR_mmap, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sys_failed(p))
        fail("cannot allocate boot memory", p);
    return (void *)p;
}

static int parse_fd(const char *s)
{
    int v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* Split `count` NUL-terminated strings out of [p, end); NULL if malformed. */
static const char **split_strings(const char *p, const char *end, uint32_t count)
{
    const char **list = boot_mmap((count + 1) * sizeof(char *));
    for (uint32_t i = 0; i < count; i++) {
        const char *s = p;
        while (p < end && *p)
            p++;
        if (p >= end)
            return 0;
        list[i] = s;
        p++;
    }
    list[count] = 0;
    return list;
}

static void set_limit(unsigned resource, uint64_t soft, uint64_t hard)
{
    struct rlimit64 {
        uint64_t cur, max;
    } lim = {soft, hard};
    long r = sys4(__NR_prlimit64, 0, resource, (long)&lim, 0);
    if (r < 0)
        fail("cannot set a resource limit", r);
}

static void drop_capabilities(void)
{
    /* Bounding set first (needs CAP_SETPCAP, which we may still have), then
     * ambient, then the permitted/effective/inheritable sets. */
    for (long cap = 0; cap < 64; cap++)
        sys2(__NR_prctl, PR_CAPBSET_DROP, cap);
    sys4(__NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    long r = sys2(__NR_capset, (long)&hdr, (long)data);
    if (r < 0)
        fail("cannot drop capabilities", r);
}

/* The unprivileged uid a picoprocess started by root runs as: the kernel
 * never applies RLIMIT_NPROC to uid 0 (its user_struct is INIT_USER), in any
 * user namespace. */
#define XAX_UNPRIVILEGED_ID 65534 /* "nobody" */

/* Make RLIMIT_NPROC count this picoprocess's threads and nothing else: the
 * kernel counts processes per (user namespace, uid), so a fresh user namespace
 * starts the count at this one thread.  Nothing is mapped into it and every
 * capability it grants is dropped below with the rest; unshare itself is not
 * on the allowlist, so the program cannot make another. */
static void count_threads_apart(void)
{
    if (sys0(__NR_getuid) == 0 || sys0(__NR_geteuid) == 0 || sys0(__NR_getgid) == 0 || sys0(__NR_getegid) == 0) {
        long r = sys2(__NR_setgroups, 0, 0);
        if (r == 0)
            r = sys3(__NR_setresgid, XAX_UNPRIVILEGED_ID, XAX_UNPRIVILEGED_ID, XAX_UNPRIVILEGED_ID);
        if (r == 0)
            r = sys3(__NR_setresuid, XAX_UNPRIVILEGED_ID, XAX_UNPRIVILEGED_ID, XAX_UNPRIVILEGED_ID);
        if (r < 0)
            fail("cannot leave uid 0 (threads are counted per unprivileged user)", r);
    }
    long r = sys1(__NR_unshare, CLONE_NEWUSER);
    if (r < 0)
        fail("cannot create a user namespace to count the program's threads in (the kernel forbids unprivileged "
             "user namespaces?); run with --threads 1",
             r);
}

/* The family's arena (docs/processes.md): when processes are enabled, the memory the layer's
 * file system lives in, shared by every process forked from this one and by nothing else (an
 * anonymous shared mapping has no name: only inheritance reaches it).  Mapped here because
 * the filter allows no shared mapping after the seal.  A quarter of the address-space limit,
 * at most 1 GiB: the RAM disks, every node and description; pages are taken as touched. */
#define FAMILY_ARENA_MAX (1ULL << 30)
static void map_family_arena(struct xax_boot_info *info, uint64_t limit_as)
{
    int on = 0;
    for (const char **s = info->pal; *s; s++)
        if (!strcmp(*s, "processes=1"))
            on = 1;
    if (!on)
        return;
    uint64_t size = limit_as ? limit_as / 4 : FAMILY_ARENA_MAX;
    if (size > FAMILY_ARENA_MAX)
        size = FAMILY_ARENA_MAX;
    size &= ~(uint64_t)0xfff;
    long p = sys6(__NR_mmap, (long)XAX_FAMILY_ARENA_HINT, (long)size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p < 0 && p > -4096)
        fail("cannot map the family's shared memory", p);
    info->arena = (void *)p;
    info->arena_size = size;
}

/* The channel and the image lie above every fd number the program can have
 * (protocol.py: its own fds are the layer's, 0..1023), so that each of its numbers
 * is its own; the soft RLIMIT_NOFILE must reach past them (the hard one allows it
 * on every Linux this runs on: 4096 at least). */
#define FD_ROOM (XAX_IMAGE_FD + 3) /* both, and a fresh number for each move */
_Static_assert(XAX_CHANNEL_FD >= 1024 && XAX_IMAGE_FD >= 1024, "the program's fds are 0..1023");

static void make_room_for_fds(void)
{
    struct rlimit64 {
        uint64_t cur, max;
    } lim;
    long r = sys4(__NR_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&lim);
    if (r < 0)
        fail("cannot read RLIMIT_NOFILE", r);
    if (lim.cur >= FD_ROOM)
        return;
    if (lim.max < FD_ROOM)
        fail("RLIMIT_NOFILE's hard limit is below 1028: raise it (ulimit -Hn)", 0);
    lim.cur = FD_ROOM;
    r = sys4(__NR_prlimit64, 0, RLIMIT_NOFILE, (long)&lim, 0);
    if (r < 0)
        fail("cannot raise RLIMIT_NOFILE", r);
}

/* The Monitor's fds (any numbers) become the channel, XAX_CHANNEL_FD, and the image,
 * XAX_IMAGE_FD (image < 0: none).  Each goes through a fresh number first, so
 * that neither move can overwrite the other whatever numbers they came with. */
static void place_fds(int chan, int image)
{
    make_room_for_fds();
    long c = sys3(__NR_fcntl, chan, F_DUPFD, XAX_IMAGE_FD + 1), i = -1;
    if (c < 0)
        fail("cannot move the channel", c);
    if (image >= 0 && (i = sys3(__NR_fcntl, image, F_DUPFD, XAX_IMAGE_FD + 1)) < 0)
        fail("cannot move the image fd", i);
    sys1(__NR_close, chan);
    if (image >= 0)
        sys1(__NR_close, image);
    long r = sys3(__NR_dup3, c, XAX_CHANNEL_FD, 0);
    if (r < 0)
        fail("cannot move the channel to its fd", r);
    sys1(__NR_close, c);
    if (i >= 0 && i != XAX_IMAGE_FD) {
        r = sys3(__NR_dup3, i, XAX_IMAGE_FD, 0);
        if (r < 0)
            fail("cannot move the image to its fd", r);
        sys1(__NR_close, i);
    }
}

/* The whole image, private and read-only: the PAL and the layer read the tar
 * here without copying it, and map its members from the fd itself. */
static void map_image(struct xax_boot_info *info)
{
    struct stat st;
    long r = sys2(__NR_fstat, XAX_IMAGE_FD, (long)&st);
    if (r < 0)
        fail("cannot stat the image", r);
    if (!S_ISREG(st.st_mode) || st.st_size <= 0)
        fail("the image is not a non-empty regular file", 0);
    long m = sys6(__NR_mmap, 0, st.st_size, PROT_READ, MAP_PRIVATE, XAX_IMAGE_FD, 0);
    if (sys_failed(m))
        fail("cannot map the image (over the memory limit?)", m);
    info->image = (const void *)m;
    info->image_size = (uint64_t)st.st_size;
}

struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

__attribute__((noreturn, used)) void boot_main(uintptr_t *sp)
{
    xax_self_relocate();

    long argc = (long)sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    while (*envp)
        envp++;
    const uint64_t *auxv = (const uint64_t *)(envp + 1);

    if (argc != 2 && argc != 3)
        fail("usage: xax-boot CHANNEL_FD [IMAGE_FD] (started by the xax-emu Monitor, not by hand)", 0);
    int fd = parse_fd(argv[1]);
    if (fd < 0)
        fail("the channel fd is not a number", 0);
    int image_fd = argc == 3 ? parse_fd(argv[2]) : -1;
    if (argc == 3 && (image_fd < 0 || image_fd == fd))
        fail("the image fd is not a number, or is the channel", 0);
    place_fds(fd, image_fd);

    /* The BOOT message: from the trusted Monitor, but parsed with care anyway. */
    size_t cap = XAX_HEADER_SIZE + XAX_MAX_BOOT + 1;
    unsigned char *msg = boot_mmap(cap);
    long n = sys3(__NR_read, XAX_CHANNEL_FD, (long)msg, cap);
    if (n < 0)
        fail("cannot read the boot message", n);
    struct xax_msg_hdr hdr;
    struct xax_boot_fixed fixed;
    if ((size_t)n < sizeof hdr + sizeof fixed || (size_t)n > cap - 1)
        fail("boot message has a bad size", 0);
    memcpy(&hdr, msg, sizeof hdr);
    memcpy(&fixed, msg + sizeof hdr, sizeof fixed);
    if (hdr.magic != XAX_MAGIC || hdr.version != XAX_VERSION || hdr.type != XAX_MSG_BOOT ||
        hdr.len != (uint64_t)n - sizeof hdr)
        fail("boot message has a bad header (Monitor and runtime versions differ?)", 0);
    uint64_t want = sizeof fixed + ((uint64_t)fixed.nbpf + fixed.nnotify) * 8 + fixed.strings_len;
    int count_kernel = (fixed.flags & XAX_BOOT_FLAG_COUNT_KERNEL) != 0;
    if (want != hdr.len || fixed.nbpf == 0 || fixed.nbpf > BPF_MAXINSNS || fixed.nargs < 1 ||
        fixed.nargs > 65536 || fixed.nenv > 65536 || fixed.npal > 64 || fixed.nnotify > BPF_MAXINSNS ||
        count_kernel != (fixed.nnotify != 0) || fixed.reserved != 0)
        fail("boot message has inconsistent sizes", 0);
    struct sock_filter *bpf = boot_mmap(fixed.nbpf * sizeof(struct sock_filter));
    memcpy(bpf, msg + sizeof hdr + sizeof fixed, fixed.nbpf * 8);
    struct sock_filter *notify_bpf = 0;
    if (count_kernel) {
        notify_bpf = boot_mmap(fixed.nnotify * sizeof(struct sock_filter));
        memcpy(notify_bpf, msg + sizeof hdr + sizeof fixed + fixed.nbpf * 8, fixed.nnotify * 8);
    }
    const char *strings = (const char *)msg + sizeof hdr + sizeof fixed + (fixed.nbpf + fixed.nnotify) * 8;
    const char *strings_end = strings + fixed.strings_len;

    static struct xax_boot_info info;
    info.flags = fixed.flags;
    info.nargs = fixed.nargs;
    info.args = split_strings(strings, strings_end, fixed.nargs);
    if (!info.args)
        fail("boot message arguments are malformed", 0);
    const char *env_start = info.args[fixed.nargs - 1] + strlen(info.args[fixed.nargs - 1]) + 1;
    info.nenv = fixed.nenv;
    info.env = split_strings(env_start, strings_end, fixed.nenv);
    if (!info.env)
        fail("boot message environment is malformed", 0);
    const char *pal_start_at = fixed.nenv ? info.env[fixed.nenv - 1] + strlen(info.env[fixed.nenv - 1]) + 1 : env_start;
    info.npal = fixed.npal;
    info.pal = split_strings(pal_start_at, strings_end, fixed.npal);
    if (!info.pal)
        fail("boot message PAL settings are malformed", 0);
    memcpy(info.random, fixed.random, sizeof info.random);
    info.host_auxv = auxv;
    info.host_pid = (uint32_t)sys0(__NR_getpid); /* the only pid the filter lets it signal */
    map_family_arena(&info, fixed.limit_as);

    /* Before the parent-death signal: a change of uid clears it. */
    if (fixed.limit_threads > 1)
        count_threads_apart();

    /* The Monitor's death ends the picoprocess; re-check in case it died
     * before the signal was armed (we would have been re-parented). */
    long r = sys2(__NR_prctl, PR_SET_PDEATHSIG, SIGKILL);
    if (r < 0)
        fail("cannot set the parent-death signal", r);
    if ((uint64_t)sys0(__NR_getppid) != fixed.monitor_pid)
        sys_exit_group(XAX_EXIT_BOOT_FAILED);

    set_limit(RLIMIT_CORE, 0, 0);
    set_limit(RLIMIT_FSIZE, 0, 0);
    set_limit(RLIMIT_MEMLOCK, 0, 0);
    set_limit(RLIMIT_MSGQUEUE, 0, 0);
    /* Threads (clone with thread flags, allowed by the filter only when
     * limit_threads > 1) count against RLIMIT_NPROC in this picoprocess's own
     * user namespace: the limit is the whole picoprocess's thread count. */
    set_limit(RLIMIT_NPROC, fixed.limit_threads > 1 ? fixed.limit_threads : 0,
              fixed.limit_threads > 1 ? fixed.limit_threads : 0);
    set_limit(RLIMIT_LOCKS, 0, 0);
    if (fixed.limit_as)
        set_limit(RLIMIT_AS, fixed.limit_as, fixed.limit_as);
    if (fixed.limit_cpu) /* SIGXCPU at the soft limit, SIGKILL one second later */
        set_limit(RLIMIT_CPU, fixed.limit_cpu, fixed.limit_cpu + 1);

    if (image_fd >= 0) /* after RLIMIT_AS: the image counts against it */
        map_image(&info);

    drop_capabilities();
    r = sys2(__NR_prctl, PR_SET_DUMPABLE, 0);
    if (r < 0)
        fail("cannot make the process non-dumpable", r);
    r = sys6(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0);
    if (r < 0)
        fail("cannot set no_new_privs", r);

    /* The SIGSYS handler runs on its own stack with every signal blocked but
     * SIGSEGV and SIGBUS: a bad address the program hands to a system call faults
     * in the PAL's copy routines, and the PAL's fault handler must be able to run
     * there to turn it into -EFAULT (pal/fault.c; blocked, the kernel would kill). */
    stack_t ss = {.ss_sp = boot_mmap(SIGALTSTACK_SIZE), .ss_flags = 0, .ss_size = SIGALTSTACK_SIZE};
    r = sys2(__NR_sigaltstack, (long)&ss, 0);
    if (r < 0)
        fail("cannot install the signal stack", r);
    struct kernel_sigaction sa = {
        .handler = (void *)xax_sigsys_entry,
        .flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
        .restorer = xax_sigreturn_restorer,
        .mask = ~0ULL & ~(1ULL << (SIGSEGV - 1)) & ~(1ULL << (SIGBUS - 1)),
    };
    r = sys4(__NR_rt_sigaction, SIGSYS, (long)&sa, 0, 8);
    if (r < 0)
        fail("cannot install the SIGSYS handler", r);
    uint64_t empty = 0;
    r = sys4(__NR_rt_sigprocmask, SIG_SETMASK, (long)&empty, 0, 8);
    if (r < 0)
        fail("cannot unblock signals", r);

    /* Trace mode: the kernel-counting filter, before the seal; its listener goes to
     * the Monitor, which answers every allowlisted call from here on. */
    if (count_kernel) {
        long err = 0;
        const char *why = boot_hand_over_listener(notify_bpf, fixed.nnotify, &err);
        if (why)
            fail(why, err);
    }

    /* Nothing but the channel and the image stays open. */
    _Static_assert(XAX_IMAGE_FD == XAX_CHANNEL_FD + 1, "nothing lies between them to close");
    r = sys3(__NR_close_range, XAX_IMAGE_FD + (image_fd >= 0), ~0U, 0);
    if (r < 0)
        fail("cannot close inherited fds", r);
    r = sys3(__NR_close_range, 0, XAX_CHANNEL_FD - 1, 0);
    stderr_open = 0;
    if (r < 0)
        sys_exit_group(XAX_EXIT_BOOT_FAILED);

    struct sock_fprog prog = {.len = (unsigned short)fixed.nbpf, .filter = bpf};
    r = sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&prog);
    if (r < 0)
        sys_exit_group(XAX_EXIT_SEAL_FAILED);

    /* Sealed.  From here on nothing in this process is trusted. */
    pal_start(&info);
}
