/* A test double of the Xax ABI's connection calls over a loopback TCP socket, so that a
 * server written for Xax (images/gldemo) can be driven by a browser without a Monitor:
 * its page and its protocol tested on their own, natively.  Nothing sealed here; the same
 * program under `xax-emu serve` is tested in test_serve_browser.py.
 *
 * XABI_POSIX_PORT names the loopback port it listens on (at the first call).  Only the calls
 * a server needs: xabi_accept, xabi_poll (XABI_ACCEPT_CHNL is the listening socket),
 * xabi_read, xabi_write, xabi_close -- with the article's return conventions: bytes moved,
 * 0 if not ready, -1 if closed or failed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xabi.h"

static int listener = -1;

static int listening(void)
{
    if (listener >= 0)
        return listener;
    const char *port = getenv("XABI_POSIX_PORT");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port ? atoi(port) : 0),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 64)) {
        perror("xabi_posix: listen");
        exit(3);
    }
    return listener = fd;
}

int xabi_present(void)
{
    return 1;
}

int xabi_accept(void)
{
    int fd = accept4(listening(), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return fd < 0 ? -1 : fd;
}

int xabi_poll(xabi_poll_fd *pfds, int npfds, bool block)
{
    struct pollfd p[64];
    if (npfds > 64)
        return -1;
    for (int i = 0; i < npfds; i++) {
        p[i].fd = pfds[i].chnl == XABI_ACCEPT_CHNL ? listening() : pfds[i].chnl;
        p[i].events = (pfds[i].events & XABI_POLLIN ? POLLIN : 0) | (pfds[i].events & XABI_POLLOUT ? POLLOUT : 0);
    }
    int n;
    do
        n = poll(p, npfds, block ? -1 : 0);
    while (n < 0 && errno == EINTR);
    for (int i = 0; i < npfds; i++)
        pfds[i].revents = (p[i].revents & POLLIN ? XABI_POLLIN : 0) | (p[i].revents & POLLOUT ? XABI_POLLOUT : 0) |
                          (p[i].revents & POLLERR ? XABI_POLLERR : 0) | (p[i].revents & POLLHUP ? XABI_POLLHUP : 0);
    return n;
}

int xabi_read(int chnl, char *buf, int len)
{
    ssize_t n = read(chnl, buf, len);
    if (n > 0)
        return (int)n;
    return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1; /* 0 bytes read: closed */
}

int xabi_write(int chnl, char *buf, int len)
{
    ssize_t n = send(chnl, buf, len, MSG_NOSIGNAL);
    if (n >= 0)
        return (int)n;
    return errno == EAGAIN || errno == EINTR ? 0 : -1;
}

int xabi_close(int chnl)
{
    return close(chnl);
}
