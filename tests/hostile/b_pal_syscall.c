/* Attack: jump straight to the PAL's own `syscall` instruction (the one its
 * channel writes go through), with rax = openat and the canary's path.  The
 * filter never allows by instruction pointer, so the call must be trapped to
 * the layer like any other (-ENOSYS, a MISSING trace for openat); what the PAL
 * code does after the system call returns into the middle of it does not matter. */
#include <fcntl.h>
#include <sys/auxv.h>
#include "hostile.h"
#include "xabi.h"

extern char __executable_start[], _end[];

int main(int argc, char **argv)
{
    const struct xabi_table *t = (const struct xabi_table *)getauxval(AT_XAX_ABI);
    if (!t || t->version != XABI_TABLE_VERSION)
        return 3;
    const unsigned char *code = (const unsigned char *)t->write;
    int off = -1;
    for (int i = 0; i < 8192; i++)
        if (code[i] == 0x0f && code[i + 1] == 0x05) {
            off = i;
            break;
        }
    if (off < 0)
        return 4;
    const unsigned char *site = code + off;
    report("site_in_program", site >= (unsigned char *)__executable_start && site < (unsigned char *)_end);
    report("site_offset", off);
    register long r10 __asm__("r10") = 0;
    long r;
    __asm__ volatile("call *%[site]"
                     : "=a"(r)
                     : [site] "r"(site), "a"(SYS_openat), "D"(AT_FDCWD), "S"(argv[1]), "d"(O_RDONLY), "r"(r10)
                     : "rcx", "r8", "r9", "r11", "memory");
    report("returned", r);
    (void)argc;
    return 0;
}
