/* A web server written for Xax: it takes the page's connections with xabi_accept
 * (sleeping in xabi_poll on XABI_ACCEPT_CHNL between them) and answers over the
 * channel, one connection at a time.  What it answers depends on the path, so
 * that the tests can make it behave well or badly:
 *
 *   /                   an HTML page
 *   /echo...            text/plain: the request as received (method, target, headers, body)
 *   /stream             a chunked response in 20 pieces, written as they are made
 *   /count              how many connections it has accepted
 *   /big                a 4 MiB body with its Content-Length
 *   /flood              a close-delimited body that never ends
 *   /malformed          a response line that is not HTTP
 *   /hang               reads the request, then leaves the connection open and unanswered
 *   /half               half a response head, then the connection is closed
 *   /die                half a body, then the program exits with status 3
 *   /exit               a response, then the program exits with status 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xabi.h"

static char req[1 << 20];
static long accepted;

static long write_all(int chnl, const char *data, long len)
{
    long done = 0;
    while (done < len) {
        int n = xabi_write(chnl, (char *)data + done, len - done > 65536 ? 65536 : (int)(len - done));
        if (n < 0)
            return -1;
        if (n == 0) {
            xabi_poll_fd p = {chnl, XABI_POLLOUT, 0};
            if (xabi_poll(&p, 1, true) < 0 || (p.revents & (XABI_POLLERR | XABI_POLLHUP)))
                return -1;
            continue;
        }
        done += n;
    }
    return done;
}

static long say(int chnl, const char *s)
{
    return write_all(chnl, s, (long)strlen(s));
}

/* The request head, and as much body as Content-Length says; its length, or -1. */
static long read_request(int chnl)
{
    long len = 0, body_at = -1, want = 0;
    for (;;) {
        if (body_at >= 0 && len >= body_at + want)
            return len;
        if (len >= (long)sizeof req - 1)
            return -1;
        int n = xabi_read(chnl, req + len, (int)(sizeof req - 1 - len));
        if (n < 0)
            return body_at >= 0 ? len : -1;
        if (n == 0) {
            xabi_poll_fd p = {chnl, XABI_POLLIN, 0};
            xabi_poll(&p, 1, true);
            continue;
        }
        len += n;
        req[len] = 0;
        if (body_at < 0) {
            char *end = strstr(req, "\r\n\r\n");
            if (end) {
                body_at = end + 4 - req;
                char *cl = strstr(req, "\r\ncontent-length: ");
                if (!cl)
                    cl = strstr(req, "\r\nContent-Length: ");
                want = cl && cl < end ? atol(cl + 18) : 0;
            }
        }
    }
}

static void answer(int chnl, const char *path)
{
    char head[512];
    if (!strcmp(path, "/")) {
        static const char page[] = "<!doctype html><title>httpd</title><h1>hello from a picoprocess</h1>\n";
        /* Connection: close says what the program does after every response, so that a client
         * of the native build (xabi_posix.c; benchmarks/bench_serve.py) opens a new connection
         * instead of writing its next request on this one. */
        snprintf(head, sizeof head,
                 "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                 sizeof page - 1);
        say(chnl, head);
        say(chnl, page);
    } else if (!strncmp(path, "/echo", 5)) {
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
                 strlen(req));
        say(chnl, head);
        say(chnl, req);
    } else if (!strcmp(path, "/stream")) {
        say(chnl, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 20; i++) {
            char piece[64];
            int n = snprintf(piece, sizeof piece, "piece %02d\n", i);
            snprintf(head, sizeof head, "%x\r\n", n);
            say(chnl, head);
            say(chnl, piece);
            say(chnl, "\r\n");
        }
        say(chnl, "0\r\n\r\n");
    } else if (!strcmp(path, "/count")) {
        char body[32];
        int n = snprintf(body, sizeof body, "%ld\n", accepted);
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", n);
        say(chnl, head);
        say(chnl, body);
    } else if (!strcmp(path, "/big")) {
        static char block[65536];
        memset(block, 'b', sizeof block);
        say(chnl, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4194304\r\n\r\n");
        for (int i = 0; i < 64; i++)
            if (write_all(chnl, block, sizeof block) < 0)
                break;
    } else if (!strcmp(path, "/flood")) {
        static char block[65536];
        memset(block, 'f', sizeof block);
        say(chnl, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n");
        while (write_all(chnl, block, sizeof block) >= 0)
            ;
    } else if (!strcmp(path, "/malformed")) {
        say(chnl, "HTTP/1.1 banana split\r\nX: \x01\r\n\r\n");
    } else if (!strcmp(path, "/hang")) {
        return; /* the channel stays open, unanswered */
    } else if (!strcmp(path, "/half")) {
        say(chnl, "HTTP/1.1 200 OK\r\nContent-Le");
    } else if (!strcmp(path, "/die")) {
        say(chnl, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nhalf a body");
        exit(3);
    } else if (!strcmp(path, "/exit")) {
        say(chnl, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbye\n");
        xabi_close(chnl);
        exit(0);
    } else {
        say(chnl, "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n");
    }
    xabi_close(chnl);
}

int main(void)
{
    for (;;) {
        xabi_poll_fd p = {XABI_ACCEPT_CHNL, XABI_POLLIN, 0};
        if (xabi_poll(&p, 1, true) < 0)
            return 1;
        int chnl = xabi_accept();
        if (chnl < 0)
            continue;
        accepted++;
        long len = read_request(chnl);
        if (len < 0) {
            xabi_close(chnl);
            continue;
        }
        char path[256] = "";
        const char *sp = strchr(req, ' ');
        if (sp) {
            size_t i = 0;
            for (sp++; *sp && *sp != ' ' && *sp != '?' && i < sizeof path - 1; sp++)
                path[i++] = *sp;
            path[i] = 0;
        }
        answer(chnl, path);
    }
}
