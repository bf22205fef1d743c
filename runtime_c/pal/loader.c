/* The loader: map an ELF's segments; for a program, build the initial stack.
 * Used for the program (non-PIE, PIE, or dynamic with its PT_INTERP named in
 * out->interp) and for the layer (a freestanding static PIE).  An ELF that lies
 * page-aligned in the image is mapped from the image fd (the filter allows
 * private mappings of it); any other is copied into anonymous memory. */
#include <asm/errno.h>
#include <elf.h>
#include <linux/mman.h>

#include "../lib/sys.h"
#include "loader.h"
#include "rewrite.h"
#include "xax_protocol.h"
#include "xax_runtime.h"

#define STACK_SIZE (8UL << 20)

uintptr_t pal_stack_start; /* the last stack build_stack made (an exec unmaps it) */
#define MAX_PROGRAM (1UL << 31)

/* Read a whole channel into memory from xabi_alloc; 0 on failure. */
/* A whole URL through xabi_open_url("get"), into memory from xabi_alloc: 0, or
 * -ENOENT (the Monitor refused or found nothing) or -EIO (memory, size, a body that
 * broke off before its end).  Also
 * the layer's way to fetch origin files (xax_layer_host.fetch). */
long pal_fetch_url(const char *url, const unsigned char **data, size_t *size)
{
    int chan = xax_pal_table.open_url("get", url);
    if (chan < 0)
        return -ENOENT;
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = xax_pal_table.alloc(0, cap);
    long err = buf ? 0 : -EIO;
    while (!err) {
        if (len == cap) {
            unsigned char *bigger = cap < MAX_PROGRAM ? xax_pal_table.alloc(0, cap * 2) : 0;
            if (!bigger) {
                err = -EIO;
                break;
            }
            memcpy(bigger, buf, len);
            xax_pal_table.free(buf);
            buf = bigger;
            cap *= 2;
        }
        size_t want = cap - len > XAX_MAX_READ ? XAX_MAX_READ : cap - len;
        int n = xax_pal_table.read(chan, (char *)buf + len, (int)want);
        if (n > 0) {
            len += n;
        } else if (n < 0) {
            /* closed: the whole body has arrived, or it broke off (the origin closed early,
             * the download limit): the Monitor's POLL tells which, and a body cut short is
             * an error, never a shorter file */
            xabi_poll_fd p = {chan, XABI_POLLIN, 0};
            if (xax_pal_table.poll(&p, 1, false) < 0 || (p.revents & XABI_POLLERR))
                err = -EIO;
            break;
        } else {
            xabi_poll_fd p = {chan, XABI_POLLIN, 0};
            xax_pal_table.poll(&p, 1, true);
        }
    }
    xax_pal_table.close(chan);
    if (err) {
        if (buf)
            xax_pal_table.free(buf);
        return err;
    }
    *data = buf;
    *size = len;
    return 0;
}

const unsigned char *pal_fetch(const char *url, size_t *size)
{
    const unsigned char *data;
    return pal_fetch_url(url, &data, size) == 0 ? data : 0;
}

static int prot_of(uint32_t pflags)
{
    return (pflags & PF_R ? PROT_READ : 0) | (pflags & PF_W ? PROT_WRITE : 0) | (pflags & PF_X ? PROT_EXEC : 0);
}

/* Check the ELF header and program headers against the file size. */
static const char *check_elf(const unsigned char *img, size_t size)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    if (size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return "not an ELF file";
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
        return "not an x86-64 ELF file";
    if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
        return "not an executable";
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > 64 || eh->e_phoff > size ||
        size - eh->e_phoff < (size_t)eh->e_phnum * sizeof(Elf64_Phdr))
        return "bad program headers";
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);
    int loads = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_INTERP &&
            (ph[i].p_filesz < 2 || ph[i].p_filesz > 255 || ph[i].p_offset > size ||
             size - ph[i].p_offset < ph[i].p_filesz || img[ph[i].p_offset + ph[i].p_filesz - 1] != 0))
            return "bad PT_INTERP";
        if (ph[i].p_type != PT_LOAD)
            continue;
        loads++;
        if (ph[i].p_filesz > ph[i].p_memsz || ph[i].p_offset > size || size - ph[i].p_offset < ph[i].p_filesz ||
            ph[i].p_memsz > MAX_PROGRAM || ph[i].p_vaddr > (1UL << 46) ||
            (ph[i].p_vaddr % XAX_PAGE) != (ph[i].p_offset % XAX_PAGE))
            return "bad PT_LOAD segment";
    }
    return loads ? 0 : "no loadable segments";
}

/* Is virtual page `page` touched by a PT_LOAD segment other than `self`? */
static int page_shared(const Elf64_Phdr *ph, int phnum, int self, uintptr_t page)
{
    for (int j = 0; j < phnum; j++)
        if (j != self && ph[j].p_type == PT_LOAD && page + XAX_PAGE > XAX_PAGE_DOWN(ph[j].p_vaddr) &&
            page < XAX_PAGE_UP(ph[j].p_vaddr + ph[j].p_memsz))
            return 1;
    return 0;
}

