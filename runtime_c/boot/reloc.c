/* Self-relocation of the static-PIE picoprocess binary.
 * Runs first, before any pointer stored in data is used: it may touch only its
 * own locals and RIP-relative symbols. */
#include <elf.h>
#include <stdint.h>

extern const Elf64_Ehdr __ehdr_start;
extern Elf64_Dyn _DYNAMIC[];

void xax_self_relocate(void)
{
    uintptr_t base = (uintptr_t)&__ehdr_start;
    uintptr_t rela = 0, relasz = 0;
    for (Elf64_Dyn *d = _DYNAMIC; d->d_tag != DT_NULL; d++) {
        if (d->d_tag == DT_RELA)
            rela = base + d->d_un.d_ptr;
        else if (d->d_tag == DT_RELASZ)
            relasz = d->d_un.d_val;
    }
    for (uintptr_t p = rela; p < rela + relasz; p += sizeof(Elf64_Rela)) {
        const Elf64_Rela *r = (const Elf64_Rela *)p;
        if (ELF64_R_TYPE(r->r_info) != R_X86_64_RELATIVE)
            __builtin_trap(); /* the build guarantees only RELATIVE relocations */
        *(uintptr_t *)(base + r->r_offset) = base + r->r_addend;
    }
}
