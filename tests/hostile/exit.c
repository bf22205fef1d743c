/* Attack: exit and exit_group are allowed with any argument; the status is an
 * int of which the kernel keeps the low 8 bits, junk above included.  argv[3]:
 * "exit" (the only thread ends, and so the process), or "exit_group". */
#include "hostile.h"

int main(int argc, char **argv)
{
    report("exiting", 1);
    if (argc > 3 && !strcmp(argv[3], "exit"))
        raw1(SYS_exit, (0xdeadL << 32) | 0x1234507);
    else
        raw1(SYS_exit_group, (0xbeefL << 32) | 0x1234529);
    report("survived", 1);
    return 99;
}
