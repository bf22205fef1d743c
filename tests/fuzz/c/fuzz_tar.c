/* Fuzz target `c_tar`: the tar route's index (tar.c's tar_index, reached through
 * vfs_mount_tar) over any bytes, then, when the image is accepted, everything in it
 * walked: every directory listed, every name stat-ed, opened, read to the end and
 * its links read.  The input is copied into a buffer of exactly its size, so that
 * AddressSanitizer sees a read one byte past the image.  Checked: the mount answers
 * 0 or -errno (-EINVAL for a hostile image), every call after it too, and no
 * sanitizer report. */
#include "common.h"

#define DEPTH_MAX 8
#define ENTRIES_MAX 4096

static int entries;

static void walk(struct vfs *v, const char *dir, int depth)
{
    long fd = fz_answer("openat dir", vfs_openat(v, -100, dir, 0x10000 /* O_DIRECTORY */, 0));
    if (fd < 0)
        return;
    char buf[4096];
    long n;
    while ((n = fz_answer("getdents64", vfs_getdents64(v, (int)fd, buf, sizeof buf))) > 0) {
        for (long off = 0; off < n;) {
            struct vfs_dirent64 *d = (struct vfs_dirent64 *)(buf + off);
            if (d->d_reclen == 0 || off + d->d_reclen > n) {
                fprintf(stderr, "getdents64: a record of %u bytes at %ld of %ld\n", d->d_reclen, off, n);
                abort();
            }
            off += d->d_reclen;
            if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") || ++entries > ENTRIES_MAX)
                continue;
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") ? dir : "", d->d_name);
            struct vfs_stat st;
            fz_answer("newfstatat", vfs_newfstatat(v, -100, path, &st, 0x100 /* AT_SYMLINK_NOFOLLOW */));
            char link[256];
            fz_answer("readlinkat", vfs_readlinkat(v, -100, path, link, sizeof link));
            long f = fz_answer("openat", vfs_openat(v, -100, path, 0, 0));
            if (f >= 0) {
                char data[4096];
                while (fz_answer("read", vfs_read(v, (int)f, data, sizeof data)) > 0)
                    ;
                uint64_t off64;
                fz_answer("vfs_tar_offset", vfs_tar_offset(v, (int)f, &off64));
                fz_answer("close", vfs_close(v, (int)f));
            }
            if (d->d_type == 4 /* DT_DIR */ && depth < DEPTH_MAX)
                walk(v, path, depth + 1);
        }
    }
    fz_answer("close dir", vfs_close(v, (int)fd));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *image = malloc(size ? size : 1);
    memcpy(image, data, size);
    struct vfs *v = fz_vfs();
    long r = fz_answer("vfs_mount_tar", vfs_mount_tar(v, "/", image, size, ""));
    if (r == 0) {
        entries = 0;
        walk(v, "/", 0);
    }
    vfs_free(v);
    free(image);
    return 0;
}
