#ifndef XAX_LOADER_H
#define XAX_LOADER_H
#include <stdint.h>

struct loaded_program {
    uintptr_t entry, phdr, phnum, brk_start;
};

/* NULL on success, else a one-line reason. */
const char *load_program(const char *url, struct loaded_program *out);
uintptr_t build_stack(const struct loaded_program *prog, const char *const *argv, const char *const *envp);
#endif
