/* Origin download throughput: `download HOST PORT PATH` fetches http://HOST:PORT/PATH
 * RUNS times and prints the median time and MB/s (1e6 bytes/s) of one whole body.
 * Sealed: xabi_open_url("get") and xabi_read through the Monitor (which does the
 * HTTP); natively: an HTTP/1.0 GET on a plain socket, the same server. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "xabi.h"

enum { RUNS = 5, CHUNK = 1 << 20 }; /* the most one xabi_read moves (XAX_MAX_READ); native reads the same */
static char buf[CHUNK];

static long sealed_get(const struct xabi_table *abi, const char *url)
{
    int chan = abi->open_url("get", url);
    if (chan < 0)
        return -1;
    long total = 0;
    for (;;) {
        int n = abi->read(chan, buf, CHUNK);
        if (n > 0) {
            total += n;
        } else if (n < 0) {
            break;
        } else {
            xabi_poll_fd p = {chan, XABI_POLLIN, 0};
            abi->poll(&p, 1, true);
        }
    }
    abi->close(chan);
    return total;
}

static long native_get(const char *host, int port, const char *path)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    int len = snprintf(buf, CHUNK, "GET /%s HTTP/1.0\r\nHost: %s:%d\r\n\r\n", path, host, port);
    if (write(s, buf, len) != len)
        return -1;
    long total = 0, header = -1;
    char tail[4] = {0};
    ssize_t n;
    while ((n = read(s, buf, CHUNK)) > 0) {
        for (ssize_t i = 0; header < 0 && i < n; i++) { /* the body starts after \r\n\r\n */
            memmove(tail, tail + 1, 3);
            tail[3] = buf[i];
            if (!memcmp(tail, "\r\n\r\n", 4))
                header = total + i + 1;
        }
        total += n;
    }
    close(s);
    return header < 0 ? -1 : total - header;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: download HOST PORT PATH\n");
        return 2;
    }
    const struct xabi_table *abi = (const struct xabi_table *)getauxval(AT_XAX_ABI);
    char url[1024];
    snprintf(url, sizeof url, "http://%s:%s/%s", argv[1], argv[2], argv[3]);
    double v[RUNS];
    long size = 0;
    for (int r = 0; r < RUNS; r++) {
        double t = now();
        size = abi ? sealed_get(abi, url) : native_get(argv[1], atoi(argv[2]), argv[3]);
        v[r] = now() - t;
        if (size <= 0) {
            fprintf(stderr, "download: GET %s failed\n", url);
            return 1;
        }
    }
    printf("bytes %ld\n", size);
    printf("download_ns %.0f\n", median(v, RUNS));
    printf("download_mbps %.1f\n", size / (median(v, RUNS) / 1e9) / 1e6);
    return 0;
}
