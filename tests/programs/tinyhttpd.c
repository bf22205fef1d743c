/* A tiny HTTP server on POSIX sockets (not written for Xax): listens on port 8080 of every
 * address, and answers each connection's request line with a page naming the path, the
 * connection's number and the peer's address, then closes it.  Under `run --connection` or
 * `serve` the connections come from outside through the Monitor. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
    int l = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), zero = 0, one = 1;
    setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(8080)};
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 16)) {
        perror("tinyhttpd: listen");
        return 1;
    }
    fprintf(stderr, "tinyhttpd: listening on [::]:8080\n");
    for (int n = 1;; n++) {
        struct sockaddr_in6 peer;
        socklen_t len = sizeof peer;
        int c = accept(l, (struct sockaddr *)&peer, &len);
        if (c < 0)
            return 2;
        char req[4096] = {0}, path[256] = "?", host[64] = "?", page[1024];
        size_t got = 0;
        while (got < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
            ssize_t k = read(c, req + got, sizeof req - 1 - got);
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        sscanf(req, "%*s %255s", path);
        inet_ntop(AF_INET6, &peer.sin6_addr, host, sizeof host);
        int body = snprintf(page, sizeof page, "path %s, connection %d, from %s\n", path, n, host);
        char head[256];
        int h = snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n",
                         body);
        write(c, head, h);
        write(c, page, body);
        shutdown(c, SHUT_WR);
        close(c);
    }
}
