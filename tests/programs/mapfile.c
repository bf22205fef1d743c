/* Maps files as ld.so does and prints what it sees, for comparison with the
 * native run.  First its own .data: a page of an initialized array is written,
 * then dropped with MADV_DONTNEED; a page mapped from the program's file shows
 * the file's bytes again, anonymous memory (a copy) would show zeros.  Then for
 * each path: the whole file mapped privately (equal to what read() gives, the
 * rest of its last page zeros), a window at offset 4096, a private writable
 * mapping (writes stay private), and for a path given as +PATH the same
 * MADV_DONTNEED test on its first page. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096UL

static volatile unsigned data[3 * PAGE / sizeof(unsigned)] __attribute__((aligned(PAGE))) = {
    [0 ... 3 * PAGE / sizeof(unsigned) - 1] = 0x5a5a5a5a};

static unsigned char *read_all(int fd, size_t size)
{
    unsigned char *buf = malloc(size ? size : 1);
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(fd, buf + done, size - done, (off_t)done);
        if (n <= 0)
            return 0;
        done += (size_t)n;
    }
    return buf;
}

static void one(int index, const char *arg)
{
    int dontneed = arg[0] == '+';
    const char *path = arg + dontneed;
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        printf("file %d: cannot open\n", index);
        return;
    }
    size_t size = (size_t)st.st_size, span = (size + PAGE - 1) & ~(PAGE - 1);
    unsigned char *buf = read_all(fd, size);
    unsigned char *m = mmap(0, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (!buf || m == MAP_FAILED) {
        printf("file %d: cannot map\n", index);
        return;
    }
    int tail_zero = 1;
    for (size_t i = size; i < span; i++)
        tail_zero &= m[i] == 0;
    printf("file %d: %zu bytes, mapped %s, tail %s\n", index, size, memcmp(m, buf, size) ? "DIFFERENT" : "equal",
           tail_zero ? "zeros" : "NOT ZEROS");
    if (size > 3 * PAGE) {
        unsigned char *w = mmap(0, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
        printf("file %d: window at 4096 %s\n", index,
               w == MAP_FAILED ? "cannot map" : memcmp(w, buf + PAGE, 2 * PAGE) ? "DIFFERENT" : "equal");
    }
    unsigned char *p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    p[0] ^= 0xff;
    p[size - 1] ^= 0xff;
    printf("file %d: private writes %s, file %s\n", index,
           p[0] == (unsigned char)(buf[0] ^ 0xff) && p[size - 1] == (unsigned char)(buf[size - 1] ^ 0xff) ? "seen" : "LOST",
           m[0] == buf[0] && m[size - 1] == buf[size - 1] ? "unchanged" : "CHANGED");
    if (dontneed) {
        madvise(p, PAGE, MADV_DONTNEED);
        printf("file %d: after MADV_DONTNEED the page shows %s\n", index,
               memcmp(p, buf, PAGE) == 0 ? "the file" : p[0] == 0 ? "zeros" : "something else");
    }
    close(fd);
}

int main(int argc, char **argv)
{
    volatile unsigned *mid = &data[PAGE / sizeof(unsigned)]; /* a page wholly inside the array */
    mid[0] = 7;
    madvise((void *)mid, PAGE, MADV_DONTNEED);
    printf("own data page after MADV_DONTNEED: %#x\n", mid[0]);
    for (int i = 1; i < argc; i++)
        one(i, argv[i]);
    return 0;
}
