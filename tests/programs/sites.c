/* System call sites of the shapes pack's disassembly (xax_emu/image/syscall_sites.py)
 * finds, or must leave alone, for tests/test_sites.py.  One mode per argv[1]; every line
 * it prints is the same natively and sealed with or without rewriting, but the lines
 * starting "text:", which say what the code reads of its own text.
 *
 *   s_adjacent   mov $39, %eax; syscall                  (getpid)
 *   s_read       mov %rdx, %rdx; xor %eax, %eax; syscall (read: the number is 0)
 *   s_apart      mov $110, %eax; mov %rdi, %rsi; syscall (getppid: the mov not next to it)
 *   s_any        the number in rax from the caller: pack cannot know it (the sixth
 *                argument is 0)
 *   s_mid        mov $39, %eax; L: syscall, and s_mid_with jumps to L with its own number:
 *                a branch into the window, so pack leaves the site alone
 *   s_redzone    a leaf function's red zone around a call */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

long s_adjacent(void);
long s_read(int fd, void *buf, unsigned long n);
long s_apart(void);
long s_any(long nr, long a, long b, long c, long d, long e);
long s_mid(void);
long s_mid_with(long nr);
long s_redzone(void);
extern const unsigned char s_mid_syscall[];

__asm__(".text\n"
        ".globl s_adjacent\n s_adjacent:\n mov $39, %eax\n syscall\n ret\n"
        ".globl s_read\n s_read:\n mov %rdx, %rdx\n xor %eax, %eax\n syscall\n ret\n"
        ".globl s_apart\n s_apart:\n mov $110, %eax\n mov %rdi, %rsi\n syscall\n ret\n"
        ".globl s_any\n s_any:\n mov %rdi, %rax\n mov %rsi, %rdi\n mov %rdx, %rsi\n mov %rcx, %rdx\n"
        " mov %r8, %r10\n mov %r9, %r8\n xor %r9d, %r9d\n syscall\n ret\n"
        ".globl s_mid, s_mid_syscall\n s_mid:\n mov $39, %eax\n s_mid_syscall:\n syscall\n ret\n"
        ".globl s_mid_with\n s_mid_with:\n mov %rdi, %rax\n jmp s_mid_syscall\n"
        ".globl s_redzone\n s_redzone:\n movq $0x1111, -8(%rsp)\n movq $0x2222, -128(%rsp)\n"
        " mov $39, %eax\n syscall\n mov -8(%rsp), %rax\n add -128(%rsp), %rax\n ret\n");

/* Bytes that look like a syscall but lie in data, for a hostile site table to point at. */
const unsigned char not_code[16] = {0x90, 0x90, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xc3};

static void text(const char *name, const void *at)
{
    printf("text: %s: %02x\n", name, *(const unsigned char *)at);
}

static int calls(void)
{
    char buf[8] = {0};
    int p[2];
    if (pipe(p) < 0 || write(p[1], "xyz", 3) != 3)
        return 1;
    printf("getpid agrees: %d\n", s_adjacent() == getpid());
    printf("read: %ld %s\n", s_read(p[0], buf, sizeof buf), buf);
    printf("read of a closed fd: %ld\n", s_read(99, buf, 1));
    printf("getppid agrees: %d\n", s_apart() == getppid());
    printf("any getpid agrees: %d\n", s_any(SYS_getpid, 0, 0, 0, 0, 0) == getpid());
    long m = s_any(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    printf("any mmap: %s\n", m > 0 && *(volatile char *)m == 0 ? "zeroed page" : "failed");
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    long r = s_any(SYS_rt_sigprocmask, SIG_BLOCK, (long)&set, 0, 8, 0);
    sigprocmask(SIG_SETMASK, 0, &old);
    printf("any rt_sigprocmask: %ld, blocked now: %d\n", r, sigismember(&old, SIGUSR1));
    printf("any bad number: %ld\n", s_any(100000, 0, 0, 0, 0, 0));
    printf("mid getpid agrees: %d\n", s_mid() == getpid());
    printf("straight to the syscall with getuid's number agrees: %d\n", s_mid_with(SYS_getuid) == getuid());
    printf("red zone: %lx\n", s_redzone());
    return 0;
}

static int fork_mode(int use_vfork)
{
    pid_t pid = use_vfork ? vfork() : fork();
    if (pid == 0)
        _exit(s_adjacent() == getpid() && s_apart() > 0 ? 7 : 1);
    int status = 0;
    waitpid(pid, &status, 0);
    printf("%s child exit: %d, parent getpid agrees: %d\n", use_vfork ? "vfork" : "fork", WEXITSTATUS(status),
           s_adjacent() == getpid());
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "calls";
    setvbuf(stdout, 0, _IONBF, 0);
    /* What the code sees of its own text before any of these sites has run once. */
    text("s_adjacent", s_adjacent);
    text("s_read", s_read);
    text("s_mid", s_mid);
    text("data", not_code + 2);
    if (!strcmp(mode, "calls"))
        return calls();
    if (!strcmp(mode, "fork"))
        return fork_mode(0);
    if (!strcmp(mode, "vfork"))
        return fork_mode(1);
    return 2;
}
