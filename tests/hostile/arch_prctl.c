/* Attack: arch_prctl codes other than getting and setting the FS/GS bases:
 * ARCH_GET_CPUID/ARCH_SET_CPUID (CPUID faulting), ARCH_MAP_VDSO_* (map a vDSO
 * image), ARCH_GET_XCOMP_SUPP and ARCH_REQ_XCOMP_PERM (AMX state), shadow stacks,
 * LAM (numbers from newer headers than these), code 0, and GET_CPUID with junk
 * above the int.  The allowed codes must work as the kernel's: GET_FS returns
 * the thread pointer musl set, SET_FS to that same value is 0, GET_FS with junk
 * above the int is still GET_FS (the kernel truncates the code). */
#include <asm/prctl.h>
#include "hostile.h"

int main(int argc, char **argv)
{
    unsigned long v = 0, fs = 0, gs = 1, fs_junk = 0, tp;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tp)); /* musl: the TCB points to itself */
    report("get_cpuid", raw2(SYS_arch_prctl, ARCH_GET_CPUID, 0));
    report("set_cpuid", raw2(SYS_arch_prctl, ARCH_SET_CPUID, 0));
    report("map_vdso_64", raw2(SYS_arch_prctl, ARCH_MAP_VDSO_64, 0x10000000));
    report("map_vdso_32", raw2(SYS_arch_prctl, ARCH_MAP_VDSO_32, 0x10000000));
    report("map_vdso_x32", raw2(SYS_arch_prctl, ARCH_MAP_VDSO_X32, 0x10000000));
    report("get_xcomp_supp", raw2(SYS_arch_prctl, ARCH_GET_XCOMP_SUPP, (long)&v));
    report("req_xcomp_perm", raw2(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, 18 /* XFEATURE_XTILEDATA */));
    report("shstk_enable", raw2(SYS_arch_prctl, 0x5001 /* ARCH_SHSTK_ENABLE: not in these headers */, 1));
    report("lam_enable", raw2(SYS_arch_prctl, 0x4002 /* ARCH_ENABLE_TAGGED_ADDR: not in these headers */, 6));
    report("code_junk", raw2(SYS_arch_prctl, ARCH_GET_CPUID | (1L << 32), 0));
    report("code_zero", raw2(SYS_arch_prctl, 0, (long)&v));
    report("untouched", v == 0);
    report("get_fs", raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&fs));
    report("fs_is_tp", fs == tp && fs != 0);
    report("get_fs_junk", raw2(SYS_arch_prctl, ARCH_GET_FS | (0xdeadL << 32), (long)&fs_junk));
    report("fs_junk_is_tp", fs_junk == tp);
    report("set_fs_same", raw2(SYS_arch_prctl, ARCH_SET_FS, fs));
    report("get_gs", raw2(SYS_arch_prctl, ARCH_GET_GS, (long)&gs));
    report("gs_is_zero", gs == 0);
    (void)argc;
    (void)argv;
    return 0;
}
