/* prctl as the layer answers it: the process name round trip, the empty
 * capability bounding set (EINVAL past the last capability), not dumpable,
 * no_new_privs set, and EINVAL for an option it does not serve. */
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>

int main(void)
{
    char name[16] = {0};
    printf("set_name %d\n", prctl(PR_SET_NAME, "a-long-name-for-this-process"));
    printf("get_name %d %s\n", prctl(PR_GET_NAME, name), name);
    printf("capbset 0 %d\n", prctl(PR_CAPBSET_READ, 0));
    int r = prctl(PR_CAPBSET_READ, 99);
    printf("capbset 99 %d %d\n", r, r < 0 ? errno : 0);
    printf("dumpable %d nnp %d\n", prctl(PR_GET_DUMPABLE), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    r = prctl(PR_SET_SECCOMP, 0);
    printf("other %d %d\n", r, r < 0 ? errno : 0);
    return 0;
}
