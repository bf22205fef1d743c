/* A family member against the family's arena (docs/processes.md, docs/seal.md): it is the
 * family's own memory, so a member may do anything to it; what must hold is that only the
 * family is hurt and the Monitor still ends it cleanly.
 *   holder   a child takes the arena's lock (writes its own virtual pid into the lock word, as
 *            the layer does) and dies holding it (a fault: SIGSEGV); the parent's next file call must not
 *            hang: it finds the holder gone (the Monitor's answer) and takes the lock over.
 *   scribble a child fills the arena's first 256 KiB (the lock, the free lists, the first
 *            nodes) with garbage and exits; the parent goes on using files, and whatever
 *            happens to it, the Monitor ends the family (tests/test_processes.py checks how). */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xax_protocol.h"

static void use_files(const char *who)
{
    int fd = open("/tmp/after", O_RDWR | O_CREAT | O_TRUNC, 0644);
    long w = fd >= 0 ? (long)write(fd, "still here\n", 11) : -1;
    printf("%s: open %s, write %ld\n", who, fd >= 0 ? "ok" : "failed", w);
    fflush(stdout);
    if (fd >= 0)
        close(fd);
}

int main(int argc, char **argv)
{
    volatile int32_t *arena = (volatile int32_t *)XAX_FAMILY_ARENA_HINT;
    const char *mode = argc > 1 ? argv[1] : "";
    use_files("parent before"); /* the arena is there, and has a node or two */
    pid_t kid = fork();
    if (kid == 0) {
        if (!strcmp(mode, "holder")) {
            arena[0] = getpid(); /* the lock word: held by this (virtual) pid */
            *(volatile int *)16 = 0; /* and dies at once, by a fault, with no system call between */
        } else if (!strcmp(mode, "scribble")) {
            memset((void *)arena, 0x41, 256 << 10);
        }
        _exit(0);
    }
    int status = 0;
    waitpid(kid, &status, 0);
    printf("child %s %d\n", WIFSIGNALED(status) ? "killed by" : "exited", WIFSIGNALED(status) ? WTERMSIG(status)
                                                                                            : WEXITSTATUS(status));
    fflush(stdout);
    use_files("parent after");
    return 0;
}
