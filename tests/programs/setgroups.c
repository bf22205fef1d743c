/* setgroups as an unprivileged process sees it: the program first becomes uid/gid 1000 (natively,
 * run as root, that drops root; inside, it keeps the virtual user's ids), then asks for an empty
 * list, one group, and a list past NGROUPS_MAX: EPERM each time (Linux checks CAP_SETGID first). */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void say(const char *what, int r)
{
    printf("%s = %d %s\n", what, r, r < 0 ? strerror(errno) : "");
}

int main(void)
{
    say("setgid(1000)", setgid(1000));
    say("setuid(1000)", setuid(1000));
    say("setgroups(0, NULL)", setgroups(0, 0));
    gid_t one = 65534;
    say("setgroups(1, {65534})", setgroups(1, &one));
    say("setgroups(70000, list)", setgroups(70000, &one));
    say("getgroups(0, NULL)", getgroups(0, 0));
    return 0;
}
