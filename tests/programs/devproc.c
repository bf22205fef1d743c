/* What a program sees of /dev and /proc: one "key: value" line per probe, so that
 * a test can compare the picoprocess's answers with the native run's (bytes read,
 * errnos, stat fields) and check the picoprocess-only answers exactly.
 * Run it with an absolute argv[0], stdin and stdout pipes, and no controlling
 * terminal (a new session).  Values that differ between machines (inode numbers,
 * owners, pipe numbers, the real load) are not printed, or printed normalized. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

static void res(const char *key, long r)
{
    if (r < 0)
        printf("%s: -1 %s\n", key, strerrorname_np(errno));
    else
        printf("%s: %ld\n", key, r);
}

static const char *type(mode_t m)
{
    return S_ISCHR(m) ? "chr" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "lnk" : S_ISREG(m) ? "reg" : S_ISFIFO(m) ? "fifo" : "?";
}

/* the fields that are the same on every Linux machine (a directory's size and
 * link count depend on what is in it: not shown) */
static void show_stat(const char *key, int r, const struct stat *st)
{
    if (r < 0) {
        printf("%s: -1 %s\n", key, strerrorname_np(errno));
        return;
    }
    if (S_ISDIR(st->st_mode)) {
        printf("%s: dir %04o blksize %ld\n", key, st->st_mode & 07777, (long)st->st_blksize);
        return;
    }
    printf("%s: %s %04o rdev %u:%u nlink %lu size %ld blksize %ld blocks %ld\n", key, type(st->st_mode),
           st->st_mode & 07777, major(st->st_rdev), minor(st->st_rdev), (unsigned long)st->st_nlink,
           (long)st->st_size, (long)st->st_blksize, (long)st->st_blocks);
}

static void device(const char *name)
{
    char key[128], path[64];
    struct stat st, fst;
    snprintf(path, sizeof path, "/dev/%s", name);
    snprintf(key, sizeof key, "stat %s", path);
    show_stat(key, stat(path, &st), &st);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    snprintf(key, sizeof key, "open %s", path);
    if (fd < 0) {
        res(key, -1);
        return;
    }
    printf("%s: ok\n", key);
    int r = fstat(fd, &fst);
    printf("%s fstat same: %d\n", path, r == 0 && fst.st_rdev == st.st_rdev && fst.st_mode == st.st_mode);
    unsigned char buf[256];
    memset(buf, 0xaa, sizeof buf);
    long n = read(fd, buf, 100);
    int zeros = 1, marks = 1;
    for (long i = 0; i < (n > 0 ? n : 0); i++) {
        zeros &= buf[i] == 0;
        marks &= buf[i] == 0xaa;
    }
    snprintf(key, sizeof key, "%s read 100", path);
    res(key, n);
    if (n > 0)
        printf("%s read zeros %d untouched %d\n", path, zeros, marks);
    snprintf(key, sizeof key, "%s read 0", path);
    res(key, read(fd, buf, 0));
    snprintf(key, sizeof key, "%s lseek cur", path);
    res(key, lseek(fd, 0, SEEK_CUR));
    snprintf(key, sizeof key, "%s lseek set 5", path);
    res(key, lseek(fd, 5, SEEK_SET));
    snprintf(key, sizeof key, "%s lseek end", path);
    res(key, lseek(fd, -3, SEEK_END));
    snprintf(key, sizeof key, "%s lseek bad whence", path);
    res(key, lseek(fd, 0, 99));
    snprintf(key, sizeof key, "%s write 33", path);
    res(key, write(fd, "thirty-three bytes of throwaway!!", 33));
    snprintf(key, sizeof key, "%s pread 8 at 100", path);
    res(key, pread(fd, buf, 8, 100));
    snprintf(key, sizeof key, "%s pwrite 8 at 100", path);
    res(key, pwrite(fd, "12345678", 8, 100));
    snprintf(key, sizeof key, "%s fsync", path);
    res(key, fsync(fd));
    snprintf(key, sizeof key, "%s ftruncate", path);
    res(key, ftruncate(fd, 0));
    struct termios t;
    snprintf(key, sizeof key, "%s ioctl TCGETS", path);
    res(key, ioctl(fd, TCGETS, &t));
    snprintf(key, sizeof key, "%s getdents", path);
    res(key, getdents64(fd, buf, sizeof buf));
    void *m = mmap(0, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
    snprintf(key, sizeof key, "%s mmap private", path);
    if (m == MAP_FAILED) {
        res(key, -1);
    } else {
        int z = 1;
        for (int i = 0; i < 8192; i++)
            z &= ((unsigned char *)m)[i] == 0;
        printf("%s: zeros %d\n", key, z);
        munmap(m, 8192);
    }
    close(fd);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666); /* what Python's open(os.devnull, "w") does */
    snprintf(key, sizeof key, "%s open O_WRONLY|O_CREAT|O_TRUNC", path);
    res(key, fd < 0 ? -1 : 0);
    if (fd >= 0)
        close(fd);
}

