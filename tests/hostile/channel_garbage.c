/* Attack: write bytes that are not a message to the channel.  write() is
 * allowed on the channel only; XAX_CHANNEL_FD|(junk<<32) IS the channel (the kernel truncates the int),
 * so the garbage reaches the Monitor, which must kill this picoprocess for a
 * protocol violation and go on serving others.  "after" must never appear. */
#include "hostile.h"
#include "xax_protocol.h"

int main(int argc, char **argv)
{
    static const char garbage[] = "GARBAGE! not a message";
    report("before", 1);
    long r = raw3(SYS_write, XAX_CHANNEL_FD | (0xbadL << 32), (long)garbage, sizeof garbage - 1);
    report("after", r); /* an xaxcall: the Monitor has killed us by now */
    for (;;)
        raw0(SYS_getpid);
    (void)argc;
    (void)argv;
}
