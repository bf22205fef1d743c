/* Past the trap, ahead of time: the image's site table (.xax/sites, written by pack from
 * a disassembly of its ELF files: xax_emu/image/syscall_sites.py) names, for each
 * `syscall` it could prove safe, a window of whole instructions around it.  As the
 * PAL's loader or the layer's mmap maps executable bytes of an ELF file of the image,
 * every window lying there becomes `jmp stub` (the window's other bytes int3), before
 * any code runs from the new mapping: no other thread can be executing it, so plain
 * stores do, at any alignment (the lazy rewriter, rewrite.c, has to use one atomic
 * store of an aligned block because it patches code that may be running).
 *
 * A stub runs the window's instructions before the syscall as they are, calls the
 * generic entry (direct.S), sets rcx as `syscall` would, runs the instructions after
 * it and jumps back past the window:
 *
 *   pre...                       the window's bytes before the syscall
 *   lea -128(%rsp),%rsp          over the red zone
 *   call *slot(%rip)             xax_direct_generic: the layer answers, or ...
 *   N: lea 128(%rsp),%rsp
 *      lea after_syscall(%rip),%rcx
 *      post..., nops             the window's bytes after the syscall
 *      jmp back
 *   F: lea 128(%rsp),%rsp        ... it returns here (N + PAL_SITE_FALLBACK) for a
 *      syscall                   number the filter may allow: the real call, from here
 *      post..., nops
 *      jmp back
 *   slot: &xax_direct_generic
 *
 * The table is the image's, as untrusted as its code.  The Monitor checks it
 * (validate.py: every window inside an ELF file's executable segment, `0f 05` at its
 * syscall), and so does this file before patching: a window must lie wholly inside
 * both the bytes just mapped and the file they come from, outside the runtime's own
 * code, with `0f 05` where the table says the syscall is; entries must be sorted and
 * apart.  That the window's other bytes are whole instructions the stub may move is
 * pack's proof, which no check here can repeat: a table lying about it changes only
 * how the image's own code runs (docs/rewrite.md, "The site table"). */
#include <asm/unistd.h>
#include <linux/elf.h>
#include <linux/mman.h>

#include "../lib/lock.h"
#include "../lib/sys.h"
#include "loader.h"
#include "rewrite.h"
#include "rewrite_frame.h"
#include "user.h"
#include "xax_image.h"
#include "xax_protocol.h"
#include "xax_runtime.h"

_Static_assert(PAL_IMAGE_FD == XAX_IMAGE_FD, "direct.S's image fd");
_Static_assert(PAL_MAP_ANONYMOUS == MAP_ANONYMOUS, "direct.S's MAP_ANONYMOUS");

#define PAGE 4096UL
#define WMAX XAX_IMAGE_SITES_WINDOW_MAX
enum { STUB_SIZE = 128, PER_PAGE = PAGE / STUB_SIZE };

struct site_entry {
    uint64_t at;
    uint8_t len, sys;
    uint16_t nr;
    uint32_t zero;
};
_Static_assert(sizeof(struct site_entry) == XAX_IMAGE_SITES_ENTRY, "format.py's entry");

static const struct site_entry *table;
static uint64_t count;
static xax_lock lock;
static uint64_t applied;

void pal_sites_load(const void *data, uint64_t size)
{
    const unsigned char *p = data;
    uint32_t n, zero;
    if (!pal_rewrite_enabled() || size < XAX_IMAGE_SITES_HEADER ||
        memcmp(p, XAX_IMAGE_SITES_MAGIC, 8) != 0)
        return;
    memcpy(&n, p + 8, 4);
    memcpy(&zero, p + 12, 4);
    if (zero || n > XAX_IMAGE_SITES_MAX || size != XAX_IMAGE_SITES_HEADER + (uint64_t)n * XAX_IMAGE_SITES_ENTRY ||
        (uintptr_t)(p + XAX_IMAGE_SITES_HEADER) % 8)
        return;
    table = (const struct site_entry *)(p + XAX_IMAGE_SITES_HEADER);
    count = n;
}

uint64_t pal_sites_applied(void)
{
    return __atomic_load_n(&applied, __ATOMIC_RELAXED);
}