static void show_link(const char *path, const char *label)
{
    char key[128], buf[4096];
    struct stat st;
    snprintf(key, sizeof key, "lstat %s", label);
    int r = lstat(path, &st);
    if (r < 0)
        res(key, -1);
    else
        printf("%s: %s %04o\n", key, type(st.st_mode), st.st_mode & 07777);
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    snprintf(key, sizeof key, "readlink %s", label);
    if (n < 0) {
        res(key, -1);
        return;
    }
    buf[n] = 0;
    if (strncmp(buf, "pipe:[", 6) == 0)
        strcpy(buf + 6, "N]"); /* the pipe's inode number differs */
    printf("%s: %s\n", key, buf);
}

/* /proc/self/fd listed, the fds named by what they are (fd numbers may differ:
 * the picoprocess never hands out 3, its channel's number) */
static void list_fds(const int *fds, const char *const *labels, int nfds)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        res("list /proc/self/fd", -1);
        return;
    }
    char names[64][24];
    int n = 0, own = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name), known = 0;
        for (int i = 0; i < nfds; i++)
            if (fd == fds[i]) {
                snprintf(names[n++], 24, "%s", labels[i]);
                known = 1;
            }
        if (!known)
            snprintf(names[n++], 24, "%s", fd == own ? "dir" : fd <= 2 ? e->d_name : "other");
        if (e->d_type != DT_LNK)
            strcat(names[n - 1], "?");
    }
    closedir(d);
    printf("list /proc/self/fd:");
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
}

