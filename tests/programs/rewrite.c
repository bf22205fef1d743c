/* What rewriting system call sites (runtime_c/pal/rewrite.c) must get right, one
 * mode per argv[1]; every line it prints is the same natively, sealed with
 * rewriting and sealed without, except "site:" lines, which show what code that
 * reads its own text sees (the jmp where the mov was, once rewritten).
 *
 *   boundary  a site's mov and syscall called as a function, then its syscall
 *             jumped to straight, with eax set elsewhere (another number)
 *   redzone   a leaf function's red zone holds its values across a rewritten call
 *   threads   threads all calling one site as it is rewritten under them
 *   signals   a handler making the same call interrupts a thread in it, 2000 times
 *   outside   the same with SIGUSR1 sent from outside (the test): prints "ready",
 *             then calls the site until 300 signals were handled
 *   blocks    sites at 6, 12 and 13 bytes into a 16-byte block: the first is rewritten
 *             with one 16-byte store; the second too, its fifth byte (past the block)
 *             the 0 its jump's displacement keeps; the third straddles two blocks
 *             and keeps trapping
 *   hostile   the layer's direct entry called with a number a stub never sets
 *   channel   writes to stdout through a site (each an exchange with the Monitor) while
 *             the test sends SIGUSR1 from outside, its handler installed without
 *             SA_RESTART: prints "ready", then writes "." until 300 signals were handled */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

long site_getpid(void);          /* mov $SYS_getpid,%eax; syscall; ret */
extern const unsigned char site_getpid_syscall[];
long jump_to_syscall(long nr);   /* eax = nr; jmp to site_getpid's syscall */
long site_getuid(void);          /* another site, for the handler */
long redzone_leaf(void);         /* red zone filled, the site called, how many slots changed */
long call_direct(void *entry, long nr, long a0, long a1);
long site_at_6(void), site_at_12(void), site_at_13(void);
long site_write(int fd, const void *buf, unsigned long len); /* mov $SYS_write,%eax; syscall; ret */
extern const unsigned char site_at_6_mov[], site_at_12_mov[], site_at_13_mov[];

#define STR(x) #x
#define XSTR(x) STR(x)
__asm__(".text\n"
        ".balign 8\n"
        "site_getpid: mov $" XSTR(SYS_getpid) ", %eax\n"
        "site_getpid_syscall: syscall\n"
        "    ret\n"
        "jump_to_syscall: mov %edi, %eax\n"
        "    jmp site_getpid_syscall\n"
        ".balign 8\n"
        "site_getuid: mov $" XSTR(SYS_getuid) ", %eax\n"
        "    syscall\n"
        "    ret\n"
        ".balign 8\n"
        "site_write: mov $" XSTR(SYS_write) ", %eax\n"
        "    syscall\n"
        "    ret\n"
        ".balign 8\n"
        "redzone_leaf:\n"
        "    mov $0x5a5a5a5a00000000, %rcx\n"
        "    .irp i,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n"
        "    lea \\i(%rcx), %rdx\n"
        "    mov %rdx, -8*\\i(%rsp)\n"
        "    .endr\n"
        "    jmp 1f\n"
        ".balign 8\n"
        "1:  mov $" XSTR(SYS_getpid) ", %eax\n"
        "    syscall\n"
        "    xor %eax, %eax\n"
        "    mov $0x5a5a5a5a00000000, %rcx\n"
        "    .irp i,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n"
        "    lea \\i(%rcx), %rdx\n"
        "    cmp %rdx, -8*\\i(%rsp)\n"
        "    setne %dl\n"
        "    movzbl %dl, %edx\n"
        "    add %rdx, %rax\n"
        "    .endr\n"
        "    ret\n"
        ".balign 16\n"
        "site_at_6: .skip 6, 0x90\n"
        "site_at_6_mov: mov $" XSTR(SYS_getpid) ", %eax\n"
        "    syscall\n"
        "    ret\n"
        ".balign 16\n"
        "site_at_12: .skip 12, 0x90\n"
        "site_at_12_mov: mov $" XSTR(SYS_getpid) ", %eax\n"
        "    syscall\n"
        "    ret\n"
        ".balign 16\n"
        "site_at_13: .skip 13, 0x90\n"
        "site_at_13_mov: mov $" XSTR(SYS_getpid) ", %eax\n"
        "    syscall\n"
        "    ret\n"
        /* rdi = entry, rsi = nr, rdx, rcx = the call's first two arguments */
        "call_direct: mov %rdi, %r11\n"
        "    mov %esi, %eax\n"
        "    mov %rdx, %rdi\n"
        "    mov %rcx, %rsi\n"
        "    lea -128(%rsp), %rsp\n"
        "    call *%r11\n"
        "    lea 128(%rsp), %rsp\n"
        "    ret\n");

static void show_site(const char *when)
{
    const unsigned char *site = site_getpid_syscall - 5;
    printf("site: %s: %s\n", when, site[0] == 0xb8 ? "mov" : site[0] == 0xe9 ? "jmp" : "other");
}

static int boundary(void)
{
    show_site("before");
    long a = site_getpid();
    show_site("after one call");
    long b = site_getpid();
    long uid = jump_to_syscall(SYS_getuid);
    long pid = jump_to_syscall(SYS_getpid);
    printf("same pid twice: %d\n", a == b && a == getpid());
    printf("straight to the syscall with getuid's number: %d\n", uid == (long)getuid());
    printf("straight to the syscall with getpid's number: %d\n", pid == a);
    return 0;
}

