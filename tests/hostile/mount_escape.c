/* Attack: leave a granted directory (mounted rw at /m) by every path a program has: the
 * symlinks in it that lead to the canary (absolute, relative, to its directory), "..",
 * the canary's own path, creating through a symlink, renames out, hard links (read-only
 * or made), symlinks made.  The layer resolves symlinks inside the mount and the Monitor
 * never follows one: everything ends in the mount or fails.  argv[1]: the canary. */
#include <fcntl.h>
#include "hostile.h"

int main(int argc, char **argv)
{
    const char *canary = argv[1];
    char path[4096], buf[256];
    report("abs", raw3(SYS_open, (long)"/m/abs", O_RDONLY, 0));
    report("rel", raw3(SYS_open, (long)"/m/rel", O_RDONLY, 0));
    report("outdir", raw3(SYS_open, (long)"/m/outdir/canary.txt", O_RDWR, 0));
    snprintf(path, sizeof path, "/m/..%s", canary);
    report("dotdot", raw3(SYS_open, (long)path, O_RDONLY, 0));
    report("direct", raw3(SYS_open, (long)canary, O_RDONLY, 0));
    report("create_through_link", raw3(SYS_open, (long)"/m/abs", O_WRONLY | O_CREAT, 0644));
    report("nofollow", raw3(SYS_open, (long)"/m/abs", O_WRONLY | O_NOFOLLOW, 0));
    report("rename_out", raw2(SYS_rename, (long)"/m/f", (long)canary));
    report("rename_into_link", raw2(SYS_rename, (long)"/m/f", (long)"/m/outdir/stolen"));
    report("mkdir_through_link", raw2(SYS_mkdir, (long)"/m/outdir/x", 0755));
    report("unlink_through_link", raw1(SYS_unlink, (long)"/m/outdir/canary.txt"));
    report("link", raw2(SYS_link, (long)"/m/f", (long)"/m/hard2"));
    report("symlink", raw2(SYS_symlink, (long)canary, (long)"/m/new"));
    report("hard_trunc", raw3(SYS_open, (long)"/m/hard", O_WRONLY | O_TRUNC, 0));
    long fd = raw3(SYS_open, (long)"/m/hard", O_WRONLY, 0);
    report("hard_open", fd >= 0);
    report("hard_write", raw3(SYS_write, fd, (long)"pwned\n", 6));
    report("chdir", raw1(SYS_chdir, (long)"/m"));
    snprintf(path, sizeof path, "../../../..%s", canary);
    report("relative_dotdot", raw3(SYS_open, (long)path, O_RDONLY, 0));
    report("rename_link_inside", raw2(SYS_rename, (long)"/m/abs", (long)"/m/renamed"));
    report("readlink_renamed", raw3(SYS_readlink, (long)"/m/renamed", (long)buf, sizeof buf) == (long)strlen(canary));
    long f = raw3(SYS_open, (long)"/m/f", O_RDWR, 0); /* bad buffers: -EFAULT, as natively, the file unchanged */
    report("read_bad_buffer", raw3(SYS_read, f, 16, 5));
    report("write_bad_buffer", raw3(SYS_write, f, 16, 5));
    (void)argc;
    return 0;
}
