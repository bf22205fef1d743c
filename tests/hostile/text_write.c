/* Writes its own text, as the PAL does when it rewrites a system call site: the
 * page of `target` made writable with mprotect (the seal allows it for any of the
 * picoprocess's own memory), the function's first byte changed, read back.  Run
 * from an image, the text is a private mapping of the image fd: the write lands in
 * the process's own copy of the page.  Prints the byte it found first, so that a
 * second run shows whether the first one changed the image. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

__attribute__((noinline)) int target(void)
{
    return 7;
}

int main(void)
{
    volatile unsigned char *p = (volatile unsigned char *)(uintptr_t)target;
    uintptr_t page = (uintptr_t)p & ~(uintptr_t)4095;
    unsigned char before = *p;
    int r = mprotect((void *)page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    *p = (unsigned char)(before ^ 0xff);
    unsigned char after = *p;
    *p = before; /* put back, so that the program can still call it */
    mprotect((void *)page, 4096, PROT_READ | PROT_EXEC);
    printf("found %02x, mprotect %d, wrote %02x, target %d\n", before, r, after, target());
    return 0;
}