static int redzone(void)
{
    long first = redzone_leaf(), second = redzone_leaf();
    printf("red zone slots changed: %ld then %ld\n", first, second);
    return 0;
}

enum { THREADS = 4, CALLS = 20000 };
static volatile int start;
static long expected;

static void *hammer(void *arg)
{
    (void)arg;
    while (!start)
        ;
    long wrong = 0;
    for (int i = 0; i < CALLS; i++)
        wrong += site_getpid() != expected;
    return (void *)wrong;
}

static int threads(void)
{
    expected = getpid();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], 0, hammer, 0))
            return 1;
    start = 1;
    long wrong = (long)hammer(0);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        wrong += (long)r;
    }
    printf("threads: %d x %d calls, wrong answers: %ld\n", THREADS + 1, CALLS, wrong);
    return 0;
}

enum { SIGNALS = 2000 };
static volatile long handled, handler_wrong;
static pthread_t main_thread;

static void on_usr1(int sig)
{
    (void)sig;
    handler_wrong += site_getuid() != (long)getuid() || site_getpid() != expected;
    handled++;
}

static void *sender(void *arg)
{
    (void)arg;
    for (long n = 1; n <= SIGNALS; n++) {
        pthread_kill(main_thread, SIGUSR1);
        while (handled < n)
            ;
    }
    return 0;
}

static int signals(void)
{
    expected = getpid();
    main_thread = pthread_self();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, 0);
    pthread_t t;
    if (pthread_create(&t, 0, sender, 0))
        return 1;
    long wrong = 0, calls = 0;
    while (handled < SIGNALS) {
        wrong += site_getpid() != expected;
        calls++;
    }
    pthread_join(t, 0);
    printf("signals handled: %ld, wrong in the handler: %ld, wrong outside: %ld\n", handled, handler_wrong, wrong);
    return 0;
}

static int outside(void)
{
    expected = getpid();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, 0);
    printf("ready\n");
    long wrong = 0;
    while (handled < 300)
        wrong += site_getpid() != expected;
    printf("signals handled: at least 300, wrong in the handler: %ld, wrong outside: %ld\n", handler_wrong, wrong);
    return 0;
}

static volatile long interruptions;

static void count_usr1(int sig)
{
    (void)sig;
    interruptions++;
}

static int channel(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa); /* no SA_RESTART: as dash installs its SIGCHLD handler */
    sa.sa_handler = count_usr1;
    sigaction(SIGUSR1, &sa, 0);
    printf("ready\n");
    long failed = 0;
    while (interruptions < 300)
        failed += site_write(1, ".", 1) != 1;
    printf("\nchannel: failed writes: %ld\n", failed);
    return 0;
}

static const char *kind(const unsigned char *site)
{
    return site[0] == 0xb8 ? "mov" : site[0] == 0xe9 ? "jmp" : "other";
}

static int blocks(void)
{
    long pid = getpid(), wrong = 0;
    for (int i = 0; i < 3; i++)
        wrong += (site_at_6() != pid) + (site_at_12() != pid) + (site_at_13() != pid);
    printf("site: 6 bytes into a block: %s\nsite: 12 bytes into a block: %s\nsite: 13 bytes into a block: %s\n",
           kind(site_at_6_mov), kind(site_at_12_mov), kind(site_at_13_mov));
    printf("wrong answers: %ld\n", wrong);
    return 0;
}

/* A program that finds the layer's direct entry (through a rewritten site's stub)
 * and calls it with any number gets what the same call gets when it traps: the
 * layer is no boundary, the seal is (DESIGN.md invariant 9). */
static int hostile(void)
{
    site_getpid();
    site_getpid();
    const unsigned char *site = site_getpid_syscall - 5;
    if (site[0] != 0xe9) {
        printf("no stub\n");
        return 0;
    }
    int32_t rel;
    memcpy(&rel, site + 1, 4);
    const unsigned char *stub = site + 5 + rel;
    void *entry;
    memcpy(&entry, stub + 40, 8);
    long direct_kill = call_direct(entry, SYS_kill, 1, SIGKILL);
    long trapped_kill = syscall(SYS_kill, 1, SIGKILL) < 0 ? -errno : 0;
    long direct_ptrace = call_direct(entry, SYS_ptrace, 0, 0);
    long trapped_ptrace = syscall(SYS_ptrace, 0, 0) < 0 ? -errno : 0;
    printf("direct kill(1, SIGKILL): %ld, trapped: %ld\n", direct_kill, trapped_kill);
    printf("direct ptrace: %ld, trapped: %ld\n", direct_ptrace, trapped_ptrace);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "boundary"))
        return boundary();
    if (!strcmp(mode, "redzone"))
        return redzone();
    if (!strcmp(mode, "threads"))
        return threads();
    if (!strcmp(mode, "signals"))
        return signals();
    if (!strcmp(mode, "outside"))
        return outside();
    if (!strcmp(mode, "blocks"))
        return blocks();
    if (!strcmp(mode, "hostile"))
        return hostile();
    if (!strcmp(mode, "channel"))
        return channel();
    return 2;
}
