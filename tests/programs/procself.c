/* /proc/self names the process that looks, in a forked child as in its parent: readlink gives
 * getpid(), /proc/<getpid()>/fd lists its fds, /proc lists its pid.  Relations only, so the
 * native run and the sealed one print the same bytes (tests/test_processes_signals.py). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void look(const char *who)
{
    char link[32] = {0}, mine[32], path[64];
    snprintf(mine, sizeof mine, "%d", (int)getpid());
    ssize_t n = readlink("/proc/self", link, sizeof link - 1);
    printf("%s: readlink /proc/self is getpid: %d\n", who, n > 0 && !strcmp(link, mine));
    struct stat st;
    snprintf(path, sizeof path, "/proc/%s/fd/1", mine);
    printf("%s: /proc/<pid>/fd/1 exists: %d\n", who, lstat(path, &st) == 0);
    printf("%s: /proc/self/fd/1 exists: %d\n", who, lstat("/proc/self/fd/1", &st) == 0 && S_ISLNK(st.st_mode));
    int listed = 0;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));)
        listed += !strcmp(e->d_name, mine) && e->d_type == DT_DIR;
    if (d)
        closedir(d);
    printf("%s: /proc lists its pid: %d\n", who, listed);
    int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    printf("%s: /proc/self/fd opens: %d\n", who, fd >= 0);
    if (fd >= 0)
        close(fd);
    fflush(stdout);
}

int main(void)
{
    look("parent");
    pid_t c = fork();
    if (c == 0) {
        look("child");
        pid_t g = fork();
        if (g == 0) {
            look("grandchild");
            _exit(0);
        }
        waitpid(g, 0, 0);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    look("parent again");
    return WEXITSTATUS(st);
}
