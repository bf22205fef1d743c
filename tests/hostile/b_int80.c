/* Attack: i386 system calls from 64-bit code.  `int $0x80` (and `sysenter`)
 * with i386 numbers that collide with allowed x86-64 ones: i386 1 = exit,
 * 3 = read, 4 = write, 5 = open, 10 = unlink, 11 = execve.  The pointers are
 * below 4 GiB (non-PIE static binary), so the 32-bit call would be valid.
 * The filter must kill the process (bad arch) before anything happens.
 * argv[3]: which call.  Prints "trying MODE" first; "survived = R" must never appear. */
#include <fcntl.h>
#include <stdlib.h>
#include "hostile.h"
#include "xax_protocol.h"

static char path[4096];                /* .bss: below 4 GiB */
static char sh[] = "/bin/sh";
static uint32_t sh_argv[2];
static char buf[64];

static long int80(long nr, long b, long c, long d)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(b), "c"(c), "d"(d)
                     : "memory", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
    return r;
}

static long sysenter(long nr, long b, long c, long d)
{
    long r;
    __asm__ volatile("mov %%rsp, %%rbp\n\tsysenter" : "=a"(r) : "a"(nr), "b"(b), "c"(c), "d"(d)
                     : "memory", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
    return r;
}

int main(int argc, char **argv)
{
    const char *mode = argv[3];
    strncpy(path, argv[1], sizeof path - 1);
    sh_argv[0] = (uint32_t)(uintptr_t)sh;
    if (((uintptr_t)path | (uintptr_t)sh | (uintptr_t)sh_argv | (uintptr_t)buf) >> 32)
        return 3; /* the pointers must fit the i386 ABI */
    printf("trying %s\n", mode);
    fflush(stdout);
    long r = -1;
    if (!strcmp(mode, "exit"))
        r = int80(1, 42, 0, 0);
    else if (!strcmp(mode, "read"))
        r = int80(3, XAX_CHANNEL_FD, (long)buf, sizeof buf);
    else if (!strcmp(mode, "write"))
        r = int80(4, XAX_CHANNEL_FD, (long)buf, sizeof buf);
    else if (!strcmp(mode, "open"))
        r = int80(5, (long)path, O_RDONLY, 0);
    else if (!strcmp(mode, "unlink"))
        r = int80(10, (long)path, 0, 0);
    else if (!strcmp(mode, "execve"))
        r = int80(11, (long)sh, (long)sh_argv, 0);
    else if (!strcmp(mode, "sysenter_open"))
        r = sysenter(5, (long)path, O_RDONLY, 0);
    else
        return 2;
    report("survived", r);
    (void)argc;
    return 0;
}
