/* Attack: speak as the runtime.  A FATAL message is the PAL's last word before it
 * exits with the runtime's status; a program can send one too (the channel is XAX_CHANNEL_FD).
 * argv[3] picks the attempt:
 *   plain     exit(124) with no FATAL: the program's own status, never read as the runtime's
 *   forged    a FATAL with terminal escapes, then exit(124): said in one clean line, about itself
 *   badkind   a FATAL naming no known failure: a protocol violation
 *   huge      a FATAL whose reason is longer than the protocol allows: a protocol violation */
#include <stdlib.h>

#include "hostile.h"
#include "xax_protocol.h"

static void fatal(int kind, const char *why, unsigned len)
{
    static unsigned char m[XAX_HEADER_SIZE + 1024];
    struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, XAX_MSG_FATAL, -1, kind, len, 0};
    memcpy(m, &h, sizeof h);
    memcpy(m + sizeof h, why, len);
    report("sent", raw3(SYS_write, XAX_CHANNEL_FD, (long)m, sizeof h + len));
}

int main(int argc, char **argv)
{
    const char *mode = argc > 3 ? argv[3] : "plain";
    static char big[600];
    if (!strcmp(mode, "forged"))
        fatal(XAX_FAILURE_CHANNEL, "\x1b[2Jforged\r\nsecond line", (unsigned)strlen("\x1b[2Jforged\r\nsecond line"));
    else if (!strcmp(mode, "badkind"))
        fatal(99, "what", 4);
    else if (!strcmp(mode, "huge"))
        fatal(XAX_FAILURE_START, (memset(big, 'x', sizeof big), big), sizeof big);
    raw1(SYS_exit_group, XAX_EXIT_RUNTIME_FAILED);
    return 0;
}
