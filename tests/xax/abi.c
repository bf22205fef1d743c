/* A program written for Xax: it uses the xabi_* calls (from libxax) and
 * nothing of the POSIX world but formatting.  argv[1] picks what it does;
 * results go to channel 2 (stderr) as "name=value" lines for the test to check,
 * data to channel 1 (stdout).
 *
 *   args                 print xabi_args(), one per line
 *   alloc                xabi_alloc / xabi_free corner cases
 *   write                xabi_write to channels 1 and 2, big and small
 *   cat                  copy channel 0 to channel 1 until -1
 *   poll                 xabi_poll on stdin: non-blocking, then blocking (the test feeds stdin late)
 *   polls                xabi_poll corner cases that need no waiting
 *   close                xabi_close and read/write on closed and unknown channels
 *   accept               xabi_accept
 *   get URL...           xabi_open_url("get") each URL, body of each to stdout
 *   put URL              stdin is the request body; the response body to stdout
 *   connect URL [MS]     stdin is sent; everything received to stdout (read after MS ms)
 *   open METHOD URL      only the result of xabi_open_url
 *   exit                 xabi_exit() in the middle of main
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "xabi.h"

#define FUTEX_WAIT_PRIVATE 128 /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG, <linux/futex.h> (musl-gcc has no kernel headers) */

static char buf[(1 << 20) + 100000]; /* larger than one READ may move (XAX_MAX_READ): the PAL caps each read */

static void say(const char *fmt, long v)
{
    char line[256];
    int n = snprintf(line, sizeof line, fmt, v);
    xabi_write(2, line, n);
}

static void say_s(const char *fmt, const char *s)
{
    char line[4200];
    int n = snprintf(line, sizeof line, fmt, s);
    xabi_write(2, line, n);
}

/* Write all of data to chnl; -1 if the channel failed. */
static long write_all(int chnl, const char *data, long len)
{
    long done = 0, zeros = 0;
    while (done < len) {
        int chunk = len - done > 1000000 ? 1000000 : (int)(len - done);
        int w = xabi_write(chnl, (char *)data + done, chunk);
        if (w < 0)
            return -1;
        if (w == 0) {
            xabi_poll_fd p = {chnl, XABI_POLLOUT, 0};
            if (xabi_poll(&p, 1, true) == 0)
                say("BLOCKING_POLL_RETURNED_0=%ld\n", chnl);
            if (++zeros > 10000000)
                return -1;
            continue;
        }
        done += w;
    }
    return done;
}

/* Read chnl until -1, copying to `to` (or to `into` when given); the byte count. */
static long pump(int chnl, int to, char *into, long cap)
{
    long total = 0;
    for (;;) {
        int r = xabi_read(chnl, buf, sizeof buf);
        if (r < 0)
            break;
        if (r == 0) {
            xabi_poll_fd p = {chnl, XABI_POLLIN, 0};
            int n = xabi_poll(&p, 1, true);
            if (n == 0)
                say("BLOCKING_POLL_RETURNED_0=%ld\n", chnl);
            continue;
        }
        if (r > (1 << 20))
            say("READ_OVER_MAX_READ=%ld\n", r);
        if (into) {
            if (total + r > cap)
                return -1;
            memcpy(into + total, buf, r);
        } else if (write_all(to, buf, r) != r) {
            return -1;
        }
        total += r;
    }
    return total;
}

static void sleep_ms(long ms)
{
    /* futex wait on a word nobody wakes: allowed by the seal, so no emulation involved */
    static int word;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &ts);
}

static int all_zero(const unsigned char *p, long len)
{
    for (long i = 0; i < len; i++)
        if (p[i])
            return 0;
    return 1;
}

static int cmd_args(void)
{
    const char **a = xabi_args();
    int n = 0;
    for (; a[n]; n++) {
        write_all(1, a[n], strlen(a[n]));
        write_all(1, "\n", 1);
    }
    say("count=%ld\n", n);
    return 0;
}

