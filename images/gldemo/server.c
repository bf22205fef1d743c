/* The demo's web server, written for Xax: it waits in xabi_poll (XABI_ACCEPT_CHNL is
 * ready while a browser connection waits), takes each connection with xabi_accept,
 * and answers on that channel with plain HTTP/1.1, one request per connection (the
 * Monitor sends Connection: close and re-frames the response for the browser).
 *
 *   GET /              www/index.html      the page
 *   GET /gldemo.js     www/gldemo.js       its JavaScript stubs
 *   GET /frames        the animation, an endless stream of messages (?count=N: N frames)
 *
 * The stream is the article's pattern: each message names a function of the page's
 * stubs and carries its arguments, and the stubs turn it into that call:
 *   u32 length (big-endian, of what follows) | u8 call | arguments
 *   'S' status text (UTF-8)                       -> setStatus(text)
 *   'F' u32 frame, u16 width, u16 height, RGB     -> drawFrame(n, width, height, rgb)
 * Frames are paced at about 15 a second, and a slow reader slows the renderer down
 * (a write that is not ready waits in xabi_poll for POLLOUT). */
#include "server.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"
#include "xabi.h"

#define MAX_CONNS 16
#define REQUEST_MAX 8192
#define FRAME_MSG (4 + 1 + 8 + FRAME_BYTES)
#define FRAME_INTERVAL_NS 66000000L

enum state { FREE, READING, WRITING, STREAMING };

struct conn {
    enum state state;
    int chnl;
    char request[REQUEST_MAX];
    int request_len;
    char *out; /* what is being written: owned (malloc) */
    long out_len, out_done;
    unsigned next_frame, frames_left; /* STREAMING: frames_left 0 means endless */
    struct timespec due;              /* STREAMING: when the next frame may go */
};

static struct conn conns[MAX_CONNS];
static const char *www;
static const char *renderer_name;

static void conn_close(struct conn *c)
{
    xabi_close(c->chnl);
    free(c->out);
    c->out = NULL;
    c->state = FREE;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

/* Queues bytes (taking ownership of buf) to be written on c. */
static void queue(struct conn *c, char *buf, long len, enum state next)
{
    free(c->out);
    c->out = buf, c->out_len = len, c->out_done = 0;
    c->state = next;
}

static void respond(struct conn *c, const char *status, const char *type, const char *body, long body_len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %ld\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n", status, type, body_len);
    char *buf = malloc(n + body_len);
    if (!buf) {
        conn_close(c);
        return;
    }
    memcpy(buf, head, n);
    memcpy(buf + n, body, body_len);
    queue(c, buf, n + body_len, WRITING);
}

static void respond_text(struct conn *c, const char *status, const char *text)
{
    respond(c, status, "text/plain; charset=utf-8", text, (long)strlen(text));
}

static void respond_file(struct conn *c, const char *name, const char *type)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", www, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        respond_text(c, "404 Not Found", "not found\n");
        return;
    }
    static char body[1 << 16];
    long len = (long)fread(body, 1, sizeof body, f);
    fclose(f);
    respond(c, "200 OK", type, body, len);
}

/* The head of the stream and its first message, the status line. */
static void start_stream(struct conn *c, unsigned count)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                               "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
    char status[256];
    int slen = snprintf(status, sizeof status, "Mesa %s, %dx%d", renderer_name, FRAME_W, FRAME_H);
    long len = (long)sizeof head - 1 + 5 + slen;
    char *buf = malloc(len);
    if (!buf) {
        conn_close(c);
        return;
    }
    memcpy(buf, head, sizeof head - 1);
    uint8_t *m = (uint8_t *)buf + sizeof head - 1;
    put_u32(m, 1 + slen);
    m[4] = 'S';
    memcpy(m + 5, status, slen);
    c->next_frame = 0;
    c->frames_left = count;
    clock_gettime(CLOCK_MONOTONIC, &c->due);
    queue(c, buf, len, STREAMING);
}

static void next_frame(struct conn *c)
{
    uint8_t *m = malloc(FRAME_MSG);
    if (!m) {
        conn_close(c);
        return;
    }
    put_u32(m, FRAME_MSG - 4);
    m[4] = 'F';
    put_u32(m + 5, c->next_frame);
    m[9] = FRAME_W >> 8, m[10] = FRAME_W & 0xff, m[11] = FRAME_H >> 8, m[12] = FRAME_H & 0xff;
    render_frame(c->next_frame, m + 13);
    c->next_frame++;
    queue(c, (char *)m, FRAME_MSG, STREAMING);
}

