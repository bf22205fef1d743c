/* Attack: reach another process.  argv[3] is the Monitor's pid, argv[4] a
 * sacrificial process the test watches.  ptrace (attach, seize, traceme),
 * process_vm_readv/writev, kill/tkill/tgkill/rt_sigqueueinfo with SIGKILL at
 * the victim, kill(monitor, 0) (a permission probe: 0 if it were allowed),
 * pidfd_open, pidfd_send_signal and pidfd_getfd (the Monitor's fd 0). */
#include <signal.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include "hostile.h"

int main(int argc, char **argv)
{
    long monitor = atol(argv[3]), victim = atol(argv[4]);
    char buf[64] = "overwritten";
    struct iovec local = {buf, sizeof buf}, remote = {(void *)0x400000, sizeof buf};
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGKILL;
    si.si_code = -1; /* SI_QUEUE */
    report("ptrace_attach_monitor", raw4(SYS_ptrace, PTRACE_ATTACH, monitor, 0, 0));
    report("ptrace_seize_victim", raw4(SYS_ptrace, PTRACE_SEIZE, victim, 0, 0));
    report("ptrace_traceme", raw4(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0));
    report("process_vm_readv", raw6(SYS_process_vm_readv, monitor, (long)&local, 1, (long)&remote, 1, 0));
    report("process_vm_writev", raw6(SYS_process_vm_writev, victim, (long)&local, 1, (long)&remote, 1, 0));
    report("kill_monitor_probe", raw2(SYS_kill, monitor, 0));
    report("kill_victim", raw2(SYS_kill, victim, SIGKILL));
    report("kill_group", raw2(SYS_kill, -victim, SIGKILL));
    report("kill_everyone", raw2(SYS_kill, -1, SIGKILL));
    report("kill_victim_junk", raw2(SYS_kill, victim | (1L << 32), SIGKILL));
    report("tkill_victim", raw2(SYS_tkill, victim, SIGKILL));
    report("tgkill_victim", raw3(SYS_tgkill, victim, victim, SIGKILL));
    report("rt_sigqueueinfo_victim", raw3(SYS_rt_sigqueueinfo, victim, SIGKILL, (long)&si));
    report("pidfd_open_monitor", raw2(SYS_pidfd_open, monitor, 0));
    report("pidfd_send_signal", raw4(SYS_pidfd_send_signal, 3, SIGKILL, 0, 0));
    report("pidfd_getfd", raw3(SYS_pidfd_getfd, 3, 0, 0));
    report("getppid", raw0(SYS_getppid));
    (void)argc;
    return 0;
}
