/* Attack: reach an fd other than the picoprocess's own.  Writes and reads on
 * fds that do not exist (4, 5, -1), fd numbers with junk in the upper 32 bits
 * (the kernel and the layer truncate an fd to an int: 1|(1<<32) IS stdout),
 * the wrong direction on stdio, and every other way to use or copy the
 * channel fd (XAX_CHANNEL_FD): dup, fcntl, ioctl, close, readv/pwrite/sendfile/splice. */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include "hostile.h"
#include "xax_protocol.h"

int main(int argc, char **argv)
{
    char buf[64];
    static const char junk_out[] = "written through fd 1|(1<<32)\n";
    static const char junk_err[] = "written through fd 2|(0xdead<<32)\n";
    struct iovec iov = {buf, sizeof buf};
    int on = 1;
    long n;
    report("write_fd4", raw3(SYS_write, 4, (long)"x", 1));
    report("write_fd_minus1", raw3(SYS_write, -1, (long)"x", 1));
    report("read_fd5_junk", raw3(SYS_read, 0x100000000L | 5, (long)buf, sizeof buf));
    report("read_fd1", raw3(SYS_read, 1, (long)buf, sizeof buf));
    report("write_fd0", raw3(SYS_write, 0, (long)"x", 1));
    report("write_stdout_junk", raw3(SYS_write, 1 | (1L << 32), (long)junk_out, sizeof junk_out - 1));
    report("write_stderr_junk", raw3(SYS_write, 2 | (0xdeadL << 32), (long)junk_err, sizeof junk_err - 1));
    n = raw3(SYS_read, 0 | (0xffffffffL << 32), (long)buf, sizeof buf - 1);
    report("read_stdin_junk", n);
    buf[n > 0 ? n : 0] = 0;
    printf("stdin said: %s\n", buf);
    report("readv_chan", raw3(SYS_readv, XAX_CHANNEL_FD, (long)&iov, 1));
    report("writev_chan", raw3(SYS_writev, XAX_CHANNEL_FD, (long)&iov, 1));
    report("pread_chan", raw4(SYS_pread64, XAX_CHANNEL_FD, (long)buf, sizeof buf, 0));
    report("pwrite_chan", raw4(SYS_pwrite64, XAX_CHANNEL_FD, (long)buf, sizeof buf, 0));
    report("sendfile", raw4(SYS_sendfile, 1, XAX_CHANNEL_FD, 0, 4096));
    report("splice", raw6(SYS_splice, XAX_CHANNEL_FD, 0, 1, 0, 4096, 0));
    report("dup_chan", raw1(SYS_dup, XAX_CHANNEL_FD));
    report("dup2_chan", raw2(SYS_dup2, XAX_CHANNEL_FD, 7));
    report("dup3_chan", raw3(SYS_dup3, XAX_CHANNEL_FD, 7, 0));
    report("fcntl_dupfd_chan", raw3(SYS_fcntl, XAX_CHANNEL_FD, F_DUPFD, 10));
    report("fcntl_setfl_chan", raw3(SYS_fcntl, XAX_CHANNEL_FD, F_SETFL, O_NONBLOCK));
    report("ioctl_fionbio_chan", raw3(SYS_ioctl, XAX_CHANNEL_FD, FIONBIO, (long)&on));
    report("close_chan", raw1(SYS_close, XAX_CHANNEL_FD));
    report("close_range", raw3(SYS_close_range, XAX_CHANNEL_FD, XAX_CHANNEL_FD, 0));
    report("still_served", 1); /* printed through the channel: it still works */
    (void)argc;
    (void)argv;
    return 0;
}
