/* Walks the profile's routes the way a legacy program would: reads a file of the
 * image (tar route), lists a directory, writes and re-reads a file on the RAM
 * disk, reads a file fetched from the origin, and reports the errnos of what
 * must fail.  argv[1] is a URL on another origin, opened through libxax. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xabi.h"

static void cat(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("%s: errno %d\n", path, errno);
        return;
    }
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    printf("%s: %s", path, buf);
    fclose(f);
}

int main(int argc, char **argv)
{
    cat("/app/data/greeting.txt");
    cat("/app/data/link");
    cat("/app/data/sub/deep.txt");
    struct stat st;
    printf("stat size %ld dir %d\n", stat("/app/data/greeting.txt", &st) == 0 ? (long)st.st_size : -1L,
           stat("/app/data/sub", &st) == 0 && S_ISDIR(st.st_mode));
    DIR *d = opendir("/app/data");
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        entries++;
    printf("entries %d\n", entries);
    int fd = open("/app/data/new.txt", O_CREAT | O_WRONLY, 0644);
    printf("create on the image: errno %d\n", fd < 0 ? errno : 0);

    FILE *w = fopen("/tmp/out.txt", "w");
    fprintf(w, "written on the RAM disk\n");
    fclose(w);
    cat("/tmp/out.txt");
    printf("rename %d\n", rename("/tmp/out.txt", "/tmp/moved.txt"));
    cat("/tmp/moved.txt");
    printf("unlink %d\n", unlink("/tmp/moved.txt"));

    cat("/remote/hello.txt");
    cat("/remote/missing.txt");
    cat("/remote/cut.txt"); /* the origin closes halfway through its body */
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    printf("socket: %d errno %d\n", sock, errno);
    printf("other origin: %d\n", argc > 1 ? xabi_open_url("get", argv[1]) : 0);
    char cwd[64];
    printf("cwd %s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
    return 0;
}
