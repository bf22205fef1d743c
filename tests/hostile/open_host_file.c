/* Try to reach a host file by every path-taking call: open, openat, stat,
 * newfstatat, statx, access, readlink, and creating a file beside it. */
#include <fcntl.h>
#include "hostile.h"

int main(int argc, char **argv)
{
    const char *canary = argv[1];
    char buf[256];
    char sibling[512];
    snprintf(sibling, sizeof sibling, "%s.new", canary);
    report("open", raw3(SYS_open, (long)canary, O_RDONLY, 0));
    report("openat", raw4(SYS_openat, AT_FDCWD, (long)canary, O_RDONLY, 0));
    report("openat_rdwr", raw4(SYS_openat, AT_FDCWD, (long)canary, O_RDWR | O_TRUNC, 0));
    report("creat", raw4(SYS_openat, AT_FDCWD, (long)sibling, O_CREAT | O_WRONLY, 0644));
    report("stat", raw2(SYS_stat, (long)canary, (long)buf));
    report("newfstatat", raw4(SYS_newfstatat, AT_FDCWD, (long)canary, (long)buf, 0));
    report("statx", raw6(SYS_statx, AT_FDCWD, (long)canary, 0, 0xfff, (long)buf, 0));
    report("access", raw2(SYS_access, (long)canary, 0));
    report("readlink", raw3(SYS_readlink, (long)canary, (long)buf, sizeof buf));
    report("chmod", raw2(SYS_chmod, (long)canary, 0777));
    report("unlink", raw1(SYS_unlink, (long)canary));
    (void)argc;
    return 0;
}
