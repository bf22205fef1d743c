/* Attack: reach the channel by the program's own fd numbers.  The channel (XAX_CHANNEL_FD) and
 * the image (XAX_IMAGE_FD) lie above every number the program can have, so fd 3 is the
 * program's like any other: dup2 onto it, open returning it, writes through it go where the
 * program's fd 3 leads (stdout here), never to the Monitor.  Then every way to name the
 * channel's own number: fcntl, dup2 over it, close_range over everything, close of it; after
 * all of them the program is still served (its stdout still reaches the Monitor). */
#include <fcntl.h>
#include <unistd.h>
#include "hostile.h"
#include "xax_protocol.h"

int main(int argc, char **argv)
{
    report("dup2_onto_3", raw2(SYS_dup2, 1, 3));
    static const char via3[] = "written through the program's fd 3\n";
    report("write_3", raw3(SYS_write, 3, (long)via3, sizeof via3 - 1));
    report("close_3", raw1(SYS_close, 3));
    report("open_gets_3", raw4(SYS_openat, AT_FDCWD, (long)"/dev/null", O_RDONLY, 0));
    report("fcntl_chan", raw3(SYS_fcntl, XAX_CHANNEL_FD, F_GETFD, 0));
    report("fcntl_image", raw3(SYS_fcntl, XAX_IMAGE_FD, F_GETFD, 0));
    report("dup2_over_chan", raw2(SYS_dup2, 1, XAX_CHANNEL_FD));
    report("dup3_over_chan", raw3(SYS_dup3, 1, XAX_CHANNEL_FD, 0));
    report("close_range_all", raw3(SYS_close_range, 3, ~0U, 0));
    report("close_chan", raw1(SYS_close, XAX_CHANNEL_FD));
    report("still_served", 1); /* printed through the channel: it still works */
    (void)argc;
    (void)argv;
    return 0;
}