static unsigned query_count(const char *target)
{
    const char *q = strstr(target, "?count=");
    return q ? (unsigned)strtoul(q + 7, NULL, 10) : 0;
}

static void route(struct conn *c)
{
    char method[16], target[1024];
    if (sscanf(c->request, "%15s %1023s", method, target) != 2) {
        respond_text(c, "400 Bad Request", "bad request\n");
        return;
    }
    if (strcmp(method, "GET") != 0) {
        respond_text(c, "405 Method Not Allowed", "only GET\n");
        return;
    }
    size_t path_len = strcspn(target, "?");
    if (path_len == 1 && target[0] == '/')
        respond_file(c, "index.html", "text/html; charset=utf-8");
    else if (path_len == 10 && strncmp(target, "/gldemo.js", 10) == 0)
        respond_file(c, "gldemo.js", "text/javascript; charset=utf-8");
    else if (path_len == 7 && strncmp(target, "/frames", 7) == 0)
        start_stream(c, query_count(target));
    else
        respond_text(c, "404 Not Found", "not found\n");
}

static void on_readable(struct conn *c)
{
    int r = xabi_read(c->chnl, c->request + c->request_len, REQUEST_MAX - 1 - c->request_len);
    if (r < 0) {
        conn_close(c);
        return;
    }
    c->request_len += r;
    c->request[c->request_len] = 0;
    if (strstr(c->request, "\r\n\r\n"))
        route(c);
    else if (c->request_len == REQUEST_MAX - 1)
        respond_text(c, "431 Request Header Fields Too Large", "request too large\n");
}

static int due(const struct conn *c, const struct timespec *now)
{
    return now->tv_sec > c->due.tv_sec || (now->tv_sec == c->due.tv_sec && now->tv_nsec >= c->due.tv_nsec);
}

static void on_writable(struct conn *c)
{
    if (c->out_done < c->out_len) {
        long left = c->out_len - c->out_done;
        int w = xabi_write(c->chnl, c->out + c->out_done, left > (1 << 20) ? 1 << 20 : (int)left);
        if (w < 0) { /* the browser went away */
            conn_close(c);
            return;
        }
        c->out_done += w;
        if (c->out_done < c->out_len)
            return;
    }
    if (c->state == WRITING || (c->frames_left && c->next_frame == c->frames_left)) {
        conn_close(c);
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!due(c, &now)) {
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &c->due, NULL);
    }
    c->due.tv_nsec += FRAME_INTERVAL_NS;
    if (c->due.tv_nsec >= 1000000000L)
        c->due.tv_sec++, c->due.tv_nsec -= 1000000000L;
    next_frame(c);
}

static void accept_all(void)
{
    int chnl;
    while ((chnl = xabi_accept()) >= 0) {
        struct conn *c = NULL;
        for (int i = 0; i < MAX_CONNS && !c; i++)
            if (conns[i].state == FREE)
                c = &conns[i];
        if (!c) { /* full: this one is refused */
            xabi_close(chnl);
            continue;
        }
        memset(c, 0, sizeof *c);
        c->chnl = chnl;
        c->state = READING;
    }
}

int serve(const char *www_dir, const char *renderer)
{
    www = www_dir;
    renderer_name = renderer;
    for (;;) {
        xabi_poll_fd pfds[1 + MAX_CONNS];
        struct conn *owner[1 + MAX_CONNS];
        int n = 0;
        pfds[n++] = (xabi_poll_fd){XABI_ACCEPT_CHNL, XABI_POLLIN, 0};
        for (int i = 0; i < MAX_CONNS; i++) {
            if (conns[i].state == FREE)
                continue;
            short ev = conns[i].state == READING ? XABI_POLLIN : XABI_POLLOUT;
            owner[n] = &conns[i];
            pfds[n++] = (xabi_poll_fd){conns[i].chnl, ev, 0};
        }
        if (xabi_poll(pfds, n, true) <= 0) {
            fprintf(stderr, "gldemo: xabi_poll failed\n");
            return -1;
        }
        for (int i = 1; i < n; i++) {
            struct conn *c = owner[i];
            if (!pfds[i].revents || c->state == FREE)
                continue;
            if (pfds[i].revents & (XABI_POLLERR | XABI_POLLHUP) && c->state != READING)
                conn_close(c);
            else if (c->state == READING)
                on_readable(c);
            else
                on_writable(c);
        }
        if (pfds[0].revents & XABI_POLLIN)
            accept_all();
    }
}
