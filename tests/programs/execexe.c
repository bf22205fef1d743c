/* /proc/self/exe across an exec: readlink names the program running now, and opening it opens
 * that very file (its size is the file's).  Run as .../first, it execs .../second (a copy). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *who)
{
    char link[4096];
    ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
    if (n < 0) {
        perror("readlink");
        return;
    }
    link[n] = 0;
    struct stat by_path, by_exe;
    int fd = open("/proc/self/exe", O_RDONLY);
    int same = fd >= 0 && fstat(fd, &by_exe) == 0 && stat(link, &by_path) == 0 && by_exe.st_size == by_path.st_size;
    printf("%s: exe %s, opened: %s\n", who, link, same ? "the same file" : "another file");
    fflush(stdout);
    if (fd >= 0)
        close(fd);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "again")) {
        show("second");
        return 0;
    }
    show("first");
    char next[4096];
    snprintf(next, sizeof next, "%s", argv[0]);
    char *slash = strrchr(next, '/');
    strcpy(slash ? slash + 1 : next, "second");
    char *args[] = {next, "again", 0};
    execv(next, args);
    perror("execv");
    return 1;
}
