#ifndef XAX_LOADER_H
#define XAX_LOADER_H
#include <stddef.h>
#include <stdint.h>

struct loaded_program {
    uintptr_t entry, phdr, phnum, brk_start;
    uintptr_t bias;         /* load address minus link address (AT_BASE, for an interpreter) */
    uintptr_t start, end;   /* the one mapping that holds all its segments */
    char interp[256];       /* PT_INTERP, or "" for a static program */
};

/* The initial stack build_stack last made: STACK_SIZE bytes from here. */
extern uintptr_t pal_stack_start;
/* 1 if img is not an ELF program this loader can map (checked before an exec unmaps anything). */
int elf_check(const void *img, size_t size);
#define PAL_STACK_SIZE (8UL << 20)

/* A whole URL through xabi_open_url("get"), into xabi_alloc'ed memory: 0, -ENOENT or -EIO. */
long pal_fetch_url(const char *url, const unsigned char **data, size_t *size);
/* The same, 0 on failure. */
const unsigned char *pal_fetch(const char *url, size_t *size);
/* Map an ELF: NULL on success, else a one-line reason.  file_off: where img lies
 * in the image fd (XAX_IMAGE_FD) if it does, page-aligned, so that its pages
 * can be mapped from there; -1 to copy it. */
const char *map_elf(const unsigned char *img, size_t size, long file_off, struct loaded_program *out);
/* interp_bias: where the program's interpreter was loaded (AT_BASE), 0 if none. */
uintptr_t build_stack(const struct loaded_program *prog, uintptr_t interp_bias, const char *const *argv,
                      const char *const *envp);
#endif
