/* The sockets' ways out of the picoprocess (the VFS's env.net_*, vfs.h): the Monitor's
 * channels, through the ABI — never a host socket (DESIGN.md invariant 10).
 *
 *   net_accept    ACCEPT: a connection from the browser (only when the Monitor offers them:
 *                 XAX_BOOT_FLAG_ACCEPT, serve's instances that serve HTTP)
 *   net_connect   OPEN_URL "connect" with the image's origin: only when the address and
 *                 port a program connects to are its origin's (layer_host->origin names
 *                 the host by address: a name cannot be matched, so that origin is
 *                 reached through xabi_open_url only); the Monitor checks it again
 *   net_read, net_write, net_shutdown, net_wait: the channel's READ, WRITE, CLOSE (half),
 *                 and a POLL that waits (wait.c's), the layer's lock let go. */
#include "net.h"

#include "../lib/sys.h"
#include "layer.h"
#include "wait.h"
#include "xax_protocol.h"

#define POLLIN_ 0x1

long net_accept(void *ctx)
{
    (void)ctx;
    if (!(layer_host->flags & XAX_BOOT_FLAG_ACCEPT))
        return -EAGAIN;
    int chan = LAYER_ABI->accept();
    return chan >= 0 ? chan : -EAGAIN;
}

/* -- the origin's address -------------------------------------------------------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                                                       : -1;
}

/* a dotted quad (exactly four decimal numbers up to 255) into out[0..3]; its length, or 0 */
static size_t parse_v4(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part && (i >= n || s[i++] != '.'))
            return 0;
        unsigned v = 0, digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 3)
            v = v * 10 + (unsigned)(s[i++] - '0'), digits++;
        if (!digits || v > 255)
            return 0;
        out[part] = (uint8_t)v;
    }
    return i;
}

/* an IPv6 address (with "::" and a trailing dotted quad) into out; 0 or -1 */
static int parse_v6(const char *s, size_t n, uint8_t out[16])
{
    uint16_t words[8] = {0};
    int count = 0, gap = -1;
    size_t i = 0;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    }
    while (i < n) {
        if (count == 8)
            return -1;
        uint8_t quad[4];
        size_t q = count <= 6 ? parse_v4(s + i, n - i, quad) : 0;
        if (q && i + q == n) {
            words[count++] = (uint16_t)(quad[0] << 8 | quad[1]);
            if (count == 8)
                return -1;
            words[count++] = (uint16_t)(quad[2] << 8 | quad[3]);
            i = n;
            break;
        }
        unsigned v = 0, digits = 0;
        int h;
        while (i < n && (h = hexval(s[i])) >= 0 && digits < 4)
            v = v * 16 + (unsigned)h, i++, digits++;
        if (!digits)
            return -1;
        words[count++] = (uint16_t)v;
        if (i == n)
            break;
        if (s[i++] != ':')
            return -1;
        if (i < n && s[i] == ':') {
            if (gap >= 0)
                return -1;
            gap = count;
            i++;
        } else if (i == n) {
            return -1;
        }
    }
    if (gap < 0 ? count != 8 : count > 7)
        return -1;
    uint16_t full[8] = {0};
    int tail = gap < 0 ? 0 : count - gap;
    for (int k = 0; k < (gap < 0 ? count : gap); k++)
        full[k] = words[k];
    for (int k = 0; k < tail; k++)
        full[8 - tail + k] = words[gap + k];
    for (int k = 0; k < 8; k++)
        out[2 * k] = (uint8_t)(full[k] >> 8), out[2 * k + 1] = (uint8_t)full[k];
    return 0;
}

/* the origin "scheme://host[:port]" as an address (IPv4 mapped) and port: 0, or -1 when
 * there is none, or its host is a name */
