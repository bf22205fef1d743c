/* Past the trap: rewriting a system call site, at its first trap, into a jump
 * to the layer (issue 15, the first way; DESIGN.md invariant 9).
 *
 * The one shape rewritten is the one compilers and libcs emit for a call whose
 * number is a constant:
 *
 *     site:    b8 NN NN NN NN    mov $NR, %eax
 *     site+5:  0f 05             syscall          <- the kernel's SIGSYS names site+7
 *
 * Only the mov is replaced, by a `jmp rel32` of the same five bytes to a stub
 * of this site's own; the syscall instruction stays as it was.  So:
 *
 * - A branch to the syscall itself (the number set elsewhere) still executes
 *   `syscall` and traps as before: only a path through the mov is rewritten,
 *   and every path through the mov sets eax to NR.  A branch to the mov runs
 *   the stub, which sets eax to NR as the mov would.
 * - The stub (STUB below) steps over the red zone (lea -128(%rsp)) before its
 *   `call` pushes anything, calls xax_direct_entry (direct.S), and jumps back
 *   to site+7 with rcx = site+7 as `syscall` sets it.
 * - Other threads: the five bytes are written with one locked
 *   compare-and-exchange of the aligned 8- or 16-byte block holding them (sites
 *   whose five bytes straddle two 16-byte blocks keep trapping), so another CPU
 *   fetches either the old mov or the new jmp, never a mix — and both are
 *   correct code.
 * - W^X: the program's text is read-only; its page is made writable for the
 *   store and read-only again (mprotect, which the seal allows for any of the
 *   picoprocess's own memory: a private mapping's written page is the process's
 *   own copy, the image file never changes).  Stub pages are written while not
 *   executable and made executable before any site jumps to them, never
 *   written again (one page per stub).
 *
 * What a site must show before it is rewritten: the trap came from the
 * program's code (not the runtime's); the bytes are exactly the shape above;
 * the byte before the mov is no prefix (so that `41 b8` — mov $imm, %r8d — is
 * not mistaken for it); the mov's immediate, the trapped number and the whole
 * of rax all agree; the number is one the filter never allows in any form (so
 * that every call through the site would have trapped: the Monitor lists the
 * others in the rewrite= setting) and one whose handling never needs the
 * SIGSYS frame (DIRECT_NEVER).  What no check on bytes can prove is that site
 * starts an instruction rather than ends one (`8d b8 NN NN NN NN`, lea
 * NN(%rax), %edi, would also match, given rax == NN); docs/rewrite.md says why
 * that case is left, and run --no-rewrite turns all of this off. */
#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/mman.h>

#include "../lib/lock.h"
#include "../lib/sys.h"
#include "rewrite.h"
#include "rewrite_frame.h"
#include "user.h"
#include "xax_protocol.h"
#include "xax_runtime.h"

#define PAGE 4096UL
#define NR_MAX 512
#define MAX_STUBS 4096
#define NEAR (1UL << 30) /* a stub within 1 GiB of its site: well inside rel32's reach both ways */

uint64_t xax_direct_secret;
static int enabled;
/* Numbers the filter allows in some form, and the DIRECT_NEVER ones: never through
 * the layer directly (direct.S's generic entry reads it too). */
uint64_t pal_may_allow[NR_MAX / 64];
#define may_allow pal_may_allow
_Static_assert(NR_MAX == PAL_NR_MAX, "direct.S's bound");
static xax_lock lock;
static unsigned nstubs;
/* Sites that passed every check but found no room for their stub: not tried again
 * (each try probes up to 256 pages).  A small open-addressed set; when full, they
 * are tried again, which only costs time. */
#define FAILED_SLOTS 1024
static uintptr_t failed[FAILED_SLOTS];

static uintptr_t *failed_slot(uintptr_t site)
{
    unsigned h = (unsigned)((site * 0x9E3779B97F4A7C15UL) >> 54) % FAILED_SLOTS;
    for (unsigned i = 0; i < 16; i++) {
        uintptr_t *s = &failed[(h + i) % FAILED_SLOTS];
        if (*s == site || *s == 0)
            return s;
    }
    return 0;
}
static struct pal_rewrite_stats stats;

