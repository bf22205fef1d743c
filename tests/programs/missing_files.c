/* Fails to open and look at paths, as a program probing for its files does: each argument
 * is OP:PATH (open, openat, stat, lstat, access, readlink, chdir, creat), done once; the
 * test compares the paths, errnos and counts the trace lists with strace of the native run.
 * Prints each call's errno (or "ok"), so that the two runs can be compared too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static long one(const char *op, const char *path)
{
    struct stat st;
    char buf[256];
    if (!strcmp(op, "open"))
        return syscall(SYS_open, path, O_RDONLY);
    if (!strcmp(op, "openat"))
        return syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
    if (!strcmp(op, "creat"))
        return syscall(SYS_open, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!strcmp(op, "stat"))
        return syscall(SYS_stat, path, &st);
    if (!strcmp(op, "lstat"))
        return syscall(SYS_lstat, path, &st);
    if (!strcmp(op, "access"))
        return syscall(SYS_access, path, R_OK);
    if (!strcmp(op, "readlink"))
        return syscall(SYS_readlink, path, buf, sizeof buf);
    if (!strcmp(op, "chdir"))
        return syscall(SYS_chdir, path);
    errno = EINVAL;
    return -1;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char op[16];
        const char *colon = strchr(argv[i], ':');
        if (!colon || colon - argv[i] >= (long)sizeof op)
            return 2;
        memcpy(op, argv[i], (size_t)(colon - argv[i]));
        op[colon - argv[i]] = 0;
        long r = one(op, colon + 1);
        if (r >= 0 && strcmp(op, "readlink") && strcmp(op, "chdir") && strcmp(op, "stat") && strcmp(op, "lstat") &&
            strcmp(op, "access"))
            close((int)r);
        if (r < 0)
            printf("%s %s: errno %d\n", op, colon + 1, errno);
        else
            printf("%s %s: ok\n", op, colon + 1);
    }
    return 0;
}
