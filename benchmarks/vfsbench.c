/* The VFS rows, timed inside the program (the same binary natively and sealed):
 *   vfsbench read FILE          sequential read (64 KiB read()s) and random 4 KiB pread()s
 *   vfsbench ram DIR MIB        write a MIB-MiB file in 64 KiB write()s, read it back, unlink
 *   vfsbench walk DIR           a recursive walk: getdents64 (readdir) and lstat of every entry
 * Prints "name value" lines: medians of repeated runs (ns, MB/s = 1e6 bytes/s), and
 * "checksum"/"entries" lines so that the native and sealed runs can be checked to agree. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

enum { RUNS = 9, CHUNK = 64 << 10, PAGE = 4096, RANDOM_READS = 16384 };
static char buf[CHUNK];

static int fail(const char *what, const char *path)
{
    fprintf(stderr, "vfsbench: %s %s failed\n", what, path);
    return 1;
}

static int bench_read(const char *path)
{
    double seq[RUNS], rnd[RUNS];
    uint64_t sum = 0;
    off_t size = 0;
    for (int r = 0; r < RUNS + 1; r++) { /* run 0 warms the page cache (natively) */
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return fail("open", path);
        double t = now();
        ssize_t n;
        size = 0;
        while ((n = read(fd, buf, CHUNK)) > 0) {
            size += n;
            sum += (unsigned char)buf[n - 1];
        }
        double dt = now() - t;
        if (n < 0)
            return fail("read", path);
        if (r)
            seq[r - 1] = dt;
        uint64_t x = 0x9E3779B97F4A7C15ull;
        t = now();
        for (int i = 0; i < RANDOM_READS; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            off_t off = (off_t)(x % (uint64_t)(size / PAGE)) * PAGE;
            if (pread(fd, buf, PAGE, off) != PAGE)
                return fail("pread", path);
            sum += (unsigned char)buf[0];
        }
        dt = now() - t;
        if (r)
            rnd[r - 1] = dt / RANDOM_READS;
        close(fd);
    }
    printf("bytes %lld\n", (long long)size);
    printf("seq_read_ns %.0f\n", median(seq, RUNS));
    printf("seq_read_mbps %.1f\n", size / (median(seq, RUNS) / 1e9) / 1e6);
    printf("rand_read_ns_per_4k %.1f\n", median(rnd, RUNS));
    printf("checksum %llu\n", (unsigned long long)sum);
    return 0;
}

static int bench_ram(const char *dir, long mib)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/vfsbench.tmp", dir);
    double wr[RUNS], rd[RUNS];
    long size = mib << 20;
    memset(buf, 'x', CHUNK);
    for (int r = 0; r < RUNS; r++) {
        double t = now();
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
            return fail("create", path);
        for (long done = 0; done < size; done += CHUNK)
            if (write(fd, buf, CHUNK) != CHUNK)
                return fail("write", path);
        close(fd);
        wr[r] = now() - t;
        t = now();
        fd = open(path, O_RDONLY);
        if (fd < 0)
            return fail("open", path);
        long got = 0;
        ssize_t n;
        while ((n = read(fd, buf, CHUNK)) > 0)
            got += n;
        close(fd);
        rd[r] = now() - t;
        if (got != size)
            return fail("read back", path);
        if (unlink(path) != 0)
            return fail("unlink", path);
    }
    printf("ram_write_mbps %.1f\n", size / (median(wr, RUNS) / 1e9) / 1e6);
    printf("ram_read_mbps %.1f\n", size / (median(rd, RUNS) / 1e9) / 1e6);
    return 0;
}

static long walk(char *path, size_t len)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        size_t nl = strlen(e->d_name);
        if (len + 1 + nl + 1 > 4096)
            continue;
        path[len] = '/';
        memcpy(path + len + 1, e->d_name, nl + 1);
        struct stat st;
        if (lstat(path, &st) != 0) {
            closedir(d);
            return -1;
        }
        count++;
        if (S_ISDIR(st.st_mode)) {
            long sub = walk(path, len + 1 + nl);
            if (sub < 0) {
                closedir(d);
                return -1;
            }
            count += sub;
        }
        path[len] = 0;
    }
    closedir(d);
    return count;
}

static int bench_walk(const char *dir)
{
    double v[RUNS];
    long count = 0;
    char path[4096];
    for (int r = 0; r < RUNS + 1; r++) { /* run 0 warms the dentry cache (natively) */
        snprintf(path, sizeof path, "%s", dir);
        double t = now();
        count = walk(path, strlen(path));
        if (count < 0)
            return fail("walk", dir);
        if (r)
            v[r - 1] = now() - t;
    }
    printf("entries %ld\n", count);
    printf("walk_ns %.0f\n", median(v, RUNS));
    printf("walk_ns_per_entry %.1f\n", median(v, RUNS) / count);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "read"))
        return bench_read(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "ram"))
        return bench_ram(argv[2], atol(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "walk"))
        return bench_walk(argv[2]);
    fprintf(stderr, "usage: vfsbench read FILE | ram DIR MIB | walk DIR\n");
    return 2;
}
