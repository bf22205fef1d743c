/* Sockets and readiness, as a program uses them, printed so that the native run and the
 * picoprocess's can be compared line by line (ports are printed as "port", never their
 * number): a socketpair, a TCP server and client on loopback in one process (non-blocking
 * connect, poll, accept, blocking reads served by another thread), UDP to itself, epoll
 * (level and edge triggered, one-shot) over sockets, a pipe and an eventfd, select and
 * ppoll with timeouts, and one poll over stdin (a channel) and a pipe together. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void say(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 errno %d\n", what, errno);
    else
        printf("%s: %ld\n", what, r);
}

static void show_addr(const char *what, const struct sockaddr *a, socklen_t len)
{
    char host[64] = "?";
    if (a->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)a)->sin_addr, host, sizeof host);
    else if (a->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)a)->sin6_addr, host, sizeof host);
    printf("%s: family %d len %u host %s port %s\n", what, a->sa_family, len, host,
           a->sa_family == AF_UNIX ? "-" : (((struct sockaddr_in *)a)->sin_port ? "port" : "0"));
}

static void name(const char *what, int fd, int peer)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    int r = peer ? getpeername(fd, (struct sockaddr *)&a, &len) : getsockname(fd, (struct sockaddr *)&a, &len);
    if (r < 0)
        say(what, r);
    else
        show_addr(what, (struct sockaddr *)&a, len);
}

static void pair(void)
{
    int sv[2];
    say("socketpair", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    say("write", write(sv[0], "ping", 4));
    char buf[16] = {0};
    say("read", read(sv[1], buf, sizeof buf));
    printf("got %s\n", buf);
    say("shutdown", shutdown(sv[0], SHUT_WR));
    struct pollfd p = {sv[1], POLLIN | POLLRDHUP, 0};
    say("poll", poll(&p, 1, 1000));
    printf("revents %#x\n", p.revents);
    say("read at end", read(sv[1], buf, sizeof buf));
    close(sv[0]);
    close(sv[1]);
}

static int listener(struct sockaddr_in *at)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    say("setsockopt", setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    say("bind", bind(l, (struct sockaddr *)&a, sizeof a));
    say("listen", listen(l, 16));
    socklen_t len = sizeof *at;
    getsockname(l, (struct sockaddr *)at, &len);
    name("listener", l, 0);
    return l;
}

struct echo {
    int fd;
    long total;
};

/* a thread that reads what comes (blocking) and echoes it back, until end of file */
static void *echo(void *arg)
{
    struct echo *e = arg;
    char buf[4096];
    for (;;) {
        ssize_t n = recv(e->fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        e->total += n;
        send(e->fd, buf, n, MSG_NOSIGNAL);
    }
    shutdown(e->fd, SHUT_WR); /* the client reads to the end */
    return 0;
}

static void tcp(void)
{
    struct sockaddr_in at;
    int l = listener(&at);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    say("connect", connect(c, (struct sockaddr *)&at, sizeof at));
    struct pollfd p[2] = {{c, POLLOUT, 0}, {l, POLLIN, 0}};
    say("poll", poll(p, 2, 1000));
    printf("revents %#x %#x\n", p[0].revents, p[1].revents);
    int err = -1;
    socklen_t elen = sizeof err;
    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &elen);
    printf("so_error %d\n", err);
    int s = accept4(l, 0, 0, SOCK_CLOEXEC);
    say("accept4", s >= 0 ? 0 : -1);
    name("accepted", s, 0);
    name("accepted peer", s, 1);
    name("client", c, 0);
    name("client peer", c, 1);
    int one = 1;
    say("nodelay", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    pthread_t t;
    struct echo e = {s, 0};
    pthread_create(&t, 0, echo, &e);
    int flags = 0; /* the client turns blocking: its reads wait for the echo thread */
    ioctl(c, FIONBIO, &flags);
    char big[100000], back[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    size_t sent = 0, got = 0;
    while (got < sizeof big) {
        if (sent < sizeof big) {
            ssize_t n = send(c, big + sent, sizeof big - sent > 8192 ? 8192 : sizeof big - sent, 0);
            if (n > 0)
                sent += n;
        }
        ssize_t n = recv(c, back + got, sizeof back - got, 0);
        if (n <= 0)
            break;
        got += n;
    }
    printf("echoed %zu bytes, same %d\n", got, got == sizeof big && memcmp(big, back, got) == 0);
    shutdown(c, SHUT_WR);
    pthread_join(t, 0);
    printf("thread read %ld\n", e.total);
    char x;
    say("read after echo ended", read(c, &x, 1));
    close(s);
    close(c);
    close(l);
}

static void udp(void)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    say("udp bind", bind(u, (struct sockaddr *)&a, sizeof a));
    socklen_t len = sizeof a;
    getsockname(u, (struct sockaddr *)&a, &len);
    say("sendto self", sendto(u, "datagram", 8, 0, (struct sockaddr *)&a, sizeof a));
    char buf[32] = {0};
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    say("recvfrom", recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen));
    show_addr("from", (struct sockaddr *)&from, flen);
    printf("got %s\n", buf);
    close(u);
}

