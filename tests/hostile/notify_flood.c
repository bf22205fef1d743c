/* Attack on trace mode's kernel counting: make allowed calls as fast as
 * possible, each one a notification the Monitor must receive and answer.
 * argv[3]: "flood" (forever: clock_gettime, futex wake, a failing munmap),
 * or "once" (one futex wake on a private word, then exit 0). */
#include <linux/futex.h>
#include <time.h>
#include "hostile.h"

int main(int argc, char **argv)
{
    const char *mode = argv[3];
    int word = 0;
    struct timespec ts;
    if (!strcmp(mode, "once")) {
        report("futex_wake", raw3(SYS_futex, (long)&word, FUTEX_WAKE_PRIVATE, 1));
        return 0;
    }
    if (strcmp(mode, "flood"))
        return 2;
    printf("flooding\n");
    fflush(stdout);
    for (;;) {
        raw2(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts);
        raw3(SYS_futex, (long)&word, FUTEX_WAKE_PRIVATE, 1);
        raw2(SYS_munmap, 0, 0); /* -EINVAL from the kernel, but it got there */
    }
    (void)argc;
}