static void whole(const char *path, char *buf, size_t size)
{
    buf[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size_t got = 0;
    long n;
    while (got < size - 1 && (n = read(fd, buf + got, 7)) > 0) /* small reads: positions must hold */
        got += (size_t)n;
    buf[got] = 0;
    close(fd);
}

static void proc_file(const char *path)
{
    char key[128], buf[4096];
    struct stat st;
    snprintf(key, sizeof key, "stat %s", path);
    show_stat(key, stat(path, &st), &st);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(key, sizeof key, "%s lseek end", path);
    res(key, fd < 0 ? -1 : lseek(fd, 0, SEEK_END));
    snprintf(key, sizeof key, "%s fsync", path);
    res(key, fd < 0 ? -1 : fsync(fd));
    void *m = fd < 0 ? MAP_FAILED : mmap(0, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    snprintf(key, sizeof key, "%s mmap", path);
    res(key, m == MAP_FAILED ? -1 : 0);
    if (fd >= 0)
        close(fd);
    snprintf(key, sizeof key, "%s open O_WRONLY", path);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    res(key, fd < 0 ? -1 : 0);
    if (fd >= 0)
        close(fd);
    whole(path, buf, sizeof buf);
    printf("%s content: ", path); /* picoprocess only: natively the machine's own */
    for (char *p = buf; *p; p++)
        printf(*p == '\n' ? "\\n" : "%c", *p);
    printf("\n");
}

int main(int argc, char **argv)
{
    (void)argc;
    static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (unsigned i = 0; i < sizeof devices / sizeof *devices; i++)
        device(devices[i]);

    unsigned char a[64], b[64];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    long n1 = read(fd, a, sizeof a), n2 = read(fd, b, sizeof b);
    int allzero = 1;
    for (int i = 0; i < 64; i++)
        allzero &= a[i] == 0;
    printf("urandom twice: %ld %ld differ %d all zero %d\n", n1, n2, memcmp(a, b, 64) != 0, allzero);
    static unsigned char big[300000];
    printf("urandom big read: %ld\n", read(fd, big, sizeof big));
    close(fd);

    struct stat st;
    show_stat("stat /dev", stat("/dev", &st), &st);
    show_stat("stat /proc", stat("/proc", &st), &st);
    show_stat("stat /proc/self/fd", stat("/proc/self/fd", &st), &st);
    show_link("/dev/stdin", "/dev/stdin");
    show_link("/dev/stdout", "/dev/stdout");
    show_link("/dev/stderr", "/dev/stderr");
    show_link("/dev/fd", "/dev/fd");
    show_link("/proc/self/fd/0", "/proc/self/fd/0");
    show_link("/proc/self/fd/1", "/proc/self/fd/1");
    show_stat("stat /dev/stdout", stat("/dev/stdout", &st), &st);
    struct stat one;
    fstat(1, &one);
    printf("/dev/stdout is fd 1: %d\n", stat("/dev/stdout", &st) == 0 && st.st_ino == one.st_ino &&
                                          st.st_dev == one.st_dev);
    show_stat("stat /dev/fd/0", stat("/dev/fd/0", &st), &st);

    fflush(stdout);
    fd = open("/dev/stdout", O_WRONLY | O_CLOEXEC);
    res("open /dev/stdout", fd < 0 ? -1 : 0);
    if (fd >= 0) {
        res("write /dev/stdout", write(fd, "written through /dev/stdout\n", 28));
        close(fd);
    }
    res("write fd 1 after closing /dev/stdout", write(1, "still fd 1\n", 11) == 11 ? 0 : -1);
    fd = open("/dev/stdin", O_RDONLY | O_CLOEXEC);
    res("open /dev/stdin", fd < 0 ? -1 : 0);
    if (fd >= 0) {
        char in[64] = {0};
        long n = read(fd, in, 5);
        printf("read /dev/stdin: %ld %.5s\n", n, in);
        close(fd);
    }
    char in[64] = {0};
    printf("read fd 0 after: %ld %.4s\n", read(0, in, 4), in);

    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    int both = open("/dev/full", O_RDWR | O_CLOEXEC);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", null);
    show_link(path, "/proc/self/fd/<null>");
    show_stat("stat /proc/self/fd/<null>", stat(path, &st), &st);
    int again = open(path, O_WRONLY | O_CLOEXEC);
    res("reopen /proc/self/fd/<null> and write", again < 0 ? -1 : write(again, "x", 1));
    if (again >= 0)
        close(again);
    snprintf(path, sizeof path, "/proc/self/fd/%d", zero);
    show_link(path, "/proc/self/fd/<zero>");
    snprintf(path, sizeof path, "/proc/self/fd/%d", both);
    show_link(path, "/proc/self/fd/<full>");
    snprintf(path, sizeof path, "/dev/fd/%d/x", null);
    res("open /dev/fd/<null>/x", open(path, O_RDONLY));
    int fds[] = {null, zero, both};
    const char *const labels[] = {"null", "zero", "full"};
    list_fds(fds, labels, 3);
    close(null);
    close(zero);
    close(both);
    snprintf(path, sizeof path, "/proc/self/fd/%d", null);
    show_link(path, "/proc/self/fd/<closed>");
    res("open /proc/self/fd/00", open("/proc/self/fd/00", O_RDONLY));

    char buf[4096];
    ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("/proc/self is getpid: %d\n", atoi(buf) == getpid());
    n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("/proc/self/exe is argv[0]: %d\n", n > 0 && strcmp(buf, argv[0]) == 0);
    struct stat exe, self;
    printf("/proc/self/exe opens the program: %d\n",
           stat("/proc/self/exe", &exe) == 0 && stat(argv[0], &self) == 0 && exe.st_ino == self.st_ino &&
               exe.st_size == self.st_size);
    show_link("/proc/self/exe", "/proc/self/exe");

    proc_file("/proc/loadavg");
    proc_file("/proc/stat");
    printf("nprocs: %ld\n", sysconf(_SC_NPROCESSORS_ONLN)); /* picoprocess only: glibc reads /proc/stat */
    static const char *const absent[] = {"/proc/cpuinfo", "/proc/self/maps", "/proc/1", "/proc/sys/kernel",
                                         "/dev/shm", "/dev/sda", "/dev/pts"};
    for (unsigned i = 0; i < sizeof absent / sizeof *absent; i++) { /* picoprocess only: ENOENT */
        snprintf(buf, sizeof buf, "absent %s", absent[i]);
        res(buf, stat(absent[i], &st));
    }
    /* Probes that change the machine when they succeed: never as the real root (the
     * test runs the native program as an unprivileged user; the picoprocess's user is virtual). */
    if (geteuid() == 0) {
        printf("refusing to probe writes to /dev and /proc as root\n");
        return 1;
    }
    res("create /dev/x", open("/dev/x", O_CREAT | O_WRONLY, 0600));
    res("mkdir /dev/x", mkdir("/dev/x", 0700));
    res("mkdir /proc/x", mkdir("/proc/x", 0700));
    res("unlink /dev/null", unlink("/dev/null"));
    res("rename /dev/zero", rename("/dev/zero", "/dev/zero2"));
    return 0;
}
