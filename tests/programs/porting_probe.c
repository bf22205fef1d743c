/* Makes calls the shipped bases leave missing, which xax_emu/syscalls/answers.py answers
 * (getppid, getpriority, setuid, fadvise64, times, statfs) or cannot (timerfd_create), and prints
 * what each returned: `trace --suggest` turns them into a profile, tests/test_trace.py
 * runs the program again with it. */
#include <errno.h>
#include <fcntl.h>
#include <sys/timerfd.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <unistd.h>

static void show(const char *name, long r)
{
    printf("%s = %ld errno = %d\n", name, r, r < 0 ? errno : 0);
}

int main(void)
{
    struct tms t;
    struct statfs fs;
    errno = 0;
    show("getppid", syscall(SYS_getppid));
    show("getpriority", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    show("setuid", syscall(SYS_setuid, syscall(SYS_getuid)));
    show("fadvise64", syscall(SYS_fadvise64, 0, 0, 0, POSIX_FADV_SEQUENTIAL));
    show("times", syscall(SYS_times, &t));
    show("statfs", syscall(SYS_statfs, "/", &fs));
    show("timerfd_create", syscall(SYS_timerfd_create, CLOCK_MONOTONIC, 0));
    return 0;
}
