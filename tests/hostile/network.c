/* Attack: reach the network or another socket.  socket() of every useful
 * family, connect()/bind()/sendto() on the channel (XAX_CHANNEL_FD) and on fd 0 towards the
 * test's loopback listener (argv[2]), socketpair(), listen/accept on the channel. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "hostile.h"
#include "xax_protocol.h"

int main(int argc, char **argv)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "\0xax-hostile"};
    int pair[2] = {-1, -1};
    report("socket_inet", raw3(SYS_socket, AF_INET, SOCK_STREAM, 0));
    report("socket_inet6", raw3(SYS_socket, AF_INET6, SOCK_DGRAM, 0));
    report("socket_unix", raw3(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
    report("socket_netlink", raw3(SYS_socket, AF_NETLINK, SOCK_RAW, 0));
    report("socket_packet", raw3(SYS_socket, AF_PACKET, SOCK_RAW, 0));
    report("connect_chan", raw3(SYS_connect, XAX_CHANNEL_FD, (long)&to, sizeof to));
    report("connect_fd0", raw3(SYS_connect, 0, (long)&to, sizeof to));
    report("connect_chan_junk", raw3(SYS_connect, XAX_CHANNEL_FD | (7L << 32), (long)&to, sizeof to));
    report("sendto_chan", raw6(SYS_sendto, XAX_CHANNEL_FD, (long)"x", 1, 0, (long)&to, sizeof to));
    report("sendmsg_chan", raw3(SYS_sendmsg, XAX_CHANNEL_FD, 0, 0));
    report("bind_chan", raw3(SYS_bind, XAX_CHANNEL_FD, (long)&un, sizeof un));
    report("bind_inet", raw3(SYS_bind, XAX_CHANNEL_FD, (long)&to, sizeof to));
    report("listen_chan", raw2(SYS_listen, XAX_CHANNEL_FD, 1));
    report("accept_chan", raw3(SYS_accept, XAX_CHANNEL_FD, 0, 0));
    report("socketpair", raw4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, (long)pair));
    report("pair_untouched", pair[0] == -1 && pair[1] == -1);
    (void)argc;
    return 0;
}
