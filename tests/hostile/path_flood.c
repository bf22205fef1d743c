/* Attack on the failed-path report (TRACE_PATH): argv[3]:
 *   flood        fail to open 100,000 distinct long paths (about 3 KB each, ten components of
 *                at most 255 bytes), each with bytes that are not UTF-8 and control characters
 *   weird        fail to open a few paths made to break a terminal or a report line: newlines,
 *                escape sequences, a bidi override, a line separator, bytes that are not UTF-8
 *   forge_nul, forge_empty, forge_long, forge_errno0, forge_errno_big, forge_call, forge_valid
 *                a TRACE_PATH written straight to the channel, malformed in one way (forge_valid:
 *                well formed, for a run that did not ask for paths)
 * The Monitor must keep what it keeps bounded, say how much it left out, and kill the forgers. */
#include "hostile.h"
#include "xax_protocol.h"

static char path[4096];
static unsigned char msg[XAX_HEADER_SIZE + 8192];

static long forge(int err, int nr, const void *payload, uint32_t len)
{
    struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, XAX_MSG_TRACE_PATH, err, nr, len, 0};
    memcpy(msg, &h, sizeof h);
    memcpy(msg + sizeof h, payload, len);
    return raw3(SYS_write, XAX_CHANNEL_FD, (long)msg, sizeof h + len);
}

/* /xax-flood/<i>/ then nine components of 250 bytes: 'a'.. with \x01, \x1b, \xff, \xc3( in them */
static void flood_path(unsigned i)
{
    int n = 0;
    n += snprintf(path, sizeof path, "/xax-flood/%u", i);
    for (int c = 0; c < 9 && n < 3000; c++) {
        path[n++] = '/';
        for (int k = 0; k < 250; k++)
            path[n++] = (char)("a\x01\x1b\xff\xc3(\n\t"[(k + c + i) % 8]);
    }
    path[n] = 0;
}

int main(int argc, char **argv)
{
    const char *m = argc > 3 ? argv[3] : "";
    if (!strcmp(m, "flood")) {
        long failed = 0;
        for (unsigned i = 0; i < 100000; i++) {
            flood_path(i);
            failed += raw3(SYS_open, (long)path, 0, 0) < 0;
        }
        report("failed", failed);
        return 0;
    }
    if (!strcmp(m, "weird")) {
        static const char *weird[] = {
            "/etc/line\nbreak", "/etc/\x1b[2J\x1b[31mred", "/etc/\xe2\x80\xae" "fdp.exe", "/etc/sep\xe2\x80\xa8x",
            "/etc/bad\xff\xfe", "/etc/back\\slash", "/etc/tab\there", "/etc/del\x7f", "/etc/c1\xc2\x9b" "31m",
        };
        for (unsigned i = 0; i < sizeof weird / sizeof *weird; i++)
            report("open", raw3(SYS_open, (long)weird[i], 0, 0));
        return 0;
    }
    printf("sending %s\n", m);
    fflush(stdout);
    long w;
    if (!strcmp(m, "forge_nul"))
        w = forge(2, SYS_open, "/a\0b", 4);
    else if (!strcmp(m, "forge_empty"))
        w = forge(2, SYS_open, "", 0);
    else if (!strcmp(m, "forge_long")) {
        memset(path, 'a', sizeof path);
        path[0] = '/';
        w = forge(2, SYS_open, path, sizeof path);  /* XAX_TRACE_PATH_MAX + 1 bytes */
    } else if (!strcmp(m, "forge_errno0"))
        w = forge(0, SYS_open, "/a", 2);
    else if (!strcmp(m, "forge_errno_big"))
        w = forge(XAX_MAX_ERRNO + 1, SYS_open, "/a", 2);
    else if (!strcmp(m, "forge_call"))
        w = forge(2, SYS_getpid, "/a", 2);
    else if (!strcmp(m, "forge_valid"))
        w = forge(2, SYS_open, "/a", 2);
    else
        return 2;
    report("write", w);
    /* wait for the Monitor's verdict: a reply never comes, a kill does */
    for (;;)
        raw3(SYS_read, 0, (long)msg, 1) == 0 ? raw1(SYS_exit_group, 3) : 0;
}