static int origin_address(uint8_t addr[16], uint16_t *port)
{
    const char *o = layer_host->origin;
    if (!o)
        return -1;
    size_t n = strlen(o);
    const char *sep = 0;
    for (size_t i = 0; i + 2 < n; i++)
        if (o[i] == ':' && o[i + 1] == '/' && o[i + 2] == '/') {
            sep = o + i;
            break;
        }
    if (!sep)
        return -1;
    int https = sep - o == 5 && strncmp(o, "https", 5) == 0;
    const char *h = sep + 3, *end = o + n, *colon = 0;
    memset(addr, 0, 16);
    if (*h == '[') {
        const char *close = h;
        while (close < end && *close != ']')
            close++;
        if (close == end || parse_v6(h + 1, (size_t)(close - h - 1), addr) < 0)
            return -1;
        colon = close + 1 < end && close[1] == ':' ? close + 1 : 0;
    } else {
        const char *c = h;
        while (c < end && *c != ':')
            c++;
        uint8_t quad[4];
        if (parse_v4(h, (size_t)(c - h), quad) != (size_t)(c - h))
            return -1; /* a name */
        addr[10] = addr[11] = 0xff;
        memcpy(addr + 12, quad, 4);
        colon = c < end ? c : 0;
    }
    unsigned p = https ? 443 : 80;
    if (colon) {
        p = 0;
        for (const char *d = colon + 1; d < end; d++) {
            if (*d < '0' || *d > '9' || p > 65535)
                return -1;
            p = p * 10 + (unsigned)(*d - '0');
        }
        if (!p || p > 65535)
            return -1;
    }
    *port = (uint16_t)p;
    return 0;
}

long net_connect(void *ctx, const uint8_t addr[16], uint16_t port)
{
    (void)ctx;
    uint8_t origin[16];
    uint16_t oport;
    if (origin_address(origin, &oport) < 0 || oport != port || memcmp(origin, addr, 16) != 0)
        return -ENETUNREACH;
    const char *o = layer_host->origin;
    size_t n = strlen(o);
    char url[XAX_MAX_URL + 2];
    if (n + 2 > sizeof url)
        return -ENETUNREACH;
    memcpy(url, o, n);
    url[n] = '/';
    url[n + 1] = 0;
    int chan = LAYER_ABI->open_url("connect", url);
    return chan >= 0 ? chan : -ECONNREFUSED;
}

/* -- a channel's bytes ------------------------------------------------------------------ */

long net_read(void *ctx, int chan, void *buf, size_t n)
{
    (void)ctx;
    /* the program's buffer, as far as its first page that cannot be written (the PAL's
     * read would fault in it) */
    int len = (int)layer_host->writable(buf, n > XAX_MAX_PAYLOAD ? XAX_MAX_PAYLOAD : n);
    if (!len)
        return -EFAULT;
    int r = LAYER_ABI->read(chan, buf, len);
    return r > 0 ? r : r == 0 ? -EAGAIN : 0;
}

long net_write(void *ctx, int chan, const void *buf, size_t n)
{
    (void)ctx;
    int len = (int)layer_host->readable(buf, n > XAX_MAX_PAYLOAD ? XAX_MAX_PAYLOAD : n);
    if (!len)
        return -EFAULT;
    int r = LAYER_ABI->write(chan, (char *)buf, len);
    return r > 0 ? r : r == 0 ? -EAGAIN : -EPIPE;
}

void net_shutdown(void *ctx, int chan)
{
    (void)ctx;
    layer_host->end_output(chan);
}

long net_wait(void *ctx, int chan, uint32_t events, uint32_t *word, uint32_t seen)
{
    (void)ctx;
    uint32_t wakes = layer_host->poll_wakes();
    if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != seen)
        return 0;
    xabi_poll_fd p = {chan, chan == XAX_ACCEPT_CHAN ? XABI_POLLIN : wait_xabi_bits(events ? events : POLLIN_), 0};
    uint32_t exec_gen = layer_wait_begin();
    layer_host->poll_wait(&p, 1, WAIT_FOREVER, wakes);
    return layer_wait_end(exec_gen);
}