/* Place segment i's file bytes in the reserved span at `bias`.  With the ELF at
 * `file_off` in the image fd (>= 0, page-aligned), a page is mapped from the
 * fd, as the kernel's loader maps a file, when no other segment touches it and
 * it holds no zero-filled (bss) bytes of this segment; the other pages get the
 * segment's bytes copied, and their rest stays zero. */
static const char *place_segment(const unsigned char *img, const Elf64_Phdr *ph, int phnum, int i, uintptr_t bias,
                                 long file_off)
{
    const Elf64_Phdr *s = &ph[i];
    uintptr_t start = s->p_vaddr, end = s->p_vaddr + s->p_filesz;
    uintptr_t run = 0, run_end = 0; /* pending pages to map from the fd: [run, run_end) */
    for (uintptr_t page = XAX_PAGE_DOWN(start); page < end; page += XAX_PAGE) {
        int direct = file_off >= 0 && !page_shared(ph, phnum, i, page) &&
                     (page + XAX_PAGE <= end || s->p_memsz == s->p_filesz);
        if (direct) {
            if (run_end != page)
                run = page;
            run_end = page + XAX_PAGE;
        } else {
            uintptr_t a = page > start ? page : start, b = page + XAX_PAGE < end ? page + XAX_PAGE : end;
            memcpy((void *)(bias + a), img + s->p_offset + (a - start), b - a);
        }
        if (run_end > run && (!direct || page + XAX_PAGE >= end)) { /* a run ends here */
            long m = sys6(__NR_mmap, (long)(bias + run), (long)(run_end - run), prot_of(s->p_flags),
                          MAP_PRIVATE | MAP_FIXED, XAX_IMAGE_FD, file_off + (long)(s->p_offset - (start - run)));
            if (m != (long)(bias + run))
                return "cannot map a segment from the image";
            run = run_end = 0;
        }
    }
    return 0;
}

const char *map_elf(const unsigned char *img, size_t size, long file_off, struct loaded_program *out)
{
    const char *err = check_elf(img, size);
    if (err)
        return err;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);

    uintptr_t lo = ~0UL, hi = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        if (XAX_PAGE_DOWN(ph[i].p_vaddr) < lo)
            lo = XAX_PAGE_DOWN(ph[i].p_vaddr);
        if (XAX_PAGE_UP(ph[i].p_vaddr + ph[i].p_memsz) > hi)
            hi = XAX_PAGE_UP(ph[i].p_vaddr + ph[i].p_memsz);
    }
    /* One writable anonymous mapping for the whole span; a PIE goes where the
     * kernel puts it, a fixed-address program exactly at its addresses. */
    long flags = MAP_PRIVATE | MAP_ANONYMOUS | (eh->e_type == ET_EXEC ? MAP_FIXED_NOREPLACE : 0);
    long m = sys6(__NR_mmap, eh->e_type == ET_EXEC ? (long)lo : 0, hi - lo, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (sys_failed(m))
        return "cannot map the program (address in use or memory limit)";
    if (eh->e_type == ET_EXEC && (uintptr_t)m != lo)
        return "cannot map the program at its fixed address";
    uintptr_t bias = (uintptr_t)m - lo;
    out->start = (uintptr_t)m;
    out->end = (uintptr_t)m + (hi - lo);

    if (file_off % XAX_PAGE)
        file_off = -1;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && (err = place_segment(img, ph, eh->e_phnum, i, bias, file_off)))
            return err;
    pal_sites_elf(img, size, file_off, bias); /* before any of it runs (sites.c) */
    /* Final protections; a page shared by two segments (first or last page of
     * one lying in the other) gets both segments' protections. */
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        uintptr_t a = XAX_PAGE_DOWN(ph[i].p_vaddr), b = XAX_PAGE_UP(ph[i].p_vaddr + ph[i].p_memsz);
        sys3(__NR_mprotect, bias + a, b - a, prot_of(ph[i].p_flags));
    }
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        uintptr_t edges[2] = {XAX_PAGE_DOWN(ph[i].p_vaddr), XAX_PAGE_UP(ph[i].p_vaddr + ph[i].p_memsz) - XAX_PAGE};
        for (int j = 0; j < eh->e_phnum; j++) {
            if (j == i || ph[j].p_type != PT_LOAD)
                continue;
            uintptr_t c = XAX_PAGE_DOWN(ph[j].p_vaddr), d = XAX_PAGE_UP(ph[j].p_vaddr + ph[j].p_memsz);
            for (int e = 0; e < 2; e++)
                if (edges[e] >= c && edges[e] < d)
                    sys3(__NR_mprotect, bias + edges[e], XAX_PAGE, prot_of(ph[i].p_flags) | prot_of(ph[j].p_flags));
        }
    }

    out->entry = bias + eh->e_entry;
    out->phnum = eh->e_phnum;
    out->phdr = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_PHDR)
            out->phdr = bias + ph[i].p_vaddr;
    }
    if (!out->phdr) { /* no PT_PHDR: find the segment that maps e_phoff */
        for (int i = 0; i < eh->e_phnum; i++)
            if (ph[i].p_type == PT_LOAD && eh->e_phoff >= ph[i].p_offset &&
                eh->e_phoff - ph[i].p_offset < ph[i].p_filesz)
                out->phdr = bias + ph[i].p_vaddr + (eh->e_phoff - ph[i].p_offset);
    }
    if (!out->phdr)
        return "program headers are not in a loaded segment";
    out->brk_start = bias + hi;
    out->bias = bias;
    out->interp[0] = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_INTERP)
            memcpy(out->interp, img + ph[i].p_offset, ph[i].p_filesz); /* checked: <= 255, NUL-terminated */
    return 0;
}