static int cmd_alloc(void)
{
    const long big = 1 << 20;
    unsigned char *p = xabi_alloc(0, big);
    say("alloc=%ld\n", p != 0);
    say("zero=%ld\n", p && all_zero(p, big));
    if (!p)
        return 1;
    memset(p, 0xAB, big); /* writable, all of it */
    say("written=%ld\n", p[0] == 0xAB && p[big - 1] == 0xAB);

    /* at a given address */
    unsigned char *want = (unsigned char *)0x100000000000UL;
    unsigned char *q = xabi_alloc(want, 65536);
    say("at_start=%ld\n", q == want);
    say("at_zero=%ld\n", q && all_zero(q, 65536));
    if (q)
        q[0] = 0x5A;
    /* the same place again is taken: refused, and the first region is untouched */
    unsigned char *again = xabi_alloc(want, 65536);
    say("again=%ld\n", (long)again);
    say("intact=%ld\n", q && q[0] == 0x5A);

    say("zero_len=%ld\n", (long)xabi_alloc(0, 0));
    say("negative_len=%ld\n", (long)xabi_alloc(0, -4096));

    /* free */
    say("free_inside=%ld\n", xabi_free(p + 4096));
    say("free_unknown=%ld\n", xabi_free((void *)0x12345000));
    say("free_null=%ld\n", xabi_free(0));
    say("free=%ld\n", xabi_free(p));
    say("double_free=%ld\n", xabi_free(p));
    say("free_q=%ld\n", xabi_free(q));
    /* the freed place can be had again, and it is zero-filled again */
    unsigned char *r = xabi_alloc(want, 65536);
    say("realloc_same_place=%ld\n", r == want);
    say("realloc_zero=%ld\n", r && all_zero(r, 65536));
    say("free_r=%ld\n", xabi_free(r));

    /* many regions, each freed once */
    int ok = 1;
    void *many[300];
    for (int i = 0; i < 300; i++)
        ok &= (many[i] = xabi_alloc(0, 4096)) != 0;
    for (int i = 0; i < 300; i++)
        ok &= xabi_free(many[i]) == 0;
    for (int i = 0; i < 300; i++)
        ok &= xabi_free(many[i]) == -1;
    say("many=%ld\n", ok);
    return 0;
}

static int cmd_write(void)
{
    say("w1=%ld\n", xabi_write(1, "to stdout\n", 10));
    say("w2=%ld\n", xabi_write(2, "to stderr\n", 10));
    say("w_empty=%ld\n", xabi_write(1, "", 0));
    say("w_negative=%ld\n", xabi_write(1, "x", -1));
    static char big[300000];
    for (int i = 0; i < (int)sizeof big; i++)
        big[i] = 'a' + i % 26;
    int first = xabi_write(1, big, sizeof big); /* at most one payload per call */
    say("w_big_first=%ld\n", first);
    say("w_big_total=%ld\n", first + write_all(1, big + first, sizeof big - first));
    return 0;
}

static int cmd_cat(void)
{
    long n = pump(0, 1, 0, 0);
    say("total=%ld\n", n);
    say("after_eof=%ld\n", xabi_read(0, buf, 10));
    return 0;
}

static int cmd_poll(void)
{
    xabi_poll_fd p = {0, XABI_POLLIN, 0x7777};
    int n = xabi_poll(&p, 1, false);
    say("nb=%ld\n", n);
    say("nb_revents=%ld\n", p.revents);
    say("nb_read=%ld\n", xabi_read(0, buf, sizeof buf));
    xabi_write(1, "waiting\n", 8); /* the test feeds stdin once it sees this */
    xabi_poll_fd two[2] = {{0, XABI_POLLIN, 0}, {1, 0, 0}};
    n = xabi_poll(two, 2, true);
    say("b=%ld\n", n);
    say("b_revents0=%ld\n", two[0].revents);
    say("b_revents1=%ld\n", two[1].revents);
    int r = xabi_read(0, buf, sizeof buf - 1);
    say("got_len=%ld\n", r);
    if (r > 0) {
        buf[r] = 0;
        say_s("got=%s\n", buf);
    }
    /* now wait for the end of stdin: a blocking poll returns with POLLHUP */
    for (;;) {
        xabi_poll_fd e = {0, XABI_POLLIN, 0};
        n = xabi_poll(&e, 1, true);
        if (n == 0)
            say("BLOCKING_POLL_RETURNED_0=%ld\n", 0);
        r = xabi_read(0, buf, sizeof buf);
        if (r < 0) {
            say("eof_revents=%ld\n", e.revents);
            break;
        }
    }
    return 0;
}

static int cmd_polls(void)
{
    xabi_poll_fd p[3] = {{1, XABI_POLLOUT, 0}, {2, XABI_POLLOUT | XABI_POLLIN, 0}, {99, XABI_POLLIN, 0}};
    int n = xabi_poll(p, 3, false);
    say("n=%ld\n", n);
    say("r1=%ld\n", p[0].revents);
    say("r2=%ld\n", p[1].revents);
    say("r99=%ld\n", p[2].revents);
    /* blocking, with something ready: returns at once, never 0 */
    xabi_poll_fd q = {1, XABI_POLLOUT, 0};
    say("block_ready=%ld\n", xabi_poll(&q, 1, true));
    /* an unknown channel is an error, which is an event: a blocking poll returns */
    xabi_poll_fd u = {1234, XABI_POLLIN, 0};
    say("block_unknown=%ld\n", xabi_poll(&u, 1, true));
    say("block_unknown_revents=%ld\n", u.revents);
    say("nb_none=%ld\n", xabi_poll(0, 0, false));
    say("bad_count=%ld\n", xabi_poll(p, -1, false));
    static xabi_poll_fd many[257];
    say("too_many=%ld\n", xabi_poll(many, 257, false));
    return 0;
}