/* Calls whose handlers need the SIGSYS frame (the signal mask kept in it, a
 * handler entered on it: layer/sys_signal.c) or end or leave the calling
 * context; test_rewrite.py checks that these cover every handler using c->uc. */
static const int DIRECT_NEVER[] = {
    __NR_rt_sigprocmask, __NR_rt_sigreturn, __NR_sigaltstack, __NR_kill, __NR_tkill,
    __NR_tgkill, __NR_rt_sigsuspend, __NR_exit, __NR_exit_group, __NR_clone, __NR_clone3, __NR_fork,
    __NR_vfork, __NR_execve, __NR_execveat,
};

static int parse_numbers(const char *s)
{
    while (*s) {
        unsigned n = 0;
        if (*s < '0' || *s > '9')
            return -1;
        while (*s >= '0' && *s <= '9')
            n = n * 10 + (unsigned)(*s++ - '0');
        if (n < NR_MAX)
            may_allow[n / 64] |= 1UL << (n % 64);
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return 0;
}

void pal_rewrite_init(const char *setting, const uint8_t random[32])
{
    if (!setting || parse_numbers(setting) < 0)
        return;
    memcpy(&xax_direct_secret, random + 24, 8);
    xax_direct_secret |= 1; /* never 0, the unmarked value */
    for (unsigned i = 0; i < sizeof DIRECT_NEVER / sizeof DIRECT_NEVER[0]; i++)
        may_allow[DIRECT_NEVER[i] / 64] |= 1UL << (DIRECT_NEVER[i] % 64);
    pal_signals_wrap();
    enabled = 1;
}

int pal_rewrite_enabled(void)
{
    return enabled;
}

struct pal_rewrite_stats pal_rewrite_stats(void)
{
    return stats;
}

/* -- the direct path -------------------------------------------------------- */

long pal_direct(struct pal_direct_frame *f)
{
    struct layer_call c = {.nr = (long)f->nr, .uc = 0, .held = &f->ndeferred};
    for (int i = 0; i < 6; i++)
        c.a[i] = f->a[i];
    __atomic_add_fetch(&stats.direct, 1, __ATOMIC_RELAXED);
    f->result = pal_syscall(&c);
    if (xax_boot->flags & XAX_BOOT_FLAG_TRACE) /* after the call's own event: which way it came */
        pal_trace((int)c.nr, XAX_TRACE_DIRECT);
    pal_direct_deliver(f);
    return f->result;
}

/* The signals held back while the call ran, each entered as the call returns. */
void pal_direct_deliver(struct pal_direct_frame *f)
{
    while (__atomic_load_n(&f->ndeferred, __ATOMIC_RELAXED))
        pal_direct_trap(f);
}

/* -- rewriting a site ------------------------------------------------------- */

static int is_prefix(uint8_t b)
{
    return (b >= 0x40 && b <= 0x4f) || b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 ||
           b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65;
}

/* lea -128(%rsp),%rsp; call *entry(%rip); lea 128(%rsp),%rsp; lea back(%rip),%rcx; jmp back; entry */
enum { STUB_MOV = 0, STUB_CALL = 5, STUB_LEA_UP = 16, STUB_RCX = 24, STUB_JMP = 31, STUB_ENTRY = 40, STUB_SIZE = 48 };

static void put32(uint8_t *p, int32_t v)
{
    memcpy(p, &v, 4);
}

static void write_stub(uint8_t *s, uintptr_t at, uint32_t nr, uintptr_t back)
{
    static const uint8_t down[5] = {0x48, 0x8d, 0x64, 0x24, 0x80};
    static const uint8_t up[8] = {0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00};
    s[STUB_MOV] = 0xb8;
    memcpy(s + 1, &nr, 4);
    memcpy(s + STUB_MOV + 5, down, 5);
    s[STUB_CALL + 5] = 0xff, s[STUB_CALL + 6] = 0x15;
    put32(s + STUB_CALL + 7, STUB_ENTRY - (STUB_CALL + 11));
    memcpy(s + STUB_LEA_UP, up, 8);
    s[STUB_RCX] = 0x48, s[STUB_RCX + 1] = 0x8d, s[STUB_RCX + 2] = 0x0d;
    put32(s + STUB_RCX + 3, (int32_t)(back - (at + STUB_RCX + 7)));
    s[STUB_JMP] = 0xe9;
    put32(s + STUB_JMP + 1, (int32_t)(back - (at + STUB_JMP + 5)));
    for (int i = STUB_JMP + 5; i < STUB_ENTRY; i++)
        s[i] = 0xcc;
    uintptr_t entry = (uintptr_t)xax_direct_entry;
    memcpy(s + STUB_ENTRY, &entry, 8);
}
_Static_assert(STUB_MOV + 5 + 5 == STUB_CALL + 5 && STUB_CALL + 11 == STUB_LEA_UP, "stub layout");

static uintptr_t distance(uintptr_t a, uintptr_t b)
{
    return a > b ? a - b : b - a;
}

static uint8_t *map_page_at(uintptr_t at)
{
    long m = sys6(__NR_mmap, (long)at, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                  -1, 0);
    return m == (long)at ? (uint8_t *)m : 0;
}

/* A fresh page for site's stub, not executable yet (MAP_FIXED_NOREPLACE never
 * replaces anything of the program's).  `within`: 0, anywhere within NEAR of the
 * site, the first free page found 2 MiB steps away, below and then above; else the
 * jump's displacement must be below `within` (the high bytes it leaves as they
 * were: see block_of), the first free page found 64 KiB steps above the site. */
static uint8_t *page_near(uintptr_t site, uintptr_t within)
{
    if (within) {
        uintptr_t first = (site + 5 + PAGE - 1) & ~(PAGE - 1);
        for (uintptr_t at = first; at - (site + 5) < within && at < (1UL << 47) - PAGE; at += 64 * 1024) {
            uint8_t *p = map_page_at(at);
            if (p)
                return p;
        }
        return 0;
    }
    uintptr_t base = site & ~((2UL << 20) - 1);
    for (int k = 1; k <= 256; k++)
        for (int dir = -1; dir <= 1; dir += 2) {
            uintptr_t at = base + (uintptr_t)(dir * k) * (2UL << 20);
            if (at < (1UL << 20) || at >= (1UL << 47) - PAGE || distance(at, site) >= NEAR)
                continue;
            uint8_t *p = map_page_at(at);
            if (p)
                return p;
        }
    return 0;
}

static uintptr_t make_stub(uintptr_t site, uint32_t nr, uintptr_t within)
{
    if (nstubs >= MAX_STUBS)
        return 0;
    uint8_t *page = page_near(site, within);
    if (!page)
        return 0;
    write_stub(page, (uintptr_t)page, nr, site + 7);
    if (sys3(__NR_mprotect, (long)page, PAGE, PROT_READ | PROT_EXEC) < 0) {
        sys2(__NR_munmap, (long)page, PAGE);
        return 0;
    }
    nstubs++;
    return (uintptr_t)page;
}

/* The aligned block the five bytes at site lie in, and its size: an 8-byte word
 * if they fit one, else a 16-byte one if they fit that; 0: they straddle two.
 * One straddling case is taken too: four bytes in a 16-byte block and the fifth
 * in the next, a 0 (the high byte of a number below 2^24): the jump's
 * displacement is then kept below 2^24 (`*within`), so that its own high byte is
 * that 0 and only the four bytes in the block change. */
static unsigned block_of(uintptr_t site, uintptr_t *block, uintptr_t *within)
{
    *within = 0;
    if ((site & 7) <= 3)
        return *block = site & ~7UL, 8;
    if ((site & 15) <= 11)
        return *block = site & ~15UL, 16;
    if ((site & 15) == 12) {
        *within = 1UL << 24;
        return *block = site & ~15UL, 16;
    }
    return 0;
}

/* One locked compare-and-exchange of the whole block: another CPU sees the old
 * bytes or the new ones, never a mix. */
static int swap_block(uintptr_t block, unsigned size, uint64_t old[2], const uint64_t new_[2])
{
    if (size == 8)
        return __atomic_compare_exchange_n((uint64_t *)block, &old[0], new_[0], 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    unsigned char ok;
    __asm__ volatile("lock cmpxchg16b %1\n\tsete %0"
                     : "=q"(ok), "+m"(*(volatile uint64_t(*)[2])block), "+a"(old[0]), "+d"(old[1])
                     : "b"(new_[0]), "c"(new_[1])
                     : "memory", "cc");
    return ok;
}

/* The five bytes at site become `jmp stub`, in one store of their aligned block
 * (`old` holds the block as it was read). */
static int patch(uintptr_t site, uintptr_t stub, uintptr_t block, unsigned size, uint64_t old[2])
{
    uintptr_t page = block & ~(PAGE - 1);
    uint8_t jmp[5] = {0xe9};
    int32_t rel = (int32_t)(stub - (site + 5));
    memcpy(jmp + 1, &rel, 4);
    unsigned inside = (unsigned)(block + size - site) < 5 ? (unsigned)(block + size - site) : 5;
    uint8_t beyond[5];
    if (inside < 5 && (pal_copy_in(beyond, (const void *)(block + size), 5 - inside) ||
                       memcmp(beyond, jmp + inside, 5 - inside) != 0))
        return -1; /* the bytes past the block must already be the jump's */
    uint64_t want[2] = {old[0], old[1]};
    memcpy((uint8_t *)want + (site - block), jmp, inside);
    int made_writable = 0;
    if (pal_writable((void *)block, size) != size) { /* read-only text: writable for the store only */
        if (sys3(__NR_mprotect, (long)page, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC) < 0)
            return -1;
        made_writable = 1;
    }
    int ok = swap_block(block, size, old, want);
    if (made_writable && sys3(__NR_mprotect, (long)page, PAGE, PROT_READ | PROT_EXEC) < 0)
        pal_fail(XAX_FAILURE_RUNTIME, "cannot make a rewritten page of the program read-only again");
    return ok ? 0 : -1;
}

void pal_rewrite_site(long nr, uintptr_t rip, uint64_t rax)
{
    __atomic_add_fetch(&stats.trapped, 1, __ATOMIC_RELAXED);
    if (!enabled || nr < 0 || nr >= NR_MAX || (may_allow[nr / 64] >> (nr % 64) & 1) || rax != (uint64_t)nr)
        return;
    uintptr_t site = rip - 7, block, within;
    unsigned size;
    if (rip < PAGE + 16 || pal_in_runtime(site) || !(size = block_of(site, &block, &within)))
        return;
    uint8_t b[8];
    if (pal_copy_in(b, (const void *)(rip - 8), 8))
        return;
    uint32_t imm;
    memcpy(&imm, b + 2, 4);
    if (is_prefix(b[0]) || b[1] != 0xb8 || b[6] != 0x0f || b[7] != 0x05 || imm != (uint32_t)nr)
        return;
    xax_lock_take(&lock);
    uint64_t old[2] = {0, 0};
    const uint8_t *now = (const uint8_t *)old + (site - block);
    uintptr_t *seen = failed_slot(site);
    if (seen && *seen == site) {
        xax_lock_give(&lock);
        return;
    }
    if (pal_copy_in(old, (const void *)block, size) == 0 && now[0] == 0xb8) { /* not rewritten by another thread meanwhile */
        uintptr_t stub = make_stub(site, (uint32_t)nr, within);
        if (!stub && seen)
            *seen = site;
        if (stub && patch(site, stub, block, size, old) == 0) {
            stats.sites++;
            if (xax_boot->flags & XAX_BOOT_FLAG_TRACE)
                pal_trace((int)nr, XAX_TRACE_REWRITTEN);
        }
    }
    xax_lock_give(&lock);
}
