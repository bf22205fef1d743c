/* chmod, fchmod and fchmodat on the RAM disk, compared with the kernel's answers on a host
 * directory (argv[1]; sealed: /tmp): the modes stat shows after, and the errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char dir[256];

static const char *at(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void said(const char *what, long r)
{
    printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

static void mode(const char *name)
{
    struct stat st;
    if (lstat(at(name), &st) == 0)
        printf("  %s: %o\n", name, (unsigned)st.st_mode);
    else
        printf("  %s: %s\n", name, strerror(errno));
}

int main(int argc, char **argv)
{
    snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "/tmp");
    umask(022);
    int fd = open(at("f"), O_RDWR | O_CREAT | O_TRUNC, 0666);
    mkdir(at("d"), 0777);
    mode("f");
    said("chmod f 0751", chmod(at("f"), 0751));
    mode("f");
    said("chmod f 0104644 (the type bits ignored)", chmod(at("f"), 0104644));
    mode("f");
    said("fchmod 0600", fchmod(fd, 0600));
    mode("f");
    said("fchmodat d 01700", syscall(SYS_fchmodat, AT_FDCWD, at("d"), 01700));
    mode("d");
    said("chmod missing", chmod(at("missing"), 0644));
    said("chmod empty", chmod("", 0644));
    said("chmod f/x", chmod(at("f/x"), 0644));
    said("fchmod -1", fchmod(-1, 0644));
    int p = open(at("f"), O_PATH);
    said("fchmod O_PATH", fchmod(p, 0644));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    said("fchmodat relative", syscall(SYS_fchmodat, dfd, "f", 0640));
    mode("f");
    unlink(at("f"));
    rmdir(at("d"));
    return 0;
}
