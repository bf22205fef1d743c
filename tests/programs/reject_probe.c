/* Makes a few calls a profile may reject, and prints what each returned. */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    errno = 0;
    long r = syscall(SYS_socket, 2, 1, 0);
    printf("socket = %ld errno = %d\n", r, r < 0 ? errno : 0);
    r = syscall(SYS_getuid);
    printf("getuid = %ld errno = %d\n", r, r < 0 ? errno : 0);
    r = syscall(SYS_sched_yield);
    printf("sched_yield = %ld\n", r);
    return 0;
}
