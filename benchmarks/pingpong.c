/* The floor under a null xaxcall: round trips of a header-sized datagram over a
 * SOCK_SEQPACKET socketpair, the channel's kind.  `pingpong` forks an echo child in
 * C (the kernel's part: two wake-ups and context switches per round trip);
 * `pingpong FD` talks to whatever echoes on inherited FD (benchmarks/run.py puts a
 * Python selectors loop there, the Monitor's shape).  Prints "name ns" (median). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "xax_protocol.h"

enum { RUNS = 15, TRIPS = 2000 };

int main(int argc, char **argv)
{
    char msg[XAX_HEADER_SIZE] = {1}, back[XAX_HEADER_SIZE];
    int fd;
    pid_t child = -1;
    if (argc > 1) {
        fd = atoi(argv[1]);
    } else {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
            return 1;
        child = fork();
        if (child == 0) {
            close(sv[0]);
            ssize_t n;
            while ((n = recv(sv[1], back, sizeof back, 0)) > 0)
                send(sv[1], back, n, 0);
            _exit(0);
        }
        close(sv[1]);
        fd = sv[0];
    }
    double v[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t = now();
        for (int i = 0; i < TRIPS; i++)
            if (send(fd, msg, sizeof msg, 0) != sizeof msg || recv(fd, back, sizeof back, 0) != sizeof back)
                return 1;
        v[r] = (now() - t) / TRIPS;
    }
    printf("%s %.1f\n", argc > 1 ? "roundtrip_fd" : "roundtrip_c", median(v, RUNS));
    close(fd);
    if (child > 0)
        waitpid(child, 0, 0);
    return 0;
}
