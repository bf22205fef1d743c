/* Attack: the emulated sockets as a way out.  With a profile that has sockets, try every
 * address a host socket could reach: the test's loopback listener (IPv4, the wildcard, IPv6),
 * another server on this machine that is not the picoprocess's origin, the Internet and a
 * private network, UDP to the test's socket and to broadcast, a listener on a port the test
 * then connects to from outside, raw and packet and netlink sockets, and fds (the channel's,
 * the image's) passed with SCM_RIGHTS.  Only the origin answers (through the Monitor).
 *
 * argv: canary, listener port, then: origin port, other server's port, the test's UDP port,
 * the test's IPv6 listener port (0: none), a port to listen on. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "hostile.h"
#include "xax_protocol.h"

static struct sockaddr_in v4(const char *host, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    return a;
}

static long tcp_to(const char *host, int port)
{
    struct sockaddr_in a = v4(host, port);
    long fd = raw3(SYS_socket, AF_INET, SOCK_STREAM, 0);
    long r = raw3(SYS_connect, fd, (long)&a, sizeof a);
    raw1(SYS_close, fd);
    return r;
}

/* the origin's answer to a GET, through a socket connected to it: its status code, or -errno */
static long origin_get(int port)
{
    struct sockaddr_in a = v4("127.0.0.1", port);
    long fd = raw3(SYS_socket, AF_INET, SOCK_STREAM, 0);
    long r = raw3(SYS_connect, fd, (long)&a, sizeof a);
    if (r < 0)
        return r;
    const char req[] = "GET /ok HTTP/1.0\r\nHost: origin\r\n\r\n";
    raw6(SYS_sendto, fd, (long)req, sizeof req - 1, 0, 0, 0);
    char buf[256] = {0};
    long got = 0, n;
    while (got < (long)sizeof buf - 1 && (n = raw6(SYS_recvfrom, fd, (long)buf + got, sizeof buf - 1 - got, 0, 0, 0)) > 0)
        got += n;
    raw1(SYS_close, fd);
    return strncmp(buf, "HTTP/1.0 ", 9) == 0 ? atol(buf + 9) : -1;
}

static long pass_fds(int type, int family)
{
    int sv[2] = {-1, -1};
    long r;
    if (family == AF_UNIX) {
        r = raw4(SYS_socketpair, AF_UNIX, type, 0, (long)sv);
    } else { /* a TCP connection inside the picoprocess */
        struct sockaddr_in a = v4("127.0.0.1", 0);
        socklen_t len = sizeof a;
        long l = raw3(SYS_socket, AF_INET, SOCK_STREAM, 0);
        raw3(SYS_bind, l, (long)&a, sizeof a);
        raw2(SYS_listen, l, 1);
        raw3(SYS_getsockname, l, (long)&a, (long)&len);
        sv[0] = (int)raw3(SYS_socket, AF_INET, SOCK_STREAM, 0);
        r = raw3(SYS_connect, sv[0], (long)&a, sizeof a);
        sv[1] = (int)raw3(SYS_accept, l, 0, 0);
        raw1(SYS_close, l);
    }
    if (r < 0)
        return r;
    int fds[2] = {3, 1023}; /* the channel's number and the image's */
    char cbuf[CMSG_SPACE(sizeof fds)] = {0};
    char byte = 'x';
    struct iovec iov = {&byte, 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    r = raw3(SYS_sendmsg, sv[0], (long)&m, 0);
    raw1(SYS_close, sv[0]);
    raw1(SYS_close, sv[1]);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 8)
        return 2;
    int listener = atoi(argv[2]), origin = atoi(argv[3]), other = atoi(argv[4]), udp = atoi(argv[5]);
    int v6 = atoi(argv[6]), mine = atoi(argv[7]);
    report("listener", tcp_to("127.0.0.1", listener));
    report("listener_any", tcp_to("0.0.0.0", listener));
    report("listener_127_2", tcp_to("127.0.0.2", listener));
    if (v6) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(v6), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        long fd = raw3(SYS_socket, AF_INET6, SOCK_STREAM, 0);
        report("listener_v6", raw3(SYS_connect, fd, (long)&a, sizeof a));
        struct sockaddr_in6 m = {.sin6_family = AF_INET6, .sin6_port = htons(listener)};
        inet_pton(AF_INET6, "::ffff:127.0.0.1", &m.sin6_addr);
        long fd2 = raw3(SYS_socket, AF_INET6, SOCK_STREAM, 0);
        report("listener_mapped", raw3(SYS_connect, fd2, (long)&m, sizeof m));
    }
    report("other_server", tcp_to("127.0.0.1", other));
    report("internet", tcp_to("8.8.8.8", 53));
    report("private", tcp_to("10.0.0.1", origin));
    report("origin", origin_get(origin));

    long u = raw3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = v4("127.0.0.1", udp), bcast = v4("255.255.255.255", udp), net = v4("127.255.255.255", udp);
    report("udp_loopback", raw6(SYS_sendto, u, (long)"x", 1, 0, (long)&to, sizeof to));
    report("udp_broadcast", raw6(SYS_sendto, u, (long)"x", 1, 0, (long)&bcast, sizeof bcast));
    int one = 1;
    raw6(SYS_setsockopt, u, SOL_SOCKET, SO_BROADCAST, (long)&one, sizeof one, 0);
    report("udp_broadcast_allowed", raw6(SYS_sendto, u, (long)"x", 1, 0, (long)&bcast, sizeof bcast));
    report("udp_loopback_net", raw6(SYS_sendto, u, (long)"x", 1, 0, (long)&net, sizeof net));

    report("raw", raw3(SYS_socket, AF_INET, SOCK_RAW, IPPROTO_ICMP));
    report("packet", raw3(SYS_socket, 17 /* AF_PACKET */, SOCK_RAW, 0));
    report("netlink", raw3(SYS_socket, 16 /* AF_NETLINK */, SOCK_RAW, 0));
    report("scm_rights_unix", pass_fds(SOCK_STREAM, AF_UNIX));
    report("scm_rights_dgram", pass_fds(SOCK_DGRAM, AF_UNIX));
    report("scm_rights_tcp", pass_fds(SOCK_STREAM, AF_INET));
    report("getsockname_chan", raw3(SYS_getsockname, XAX_CHANNEL_FD, 0, 0));
    report("shutdown_chan", raw2(SYS_shutdown, XAX_CHANNEL_FD, SHUT_RDWR));

    /* a listener of ours on the port the test connects to from outside meanwhile */
    struct sockaddr_in at = v4("0.0.0.0", mine);
    long l = raw3(SYS_socket, AF_INET, SOCK_STREAM, 0);
    report("bind_mine", raw3(SYS_bind, l, (long)&at, sizeof at));
    report("listen_mine", raw2(SYS_listen, l, 16));
    printf("listening\n");
    fflush(stdout);
    struct pollfd p = {(int)l, POLLIN, 0};
    report("accepted_from_outside", raw3(SYS_poll, (long)&p, 1, 3000));
    report("done", 1);
    return 0;
}
