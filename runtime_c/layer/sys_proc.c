/* Process identity: a picoprocess is one process, whose threads all answer
 * with its pid, and it sees a fixed, virtual identity rather than the host's.
 *
 * @family identity: one process, its threads included, with a fixed virtual pid, run by the
 *     profile's virtual user (the identity knob)
 * @serves getpid gettid=getpid set_tid_address getuid getgid geteuid getegid getresuid getresgid
 *
 * @family prctl: the picoprocess's truth: no capabilities in the bounding set, not dumpable,
 *     no_new_privs, a seccomp filter; the name set with PR_SET_NAME kept for PR_GET_NAME; other
 *     options EINVAL
 * @serves prctl
 *
 * @family uname: the profile's uname knob
 * @serves uname
 *
 * @family sysinfo: a machine of the picoprocess's own: uptime from the clock, load 0, one process,
 *     4 GiB of memory
 * @serves sysinfo
 */
#include <linux/seccomp.h>
#include <linux/sysinfo.h>
#include <linux/time.h>
#include <linux/time_types.h>
#include <linux/utsname.h>

#include "../lib/sys.h"
#include "layer.h"
#include "user.h"

long layer_getpid(struct layer_call *c)
{
    (void)c;
    return layer_vpid();
}

long layer_set_tid_address(struct layer_call *c)
{
    /* Not kept: the main thread's word is never cleared (only a join of the main
     * thread would wait for it); threads from pthread_create get theirs from clone. */
    (void)c;
    return layer_vpid();
}

static void field(char *dst, const char *src)
{
    size_t n = strlen(src);
    memset(dst, 0, __NEW_UTS_LEN + 1);
    memcpy(dst, src, n > __NEW_UTS_LEN ? __NEW_UTS_LEN : n);
}

long layer_uname(struct layer_call *c)
{
    struct new_utsname u;
    char *fields[6] = {u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname};
    for (int i = 0; i < 6; i++)
        field(fields[i], layer_knobs.uname[i]);
    return user_out(c->a[0], &u, sizeof u);
}

/* The getuid family: the profile's virtual user; no saved ids differ. */
long layer_getuid(struct layer_call *c)
{
    (void)c;
    return layer_knobs.identity.uid;
}

long layer_getgid(struct layer_call *c)
{
    (void)c;
    return layer_knobs.identity.gid;
}

long layer_geteuid(struct layer_call *c)
{
    (void)c;
    return layer_knobs.identity.euid;
}

long layer_getegid(struct layer_call *c)
{
    (void)c;
    return layer_knobs.identity.egid;
}

/* One after the other, as Linux puts them: a bad second pointer leaves the first written. */
static long three_ids(struct layer_call *c, uint32_t real, uint32_t effective)
{
    if (user_out(c->a[0], &real, 4) < 0 || user_out(c->a[1], &effective, 4) < 0 ||
        user_out(c->a[2], &effective, 4) < 0)
        return -EFAULT;
    return 0;
}

long layer_getresuid(struct layer_call *c)
{
    return three_ids(c, layer_knobs.identity.uid, layer_knobs.identity.euid);
}

long layer_getresgid(struct layer_call *c)
{
    return three_ids(c, layer_knobs.identity.gid, layer_knobs.identity.egid);
}

/* sysinfo: a machine of the picoprocess's own: up since the clock's boot time,
 * idle (load 0), one process, and a fixed amount of memory (the real machine's
 * is the host's business). */
_Static_assert(sizeof(struct sysinfo) == 112, "the kernel's x86-64 struct sysinfo");

long layer_sysinfo(struct layer_call *c)
{
    struct __kernel_timespec ts = {0, 0};
    sys2(__NR_clock_gettime, CLOCK_BOOTTIME, (long)&ts);
    struct sysinfo info;
    memset(&info, 0, sizeof info);
    info.uptime = ts.tv_sec;
    info.totalram = 4UL << 30;
    info.freeram = 2UL << 30;
    info.procs = 1;
    info.mem_unit = 1;
    return user_out(c->a[0], &info, sizeof info);
}

/* prctl: the few questions libraries ask about the process, answered with the
 * picoprocess's truth (no capabilities, not dumpable, no_new_privs set, under a
 * seccomp filter), and
 * the process name kept for PR_GET_NAME.  Everything else -EINVAL, as a kernel
 * answers an option it does not know. */
#define PR_GET_DUMPABLE_ 3
#define PR_SET_NAME_ 15
#define PR_GET_NAME_ 16
#define PR_GET_SECCOMP_ 21
#define PR_CAPBSET_READ_ 23
#define PR_GET_NO_NEW_PRIVS_ 39
#define CAP_LAST_CAP_ 40 /* CAP_CHECKPOINT_RESTORE, Linux 5.9 and later */

long layer_prctl(struct layer_call *c)
{
    switch ((int)c->a[0]) {
    case PR_CAPBSET_READ_:
        return c->a[1] > CAP_LAST_CAP_ ? -EINVAL : 0; /* the boot block emptied the bounding set */
    case PR_GET_DUMPABLE_:
        return 0;
    case PR_GET_SECCOMP_:
        return SECCOMP_MODE_FILTER;
    case PR_GET_NO_NEW_PRIVS_:
        return 1;
    case PR_SET_NAME_: { /* at most 15 bytes are read, as Linux reads them */
        char name[sizeof layer.process_name];
        long n = layer_host->string_in(name, (const char *)c->a[1], sizeof name - 1);
        if (n == -EFAULT)
            return n;
        n = n < 0 ? (long)sizeof name - 1 : n; /* no NUL among the 15: all 15 */
        memcpy(layer.process_name, name, (size_t)n);
        layer.process_name[n] = 0;
        return 0;
    }
    case PR_GET_NAME_:
        return user_out(c->a[1], layer.process_name, sizeof layer.process_name);
    default:
        return -EINVAL;
    }
}
