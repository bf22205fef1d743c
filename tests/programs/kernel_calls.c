/* Makes known numbers of the system calls the seccomp allowlist lets through
 * (with arguments it allows), and a few with arguments it does not (those
 * trap to the layer), and prints what it made.  `xax-emu trace` must count
 * exactly the allowed ones as reaching the kernel: the test compares its
 * counts with strace of the native run, filtered through the allowlist. */
#include <linux/futex.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ARCH_GET_FS 0x1003 /* <asm/prctl.h> */

int main(void)
{
    long pages[4];
    for (int i = 0; i < 4; i++)
        pages[i] = syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 3; i++)
        syscall(SYS_mprotect, pages[i], 4096, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE);
    for (int i = 0; i < 2; i++)
        syscall(SYS_madvise, pages[3], 4096, MADV_DONTNEED);
    for (int i = 0; i < 4; i++)
        syscall(SYS_munmap, pages[i], 4096);
    int word = 0;
    for (int i = 0; i < 5; i++)
        syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    struct timespec ts;
    for (int i = 0; i < 6; i++) /* not through the vDSO: the system call itself */
        syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    unsigned long fs = 0;
    syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);

    /* The same calls with arguments the allowlist refuses: each traps to the layer. */
    long shared = syscall(SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    syscall(SYS_futex, &word, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0); /* priority inheritance: refused */
    syscall(SYS_clock_gettime, -2 /* the CPU clock of process 0 */, &ts);
    syscall(SYS_madvise, pages[3], 4096, 12 /* MADV_MERGEABLE */);

    printf("mmap = 4\nmprotect = 3\nmadvise = 2\nmunmap = 4\nfutex = 5\nclock_gettime = 6\narch_prctl = 1\n");
    printf("refused = 4 (shared mmap %s)\n", shared == -1 ? "failed" : "succeeded");
    return 0;
}
