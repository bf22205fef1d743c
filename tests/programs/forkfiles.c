/* The family shares its files (docs/processes.md): what one process creates, writes, renames or
 * unlinks, another sees at once; a description inherited across fork shares its offset, and
 * O_APPEND writes of parent and child interleave whole.  Run natively (argv[1] a fresh host
 * directory) and sealed (argv[1] "/tmp", a RAM disk): the outputs must be the same bytes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];

static const char *at(const char *name)
{
    static char buf[2][512];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void put(const char *name, const char *text, int flags)
{
    int fd = open(at(name), O_WRONLY | O_CREAT | flags, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        printf("put %s: %s\n", name, strerror(errno));
    close(fd);
}

static void show(const char *who, const char *name)
{
    char buf[4096];
    int fd = open(at(name), O_RDONLY);
    if (fd < 0) {
        printf("%s: %s: %s\n", who, name, strerror(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = 0;
    printf("%s: %s holds %zd bytes: [%s]\n", who, name, n, buf);
}

static void exists(const char *who, const char *name)
{
    struct stat st;
    int r = stat(at(name), &st);
    printf("%s: %s %s\n", who, name, r == 0 ? "exists" : strerror(errno));
}

static void reap(void)
{
    int status;
    fflush(stdout);
    wait(&status);
    printf("child exited %d\n", WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
    snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "/tmp");
    setvbuf(stdout, 0, _IOFBF, 1 << 16);

    /* 1: a file the parent wrote, the child reads and extends; the parent reads the child's bytes */
    put("shared", "from the parent\n", O_TRUNC);
    fflush(stdout);
    if (fork() == 0) {
        show("child", "shared");
        put("shared", "from the child\n", O_APPEND);
        put("made-by-child", "new\n", O_TRUNC);
        fflush(stdout);
        _exit(0);
    }
    reap();
    show("parent", "shared");
    show("parent", "made-by-child");

    /* 2: at once, while the child still runs: it writes, then tells the parent through a pipe and
     * waits for the parent's word before it ends */
    int up[2], down[2];
    if (pipe(up) || pipe(down))
        return 1;
    fflush(stdout);
    if (fork() == 0) {
        close(up[0]);
        close(down[1]);
        put("live", "written by a running child\n", O_TRUNC);
        char c = 'x';
        write(up[1], &c, 1);
        read(down[0], &c, 1); /* the parent has looked */
        exists("child", "live");
        exists("child", "renamed-by-parent");
        fflush(stdout);
        _exit(0);
    }
    close(up[1]);
    close(down[0]);
    char c;
    read(up[0], &c, 1);
    show("parent", "live");
    if (rename(at("live"), at("renamed-by-parent")))
        printf("rename: %s\n", strerror(errno));
    fflush(stdout);
    write(down[1], &c, 1);
    reap();

    /* 3: one description across fork: one offset */
    int fd = open(at("offset"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, "abc", 3);
    fflush(stdout);
    if (fork() == 0) {
        write(fd, "def", 3);
        _exit(0);
    }
    reap();
    printf("parent's offset after the child wrote: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    write(fd, "ghi", 3);
    close(fd);
    show("parent", "offset");

    /* 4: O_APPEND from both at once: every line whole, none lost */
    fd = open(at("appended"), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    fflush(stdout);
    pid_t kid = fork();
    for (int i = 0; i < 300; i++) {
        char line[32];
        int n = snprintf(line, sizeof line, "%s line %03d\n", kid == 0 ? "child " : "parent", i);
        if (write(fd, line, n) != n)
            printf("append: %s\n", strerror(errno));
    }
    if (kid == 0)
        _exit(0);
    reap();
    close(fd);
    FILE *f = fopen(at("appended"), "r");
    char line[64];
    int parent = 0, child = 0, bad = 0, pnext = 0, cnext = 0;
    while (f && fgets(line, sizeof line, f)) {
        int i;
        if (sscanf(line, "parent line %d", &i) == 1 && strlen(line) == 16 && i == pnext)
            parent++, pnext++;
        else if (sscanf(line, "child  line %d", &i) == 1 && strlen(line) == 16 && i == cnext)
            child++, cnext++;
        else
            bad++;
    }
    if (f)
        fclose(f);
    struct stat st;
    stat(at("appended"), &st);
    printf("appended: %d parent lines, %d child lines in order, %d bad, %ld bytes\n", parent, child, bad,
           (long)st.st_size);

    /* 5: unlinked and renamed by the child, still open in the parent */
    put("doomed", "still readable\n", O_TRUNC);
    put("moved", "moved\n", O_TRUNC);
    fd = open(at("doomed"), O_RDONLY);
    fflush(stdout);
    if (fork() == 0) {
        unlink(at("doomed"));
        rename(at("moved"), at("moved-by-child"));
        mkdir(at("subdir"), 0755);
        put("subdir/a", "a\n", O_TRUNC);
        put("subdir/b", "b\n", O_TRUNC);
        _exit(0);
    }
    reap();
    exists("parent", "doomed");
    exists("parent", "moved");
    show("parent", "moved-by-child");
    char buf[64] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    fstat(fd, &st);
    printf("parent reads the unlinked file: %zd bytes [%s], nlink %ld\n", n, n > 0 ? buf : "", (long)st.st_nlink);
    close(fd);
    DIR *d = opendir(at("subdir"));
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.')
            entries++;
    if (d)
        closedir(d);
    printf("parent lists the child's directory: %d entries\n", entries);
    return 0;
}