static int cmd_close(void)
{
    const char **a = xabi_args();
    int c = xabi_open_url("get", a[0]); /* the program's own image, served by the Monitor */
    say("open=%ld\n", c);
    say("read_open=%ld\n", xabi_read(c, buf, 4) == 4);
    say("close=%ld\n", xabi_close(c));
    say("close_again=%ld\n", xabi_close(c));
    say("read_closed=%ld\n", xabi_read(c, buf, 4));
    say("write_closed=%ld\n", xabi_write(c, "x", 1));
    say("read_unknown=%ld\n", xabi_read(777, buf, 4));
    say("write_unknown=%ld\n", xabi_write(777, "x", 1));
    say("close_unknown=%ld\n", xabi_close(777));
    say("read_negative=%ld\n", xabi_read(-5, buf, 4));
    say("write_stdin=%ld\n", xabi_write(0, "x", 1));
    say("read_stdout=%ld\n", xabi_read(1, buf, 4));
    say("close_stdout=%ld\n", xabi_close(1));
    say("write_closed_stdout=%ld\n", xabi_write(1, "lost\n", 5));
    int c2 = xabi_open_url("get", a[0]);
    say("reopen=%ld\n", c2 >= 3);
    return 0;
}

static int cmd_get(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        int c = xabi_open_url("get", argv[i]);
        say("open=%ld\n", c);
        if (c >= 0) {
            say("total=%ld\n", pump(c, 1, 0, 0));
            xabi_poll_fd end = {c, XABI_POLLIN, 0}; /* read said -1: ended (POLLHUP) or failed (POLLERR) */
            xabi_poll(&end, 1, false);
            say("end=%ld\n", end.revents);
            say("close=%ld\n", xabi_close(c));
        }
    }
    return 0;
}

static char request[1 << 21];

static int cmd_put(char *url)
{
    long n = pump(0, 0, request, sizeof request);
    int c = xabi_open_url("put", url);
    say("open=%ld\n", c);
    if (c < 0)
        return 0;
    say("wrote=%ld\n", write_all(c, request, n));
    say("response=%ld\n", pump(c, 1, 0, 0));
    say("write_after_send=%ld\n", xabi_write(c, "x", 1));
    say("close=%ld\n", xabi_close(c));
    return 0;
}

static int cmd_connect(char *url, long delay_ms)
{
    long n = pump(0, 0, request, sizeof request);
    int c = xabi_open_url("connect", url);
    say("open=%ld\n", c);
    if (c < 0)
        return 0;
    say("wrote=%ld\n", write_all(c, request, n));
    if (delay_ms)
        sleep_ms(delay_ms);
    say("received=%ld\n", pump(c, 1, 0, 0));
    say("close=%ld\n", xabi_close(c));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "args"))
        return cmd_args();
    if (!strcmp(cmd, "alloc"))
        return cmd_alloc();
    if (!strcmp(cmd, "write"))
        return cmd_write();
    if (!strcmp(cmd, "cat"))
        return cmd_cat();
    if (!strcmp(cmd, "poll"))
        return cmd_poll();
    if (!strcmp(cmd, "polls"))
        return cmd_polls();
    if (!strcmp(cmd, "close"))
        return cmd_close();
    if (!strcmp(cmd, "accept")) {
        say("accept=%ld\n", xabi_accept());
        say("accept_again=%ld\n", xabi_accept());
        return 0;
    }
    if (!strcmp(cmd, "get"))
        return cmd_get(argc, argv);
    if (!strcmp(cmd, "put") && argc == 3)
        return cmd_put(argv[2]);
    if (!strcmp(cmd, "connect") && argc >= 3)
        return cmd_connect(argv[2], argc > 3 ? atol(argv[3]) : 0);
    if (!strcmp(cmd, "open") && argc == 4) {
        say("open=%ld\n", xabi_open_url(argv[2], argv[3]));
        return 0;
    }
    if (!strcmp(cmd, "exit")) {
        xabi_write(1, "before\n", 7);
        xabi_exit();
        xabi_write(1, "after\n", 6);
        return 3;
    }
    return 2;
}
