/* Attack: the system calls the kernel runs without consulting seccomp at all
 * (on x86-64 since Linux 6.11: uretprobe, then uprobe).  argv[3] is the number
 * (the test names it: <sys/syscall.h> is older than these calls).  Outside the
 * kernel's own uprobe trampoline they must do nothing but fail or SIGILL the
 * caller; "survived" is printed only if the call returned. */
#include <stdlib.h>
#include "hostile.h"

int main(int argc, char **argv)
{
    long nr = atol(argv[3]);
    report("calling", nr);
    report("survived", raw6(nr, 0xdead, 0xdead, 0xdead, 0xdead, 0xdead, 0xdead));
    (void)argc;
    return 0;
}