/* The first entry at or after `at`. */
static uint64_t first_at(uint64_t at)
{
    uint64_t lo = 0, hi = count;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (table[mid].at < at)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void put32(uint8_t *p, int32_t v)
{
    memcpy(p, &v, 4);
}

/* post bytes, nops to WMAX - 2, then jmp back; at s, which lies at address `at` */
static unsigned tail(uint8_t *s, uintptr_t at, const uint8_t *post, unsigned npost, uintptr_t back)
{
    unsigned k = 0;
    memcpy(s, post, npost);
    for (k = npost; k < WMAX - 2; k++)
        s[k] = 0x90;
    s[k] = 0xe9;
    put32(s + k + 1, (int32_t)(back - (at + k + 5)));
    return k + 5;
}

/* The stub for the window at `site` (its bytes in w), written at s, which will lie at `at`. */
static void write_stub(uint8_t *s, uintptr_t at, uintptr_t site, const uint8_t *w, unsigned len, unsigned sys)
{
    static const uint8_t down[5] = {0x48, 0x8d, 0x64, 0x24, 0x80};
    static const uint8_t up[8] = {0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00};
    unsigned k = sys, slot = STUB_SIZE - 8;
    uintptr_t back = site + len;
    memset(s, 0xcc, STUB_SIZE);
    memcpy(s, w, sys);
    memcpy(s + k, down, 5), k += 5;
    s[k] = 0xff, s[k + 1] = 0x15;
    put32(s + k + 2, (int32_t)(slot - (k + 6)));
    k += 6;
    unsigned normal = k;
    memcpy(s + k, up, 8), k += 8;
    s[k] = 0x48, s[k + 1] = 0x8d, s[k + 2] = 0x0d;
    put32(s + k + 3, (int32_t)(site + sys + 2 - (at + k + 7)));
    k += 7;
    k += tail(s + k, at + k, w + sys + 2, len - sys - 2, back);
    if (k - normal != PAL_SITE_FALLBACK)
        pal_fail(XAX_FAILURE_RUNTIME, "sites.c: the stub's fallback is not where direct.S returns");
    memcpy(s + k, up, 8), k += 8;
    s[k] = 0x0f, s[k + 1] = 0x05, k += 2;
    k += tail(s + k, at + k, w + sys + 2, len - sys - 2, back);
    uintptr_t entry = (uintptr_t)xax_direct_generic;
    memcpy(s + slot, &entry, 8);
}
_Static_assert(WMAX - 2 + 5 + 6 + 8 + 7 + (WMAX - 2 + 5) + 8 + 2 + (WMAX - 2 + 5) + 8 <= STUB_SIZE, "a stub fits");
_Static_assert(8 + 7 + (WMAX - 2 + 5) == PAL_SITE_FALLBACK, "direct.S's fallback offset");

/* Is the window [site, site + len) one this process may patch: the table's bytes there? */
static int window_ok(uintptr_t site, const struct site_entry *e, uint8_t w[WMAX])
{
    if (e->len < 5 || e->len > WMAX || e->sys + 2u > e->len || pal_in_runtime(site) ||
        pal_in_runtime(site + e->len - 1))
        return 0;
    return pal_copy_in(w, (const void *)site, e->len) == 0 && w[e->sys] == 0x0f && w[e->sys + 1] == 0x05;
}

/* The program's text [lo, hi) writable for the patches, then given back `prot`. */
static int text_writable(uintptr_t lo, uintptr_t hi)
{
    lo &= ~(PAGE - 1), hi = (hi + PAGE - 1) & ~(PAGE - 1);
    return sys3(__NR_mprotect, (long)lo, (long)(hi - lo), PROT_READ | PROT_WRITE) < 0 ? -1 : 0;
}

static void text_done(uintptr_t lo, uintptr_t hi, uint64_t prot)
{
    lo &= ~(PAGE - 1), hi = (hi + PAGE - 1) & ~(PAGE - 1);
    if (sys3(__NR_mprotect, (long)lo, (long)(hi - lo), (long)prot) < 0)
        pal_fail(XAX_FAILURE_RUNTIME, "cannot give a rewritten page of the program its protection again");
}

/* A fresh page for stubs within 1 GiB of `site`, not executable yet: the next one of an
 * arena of ARENA pages (reserved together, so that a library's few stub pages cost one
 * search for free room near it, not one each); each page is written once and then made
 * executable, never written again. */
#define ARENA 64
#define NEAR (1UL << 30)
static uintptr_t arena, arena_left;

static uintptr_t distance(uintptr_t a, uintptr_t b)
{
    return a > b ? a - b : b - a;
}

static uint8_t *stub_page(uintptr_t site)
{
    if (!arena_left || distance(arena, site) >= NEAR / 2) {
        uintptr_t base = site & ~((2UL << 20) - 1);
        arena_left = 0;
        for (int k = 1; k <= 128 && !arena_left; k++)
            for (int dir = -1; dir <= 1 && !arena_left; dir += 2) {
                uintptr_t at = base + (uintptr_t)(dir * k) * (2UL << 20);
                if (at < (1UL << 20) || at >= (1UL << 47) - ARENA * PAGE || distance(at, site) >= NEAR / 2)
                    continue;
                long m = sys6(__NR_mmap, (long)at, ARENA * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
                if (m == (long)at)
                    arena = at, arena_left = ARENA;
                else if (m >= 0 && (unsigned long)m < -4096UL)
                    sys2(__NR_munmap, m, ARENA * PAGE); /* a kernel without FIXED_NOREPLACE placed it elsewhere */
            }
        if (!arena_left)
            return 0;
    }
    uint8_t *page = (uint8_t *)arena;
    arena += PAGE, arena_left--;
    return page;
}

/* Stubs for up to PER_PAGE windows from entries [i, j), in one page near them. */
static void apply_run(uintptr_t addr, uint64_t image_off, uint64_t i, uint64_t j, uint64_t prot)
{
    uintptr_t first = addr + (table[i].at - image_off);
    uint8_t *page = stub_page(first);
    if (!page)
        return; /* no room within reach: these sites keep trapping (or the lazy rewriter takes them) */
    uintptr_t sites[PER_PAGE];
    unsigned n = 0;
    for (uint64_t k = i; k < j; k++) {
        uint8_t w[WMAX];
        uintptr_t site = addr + (table[k].at - image_off);
        uintptr_t at = (uintptr_t)page + n * STUB_SIZE;
        if (site - first >= (1UL << 29) || !window_ok(site, &table[k], w))
            continue;
        write_stub(page + n * STUB_SIZE, at, site, w, table[k].len, table[k].sys);
        sites[n++] = k;
    }
    if (!n || sys3(__NR_mprotect, (long)page, PAGE, PROT_READ | PROT_EXEC) < 0)
        return; /* the page stays unused */
    uintptr_t lo = addr + (table[sites[0]].at - image_off);
    uintptr_t hi = addr + (table[sites[n - 1]].at - image_off) + table[sites[n - 1]].len;
    if (text_writable(lo, hi) < 0)
        return; /* the stubs stay, unused */
    for (unsigned m = 0; m < n; m++) {
        const struct site_entry *e = &table[sites[m]];
        uint8_t *site = (uint8_t *)(addr + (e->at - image_off));
        memset(site, 0xcc, e->len); /* never run: pack found no branch into the window */
        site[0] = 0xe9;
        put32(site + 1, (int32_t)((uintptr_t)page + m * STUB_SIZE - ((uintptr_t)site + 5)));
    }
    text_done(lo, hi, prot);
    __atomic_add_fetch(&applied, n, __ATOMIC_RELAXED);
}

void pal_sites_mapped(uintptr_t addr, uint64_t len, uint64_t image_off, uint64_t file_off, uint64_t file_size,
                      uint64_t prot)
{
    if (!table || !(prot & PROT_EXEC) || !len || image_off + len < image_off || file_off + file_size < file_off)
        return;
    uint64_t lo = image_off > file_off ? image_off : file_off;
    uint64_t hi = image_off + len < file_off + file_size ? image_off + len : file_off + file_size;
    xax_lock_take(&lock);
    uint64_t i = first_at(lo), end = 0;
    while (i < count && table[i].at < hi) {
        uint64_t j = i;
        while (j < count && j - i < PER_PAGE && table[j].at < hi && table[j].at >= end &&
               table[j].at + table[j].len <= hi && table[j].at + table[j].len > table[j].at) {
            end = table[j].at + table[j].len;
            j++;
        }
        if (j > i)
            apply_run(addr, image_off, i, j, prot);
        if (j < count && table[j].at < hi && (table[j].at < end || table[j].at + table[j].len <= table[j].at))
            break; /* out of order or overlapping: the table is not pack's, the rest is not used */
        if (j == i)
            j++; /* a window past the end of the mapping: left alone */
        i = j;
    }
    xax_lock_give(&lock);
}

/* The executable segments of an ELF the loader mapped from the image (map_elf). */
void pal_sites_elf(const unsigned char *img, unsigned long size, long file_off, uintptr_t bias)
{
    if (!table || file_off < 0)
        return;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff); /* map_elf checked them */
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X))
            pal_sites_mapped(bias + ph[i].p_vaddr, ph[i].p_filesz, (uint64_t)file_off + ph[i].p_offset,
                             (uint64_t)file_off, size,
                             PROT_EXEC | (ph[i].p_flags & PF_R ? PROT_READ : 0) | (ph[i].p_flags & PF_W ? PROT_WRITE : 0));
}
