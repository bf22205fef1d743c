/* exit_group under run --export-ram: the seal lets it through only with bit 8 of the status
 * set (XAX_EXIT_STATUS_OWN); the program's own, without it, traps and the layer exports the
 * RAM disks before it exits.  A program that sets the bit itself ends at once, and only skips
 * its own export.  argv[3]: "plain" (exit_group(5)) or "own" (exit_group(0x106): status 6). */
#include <fcntl.h>
#include "hostile.h"

int main(int argc, char **argv)
{
    long fd = raw3(SYS_open, (long)"/tmp/left", O_CREAT | O_WRONLY, 0600);
    raw3(SYS_write, fd, (long)"what the program left\n", 22);
    report("wrote", fd >= 0);
    if (argc > 3 && !strcmp(argv[3], "own"))
        raw1(SYS_exit_group, 0x106);
    raw1(SYS_exit_group, 5);
    report("survived", 1);
    return 99;
}
