/* The paths the program failed to open or look at, reported to the Monitor (TRACE_PATH) when
 * it asked for them (XAX_BOOT_FLAG_TRACE_PATHS: trace, run --report json): the porter's list of
 * what the image lacks, each with its errno.  A relative path is made absolute against the
 * directory it was given with (the cwd, or dirfd's), so that the Monitor can say which route
 * it fell under; the text is the program's, not resolved further (no symlinks followed, no
 * "." or ".." removed: the Monitor reads it lexically).  The Monitor trusts none of it. */
#include "../lib/sys.h"
#include "../vfs/vfs.h"
#include "layer.h"
#include "xax_protocol.h"

/* The report is made under the layer's lock (every handler runs under it): one buffer will do,
 * and keeps a second PATH_MAX off the signal stack. */
static char report[XAX_TRACE_PATH_MAX + 1];

void layer_failed_path(long nr, int dirfd, const char *path, long r)
{
    if (!(layer_host->flags & XAX_BOOT_FLAG_TRACE_PATHS) || !sys_failed(r) || !path[0] ||
        XAX_TRACE_PATH_UNREPORTED(-r))
        return;
    size_t at = 0, n = strlen(path), cap = XAX_TRACE_PATH_MAX;
    if (path[0] != '/') {
        long d = vfs_dir_name(layer.vfs, dirfd, report, sizeof report);
        if (d > 1 && (size_t)d - 1 < cap) {
            at = (size_t)d - 1;
            if (at > 1) /* "/x" and deeper get a '/' before the path; "/" has its own */
                report[at++] = '/';
        }
        /* no name for the directory (a removed one, a pipe...): the path as the program gave it */
    }
    if (n > cap - at)
        n = cap - at; /* cut at the protocol's bound: its length says it was */
    memcpy(report + at, path, n);
    layer_host->trace_path((int)nr, (int)-r, report, (uint32_t)(at + n));
}
