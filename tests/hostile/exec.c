/* Attack: replace the picoprocess with a host program.  execve and execveat of
 * /bin/sh running a command that would read the canary (argv[1]) and create a
 * file beside it; execveat by fd (AT_EMPTY_PATH on fd 0 and on the channel). */
#include <fcntl.h>
#include "hostile.h"
#include "xax_protocol.h"

int main(int argc, char **argv)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cat '%s'; echo pwned > '%s.new'", argv[1], argv[1]);
    char *sh_argv[] = {"/bin/sh", "-c", cmd, 0};
    char *envp[] = {"PATH=/bin:/usr/bin", 0};
    report("execve", raw3(SYS_execve, (long)"/bin/sh", (long)sh_argv, (long)envp));
    report("execve_junk", raw3(SYS_execve | (1L << 32), (long)"/bin/sh", (long)sh_argv, (long)envp));
    report("execveat", raw6(SYS_execveat, AT_FDCWD, (long)"/bin/sh", (long)sh_argv, (long)envp, 0, 0));
    report("execveat_fd0", raw6(SYS_execveat, 0, (long)"", (long)sh_argv, (long)envp, AT_EMPTY_PATH, 0));
    report("execveat_chan", raw6(SYS_execveat, XAX_CHANNEL_FD, (long)"", (long)sh_argv, (long)envp, AT_EMPTY_PATH, 0));
    (void)argc;
    return 0;
}
