/* Attack: one picoprocess's sockets from another's.  "listen PORT": an abstract AF_UNIX name,
 * a TCP listener and a UDP socket on PORT, then three seconds of poll for anything arriving;
 * "connect PORT": half a second later, connect to both names and send to the UDP port.  Each
 * picoprocess's sockets are its own: nothing arrives, the connects are refused.
 * argv: canary, listener port, mode, PORT. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include "hostile.h"

static const struct sockaddr_un NAME = {.sun_family = AF_UNIX, .sun_path = "\0xax-hostile-two"};
#define NAME_LEN (sizeof(sa_family_t) + 17)

int main(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[4])),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    long un = raw3(SYS_socket, AF_UNIX, SOCK_STREAM, 0), tcp = raw3(SYS_socket, AF_INET, SOCK_STREAM, 0);
    long udp = raw3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
    if (!strcmp(argv[3], "listen")) {
        report("bind_unix", raw3(SYS_bind, un, (long)&NAME, NAME_LEN));
        report("listen_unix", raw2(SYS_listen, un, 4));
        report("bind_tcp", raw3(SYS_bind, tcp, (long)&at, sizeof at));
        report("listen_tcp", raw2(SYS_listen, tcp, 4));
        report("bind_udp", raw3(SYS_bind, udp, (long)&at, sizeof at));
        struct pollfd p[3] = {{(int)un, POLLIN, 0}, {(int)tcp, POLLIN, 0}, {(int)udp, POLLIN, 0}};
        report("arrived", raw3(SYS_poll, (long)p, 3, 3000));
    } else {
        struct timespec half = {0, 500000000};
        raw2(SYS_nanosleep, (long)&half, 0);
        report("connect_unix", raw3(SYS_connect, un, (long)&NAME, NAME_LEN));
        report("connect_tcp", raw3(SYS_connect, tcp, (long)&at, sizeof at));
        report("send_udp", raw6(SYS_sendto, udp, (long)"x", 1, 0, (long)&at, sizeof at));
    }
    return 0;
}
