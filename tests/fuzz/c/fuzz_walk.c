/* Fuzz target `c_walk`: the layer's path resolution (the walker of path.c and the
 * backends' lookups) with fuzzed paths and calls, over a small tar image (dirs,
 * files, symlinks relative, absolute, looping and climbing out), a RAM disk at /tmp,
 * /dev, /proc and a deny route.  The input is a list of calls: one byte for the
 * call, one for its dirfd, two of flags, then NUL-terminated paths.  Checked: every
 * call answers >= 0 or -errno; getcwd is an absolute, NUL-terminated path; nothing
 * is reported by AddressSanitizer or UBSan.  WALK_TAR (walk_tar.h) is written by
 * cbuild.py with Python's tarfile. */
#include "common.h"
#include "walk_tar.h"

#define CALLS_MAX 64
#define FDS 8

static const char *next_path(const uint8_t **p, const uint8_t *end, char *out, size_t most)
{
    size_t n = 0;
    while (*p < end && **p && n + 1 < most)
        out[n++] = (char)*(*p)++;
    if (*p < end)
        (*p)++; /* the NUL, or the byte that did not fit */
    out[n] = 0;
    return out;
}

/* A few flags of each call's kind, chosen by bits, so that most inputs mean something. */
static int open_flags(unsigned f)
{
    static const int bits[] = {01 /* O_WRONLY */, 02 /* O_RDWR */, 0100 /* O_CREAT */, 0200 /* O_EXCL */,
                               01000 /* O_TRUNC */, 02000 /* O_APPEND */, 0200000 /* O_DIRECTORY */,
                               0400000 /* O_NOFOLLOW */, 010000000 /* O_PATH */, 020200000 /* O_TMPFILE */,
                               04000 /* O_NONBLOCK */, 02000000 /* O_CLOEXEC */};
    int flags = 0;
    for (unsigned i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (f & (1u << i))
            flags |= bits[i];
    return (f & 0x8000) ? (int)(f * 2654435761u) : flags; /* now and then, any flags at all */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t image[sizeof WALK_TAR];
    memcpy(image, WALK_TAR, sizeof WALK_TAR);
    struct vfs *v = fz_vfs();
    if (vfs_mount_tar(v, "/", image, sizeof image, "") || vfs_mount_ram(v, "/tmp", 1 << 16) ||
        vfs_mount_dev(v, "/dev") || vfs_mount_proc(v, "/proc", 100, "/bin/app") || vfs_mount_deny(v, "/deny")) {
        fprintf(stderr, "the fixed mounts failed\n");
        abort();
    }
    int fds[FDS];
    int nfds = 0;
    const uint8_t *p = data, *end = data + size;
    for (int call = 0; call < CALLS_MAX && end - p >= 4; call++) {
        unsigned op = p[0], which = p[1], flags = p[2] | (unsigned)p[3] << 8;
        p += 4;
        int dirfd = (which & 0x80) && nfds ? fds[which % nfds] : (which & 0x40) ? (int)(which & 0x3f) - 8 : -100;
        char path[600], other[600], buf[4096];
        next_path(&p, end, path, sizeof path);
        struct vfs_stat st;
        struct vfs_statx stx;
        long r;
        switch (op % 14) {
        case 0:
        case 1:
            r = fz_answer("openat", vfs_openat(v, dirfd, path, open_flags(flags), flags & 07777));
            if (r >= 0) {
                if (nfds < FDS)
                    fds[nfds++] = (int)r;
                else
                    vfs_close(v, (int)r);
            }
            break;
        case 2:
            fz_answer("newfstatat", vfs_newfstatat(v, dirfd, path, &st, flags & 0x1100 /* NOFOLLOW, EMPTY_PATH */));
            break;
        case 3:
            r = fz_answer("readlinkat", vfs_readlinkat(v, dirfd, path, buf, (int)(flags % sizeof buf)));
            if (r > (long)(flags % sizeof buf))
                abort();
            break;
        case 4:
            fz_answer("chdir", vfs_chdir(v, path));
            break;
        case 5:
            fz_answer("mkdirat", vfs_mkdirat(v, dirfd, path, flags & 07777));
            break;
        case 6:
            fz_answer("unlinkat", vfs_unlinkat(v, dirfd, path, (flags & 1) ? 0x200 /* AT_REMOVEDIR */ : 0));
            break;
        case 7:
            next_path(&p, end, other, sizeof other);
            fz_answer("renameat2", vfs_renameat2(v, dirfd, path, -100, other, flags & 7));
            break;
        case 8:
            fz_answer("faccessat2", vfs_faccessat2(v, dirfd, path, flags & 7, flags & 0x1300));
            break;
        case 9:
            fz_answer("statx", vfs_statx(v, dirfd, path, flags & 0x1100, 0xfff, &stx));
            break;
        case 10:
            r = fz_answer("getcwd", vfs_getcwd(v, buf, 1 + flags % sizeof buf));
            if (r > 0 && (buf[0] != '/' || buf[r - 1] != 0 || (long)strlen(buf) != r - 1)) {
                fprintf(stderr, "getcwd gave %ld bytes, not an absolute path and its NUL\n", r);
                abort();
            }
            break;
        case 11:
            if (nfds)
                fz_answer("fchdir", vfs_fchdir(v, fds[which % nfds]));
            break;
        case 12:
            if (nfds) {
                int fd = fds[which % nfds];
                if (flags & 1)
                    fz_answer("write", vfs_write(v, fd, path, strlen(path)));
                else
                    fz_answer("read", vfs_read(v, fd, buf, flags % sizeof buf));
                fz_answer("getdents64", vfs_getdents64(v, fd, buf, 64 + flags % 4000));
            }
            break;
        case 13:
            if (nfds) {
                nfds--;
                fz_answer("close", vfs_close(v, fds[which % (nfds + 1)]));
                fds[which % (nfds + 1)] = fds[nfds];
            }
            break;
        }
    }
    vfs_free(v);
    return 0;
}