static void epolls(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int sv[2], pp[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pipe2(pp, O_NONBLOCK);
    int ev = eventfd(0, EFD_NONBLOCK);
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = 1};
    say("ctl sv", epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &e));
    e.events = EPOLLIN | EPOLLET;
    e.data.u64 = 2;
    say("ctl pipe", epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &e));
    e.events = EPOLLIN | EPOLLONESHOT;
    e.data.u64 = 3;
    say("ctl eventfd", epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e));
    say("ctl again", epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e));
    say("ctl self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e));
    int f = open("/proc/self/exe", O_RDONLY);
    struct epoll_event out[8];
    say("wait empty", epoll_wait(ep, out, 8, 20));
    write(sv[0], "a", 1);
    write(pp[1], "b", 1);
    uint64_t one = 1;
    write(ev, &one, 8);
    for (int round = 0; round < 3; round++) {
        int n = epoll_wait(ep, out, 8, 100);
        unsigned long long seen = 0;
        for (int i = 0; i < n; i++)
            seen |= 1ULL << out[i].data.u64;
        printf("round %d: %d events, items %#llx\n", round, n, seen);
    }
    write(pp[1], "c", 1); /* a new edge */
    int n = epoll_wait(ep, out, 8, 100);
    printf("after a new byte: %d events\n", n);
    e.events = EPOLLIN;
    e.data.u64 = 3;
    say("ctl mod", epoll_ctl(ep, EPOLL_CTL_MOD, ev, &e));
    n = epoll_wait(ep, out, 8, 100);
    printf("rearmed: %d events\n", n);
    close(sv[1]); /* closing the fd takes the item away */
    uint64_t drain;
    read(ev, &drain, 8);
    char c2[4];
    read(pp[0], c2, sizeof c2);
    say("after close", epoll_wait(ep, out, 8, 0));
    say("del", epoll_ctl(ep, EPOLL_CTL_DEL, pp[0], 0));
    say("del again", epoll_ctl(ep, EPOLL_CTL_DEL, pp[0], 0));
    close(f);
    close(ep);
}

static void timeouts(void)
{
    int pp[2];
    pipe(pp);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(pp[0], &r);
    struct timeval tv = {0, 30000};
    say("select timeout", select(pp[0] + 1, &r, 0, 0, &tv));
    write(pp[1], "x", 1);
    FD_SET(pp[0], &r);
    tv.tv_usec = 30000;
    say("select ready", select(pp[0] + 1, &r, 0, 0, &tv));
    printf("isset %d\n", FD_ISSET(pp[0], &r));
    struct timespec ts = {0, 20000000};
    struct pollfd p = {pp[1], POLLOUT, 0};
    say("ppoll", ppoll(&p, 1, &ts, 0));
    printf("revents %#x\n", p.revents);
    /* A descriptor known to be closed and below 64: Linux ignores bits past
     * the process's fd table (64 slots until an fd >= 64 was ever open), so a
     * high number's answer depends on what the parent had open. */
    int closed_fd = dup(0);
    close(closed_fd);
    fd_set bad;
    FD_ZERO(&bad);
    FD_SET(closed_fd, &bad);
    say("select bad fd", select(closed_fd + 1, &bad, 0, 0, &tv));
    close(pp[0]);
    close(pp[1]);
}

/* stdin (a channel in the picoprocess) and a pipe in one poll */
static void with_stdin(void)
{
    int pp[2];
    pipe(pp);
    struct pollfd p[2] = {{0, POLLIN, 0}, {pp[0], POLLIN, 0}};
    say("poll stdin and pipe", poll(p, 2, 2000));
    printf("revents %#x %#x\n", p[0].revents & POLLIN, p[1].revents);
    char buf[64] = {0};
    say("read stdin", read(0, buf, sizeof buf - 1));
    printf("stdin %s", buf);
    close(pp[0]);
    close(pp[1]);
}

int main(void)
{
    setvbuf(stdout, 0, _IONBF, 0);
    pair();
    tcp();
    udp();
    epolls();
    timeouts();
    with_stdin();
    return 0;
}
