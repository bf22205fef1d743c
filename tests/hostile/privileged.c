/* Attack: loosen the seal or gain privilege.  New namespaces, io_uring (a
 * syscall-free path to the kernel), memfd, prctl (dumpable, seccomp, no parent
 * death signal), personality, seccomp itself (an allow-all filter, strict
 * mode), bpf, perf_event_open, userfaultfd, mount, chroot, reboot (with a bad
 * magic, so it could not reboot even if it got through), setuid and friends.
 * At the end the canary (argv[1]) is tried again: the seal must still hold. */
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/seccomp.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include "hostile.h"

int main(int argc, char **argv)
{
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {1, &allow};
    struct io_uring_params up;
    memset(&up, 0, sizeof up);
    struct perf_event_attr pe;
    memset(&pe, 0, sizeof pe);
    pe.type = PERF_TYPE_SOFTWARE;
    pe.size = sizeof pe;
    pe.config = PERF_COUNT_SW_CPU_CLOCK;
    union bpf_attr ba;
    memset(&ba, 0, sizeof ba);
    ba.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    ba.insn_cnt = 1;
    ba.insns = (long)&allow;
    ba.license = (long)"GPL";
    report("unshare_user", raw1(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS));
    report("unshare_files", raw1(SYS_unshare, CLONE_FILES));
    report("setns", raw2(SYS_setns, 3, 0));
    report("io_uring_setup", raw2(SYS_io_uring_setup, 8, (long)&up));
    report("memfd_create", raw2(SYS_memfd_create, (long)"x", 0));
    report("prctl_dumpable", raw2(SYS_prctl, PR_SET_DUMPABLE, 1));
    report("prctl_seccomp_strict", raw2(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_STRICT));
    report("prctl_seccomp_filter", raw3(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (long)&prog));
    report("prctl_pdeathsig", raw2(SYS_prctl, PR_SET_PDEATHSIG, 0));
    report("prctl_get_seccomp", raw1(SYS_prctl, PR_GET_SECCOMP));
    report("personality", raw1(SYS_personality, 0x0400000 /* READ_IMPLIES_EXEC */));
    report("personality_query", raw1(SYS_personality, 0xffffffff));
    report("seccomp_filter", raw3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&prog));
    report("seccomp_strict", raw3(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0));
    report("bpf", raw3(SYS_bpf, BPF_PROG_LOAD, (long)&ba, sizeof ba));
    report("perf_event_open", raw6(SYS_perf_event_open, (long)&pe, 0, -1, -1, 0, 0));
    report("userfaultfd", raw1(SYS_userfaultfd, 0));
    report("mount", raw6(SYS_mount, (long)"none", (long)"/tmp", (long)"tmpfs", 0, 0, 0));
    report("umount2", raw2(SYS_umount2, (long)"/tmp", 0));
    report("chroot", raw1(SYS_chroot, (long)"/tmp"));
    report("pivot_root", raw2(SYS_pivot_root, (long)"/tmp", (long)"/tmp"));
    report("reboot", raw4(SYS_reboot, 0, 0, LINUX_REBOOT_CMD_CAD_OFF, 0));
    report("setuid", raw1(SYS_setuid, 0));
    report("setresuid", raw3(SYS_setresuid, 0, 0, 0));
    report("setgid", raw1(SYS_setgid, 0));
    report("capset", raw2(SYS_capset, 0, 0));
    report("open_after", raw4(SYS_openat, AT_FDCWD, (long)argv[1], O_RDONLY, 0));
    (void)argc;
    return 0;
}
