/* Readiness inside one process, natively and sealed (issue 12): the cost of one poll() and
 * one epoll_wait() of a socket that is ready (a call that answers at once), and round trips
 * between two threads over a socketpair, each waiting in poll() or epoll_wait() for the
 * other's byte (a wait that blocks and is woken).  Prints "name ns" (medians). */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

enum { RUNS = 9, CALLS = 2000, TRIPS = 500 };

static int use_epoll;

static void wait_in(int fd, int ep)
{
    if (use_epoll) {
        struct epoll_event e;
        while (epoll_wait(ep, &e, 1, -1) != 1)
            ;
    } else {
        struct pollfd p = {fd, POLLIN, 0};
        while (poll(&p, 1, -1) != 1)
            ;
    }
}

static int watch(int fd)
{
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    return ep;
}

static int sv[2];

static void *echo(void *arg)
{
    (void)arg;
    int ep = watch(sv[1]);
    char c;
    for (;;) {
        wait_in(sv[1], ep);
        if (read(sv[1], &c, 1) != 1 || c == 'q')
            break;
        write(sv[1], &c, 1);
    }
    close(ep);
    return 0;
}

static double round_trips(int epoll)
{
    use_epoll = epoll;
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pthread_t t;
    pthread_create(&t, 0, echo, 0);
    int ep = watch(sv[0]);
    double v[RUNS];
    char c = 'x';
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (int i = 0; i < TRIPS; i++) {
            write(sv[0], &c, 1);
            wait_in(sv[0], ep);
            read(sv[0], &c, 1);
        }
        v[r] = (now() - t0) / TRIPS;
    }
    c = 'q';
    write(sv[0], &c, 1);
    pthread_join(t, 0);
    close(ep);
    close(sv[0]);
    close(sv[1]);
    return median(v, RUNS);
}

static double ready_calls(int epoll)
{
    int p[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, p);
    write(p[1], "x", 1);
    int ep = watch(p[0]);
    double v[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (int i = 0; i < CALLS; i++) {
            if (epoll) {
                struct epoll_event e;
                epoll_wait(ep, &e, 1, 0);
            } else {
                struct pollfd q = {p[0], POLLIN, 0};
                poll(&q, 1, 0);
            }
        }
        v[r] = (now() - t0) / CALLS;
    }
    close(ep);
    close(p[0]);
    close(p[1]);
    return median(v, RUNS);
}

int main(void)
{
    printf("poll_ready %.1f\n", ready_calls(0));
    printf("epoll_ready %.1f\n", ready_calls(1));
    printf("poll_roundtrip %.1f\n", round_trips(0));
    printf("epoll_roundtrip %.1f\n", round_trips(1));
    return 0;
}
