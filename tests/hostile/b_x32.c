/* Attack: x32 system call numbers (__X32_SYSCALL_BIT | nr) through `syscall`:
 * the arch is x86-64, but an x32 number must be killed by the filter, never
 * trapped to the layer nor passed on.  argv[3]: write, open, execve (x32 520),
 * execve64 (x32 bit on the 64-bit number 59).  "survived = R" must never appear. */
#include <fcntl.h>
#include "hostile.h"

#define X32 0x40000000L

int main(int argc, char **argv)
{
    const char *mode = argv[3], *canary = argv[1];
    static char sh[] = "/bin/sh";
    static char *sh_argv[] = {sh, 0};
    printf("trying %s\n", mode);
    fflush(stdout);
    long r;
    if (!strcmp(mode, "write"))
        r = raw3(X32 | 1, 3, (long)"x", 1);
    else if (!strcmp(mode, "open"))
        r = raw3(X32 | 2, (long)canary, O_RDONLY, 0);
    else if (!strcmp(mode, "execve"))
        r = raw3(X32 | 520, (long)sh, (long)sh_argv, 0);
    else if (!strcmp(mode, "execve64"))
        r = raw3(X32 | 59, (long)sh, (long)sh_argv, 0);
    else
        return 2;
    report("survived", r);
    (void)argc;
    return 0;
}