int elf_check(const void *img, size_t size)
{
    return check_elf(img, size) != 0;
}

static uint64_t host_aux(uint64_t type)
{
    for (const uint64_t *a = xax_boot->host_auxv; a[0] != AT_NULL; a += 2)
        if (a[0] == type)
            return a[1];
    return 0;
}

/* The initial stack the x86-64 ABI describes: argc, argv, envp, auxv, with the
 * strings and AT_RANDOM's bytes above them. */
uintptr_t build_stack(const struct loaded_program *prog, uintptr_t interp_bias, const char *const *argv,
                      const char *const *envp)
{
    long m = sys6(__NR_mmap, 0, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (sys_failed(m))
        pal_fail(XAX_FAILURE_MEMORY, "cannot allocate the program's stack");
    pal_stack_start = (uintptr_t)m;
    uintptr_t top = (uintptr_t)m + STACK_SIZE;
    int argc = 0, envc = 0;
    while (argv[argc])
        argc++;
    while (envp[envc])
        envc++;

    char *p = (char *)top;
    static const char platform[] = "x86_64";
    p -= sizeof platform;
    memcpy(p, platform, sizeof platform);
    uintptr_t platform_at = (uintptr_t)p;
    p -= 16;
    memcpy(p, xax_boot->random, 16);
    uintptr_t random_at = (uintptr_t)p;

    /* strings: copy back to front, remember where each went */
    uintptr_t *argp = (uintptr_t *)xax_pal_table.alloc(0, (argc + envc + 2) * sizeof(uintptr_t));
    if (!argp)
        pal_fail(XAX_FAILURE_MEMORY, "cannot allocate argument table");
    for (int i = envc - 1; i >= 0; i--) {
        size_t n = strlen(envp[i]) + 1;
        p -= n;
        memcpy(p, envp[i], n);
        argp[argc + i] = (uintptr_t)p;
    }
    for (int i = argc - 1; i >= 0; i--) {
        size_t n = strlen(argv[i]) + 1;
        p -= n;
        memcpy(p, argv[i], n);
        argp[i] = (uintptr_t)p;
    }
    uintptr_t execfn = argc ? argp[0] : platform_at;

    uint64_t aux[][2] = {
        {AT_PHDR, prog->phdr},
        {AT_PHENT, sizeof(Elf64_Phdr)},
        {AT_PHNUM, prog->phnum},
        {AT_PAGESZ, XAX_PAGE},
        {AT_BASE, interp_bias},
        {AT_FLAGS, 0},
        {AT_ENTRY, prog->entry},
        {AT_UID, xax_layer->identity->uid},
        {AT_EUID, xax_layer->identity->euid},
        {AT_GID, xax_layer->identity->gid},
        {AT_EGID, xax_layer->identity->egid},
        {AT_SECURE, 0},
        {AT_RANDOM, random_at},
        {AT_HWCAP, host_aux(AT_HWCAP)},
        {AT_HWCAP2, host_aux(AT_HWCAP2)},
        {AT_CLKTCK, 100},
        {AT_PLATFORM, platform_at},
        {AT_EXECFN, execfn},
        {AT_SYSINFO_EHDR, host_aux(AT_SYSINFO_EHDR)},
        {AT_MINSIGSTKSZ, host_aux(AT_MINSIGSTKSZ)},
        {AT_XAX_ABI, (uintptr_t)&xax_pal_table},
        {AT_NULL, 0},
    };
    size_t words = 1 + argc + 1 + envc + 1 + sizeof aux / sizeof(uint64_t);
    uintptr_t *sp = (uintptr_t *)(((uintptr_t)p - words * 8) & ~15UL);
    uintptr_t *w = sp;
    *w++ = argc;
    for (int i = 0; i < argc; i++)
        *w++ = argp[i];
    *w++ = 0;
    for (int i = 0; i < envc; i++)
        *w++ = argp[argc + i];
    *w++ = 0;
    memcpy(w, aux, sizeof aux);
    xax_pal_table.free(argp);
    return (uintptr_t)sp;
}
