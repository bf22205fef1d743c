/* Objects the family shares through the arena, changed by one process while another blocks on
 * them (tests/test_processes_signals.py): a socketpair and an eventfd made before the fork.  The
 * waiter never has a timeout; on Linux the kernel wakes it, sealed the other process's wake (a
 * private futex of its own) never reaches it, so each wait must look again by itself.  Every
 * line is the same natively and sealed; a wait that is never woken hangs until the wall limit. */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, 0);
}

static void reap(pid_t p)
{
    int status;
    waitpid(p, &status, 0);
    printf("  child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void)
{
    setvbuf(stdout, 0, _IONBF, 0);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int efd = eventfd(0, 0);

    /* 1: the parent blocks in recv; the child sends later */
    pid_t p = fork();
    if (p == 0) {
        pause_ms(200);
        write(sv[1], "ping", 4);
        _exit(0);
    }
    char buf[16] = {0};
    long n = read(sv[0], buf, sizeof buf);
    printf("parent read %ld: %.*s\n", n, (int)(n > 0 ? n : 0), buf);
    reap(p);

    /* 2: the child blocks in read of the eventfd; the parent writes later */
    p = fork();
    if (p == 0) {
        uint64_t v = 0;
        long r = read(efd, &v, sizeof v);
        printf("child read %ld: %llu\n", r, (unsigned long long)v);
        _exit(3);
    }
    pause_ms(200);
    uint64_t three = 3;
    write(efd, &three, sizeof three);
    reap(p);

    /* 3: the parent polls, selects and epoll_waits with no timeout; the child writes each time */
    for (int round = 0; round < 3; round++) {
        p = fork();
        if (p == 0) {
            pause_ms(150);
            write(sv[1], "x", 1);
            _exit(0);
        }
        int ready = 0;
        if (round == 0) {
            struct pollfd pfd = {sv[0], POLLIN, 0};
            ready = poll(&pfd, 1, -1) == 1 && (pfd.revents & POLLIN);
        } else if (round == 1) {
            fd_set r;
            FD_ZERO(&r);
            FD_SET(sv[0], &r);
            ready = select(sv[0] + 1, &r, 0, 0, 0) == 1 && FD_ISSET(sv[0], &r);
        } else {
            int ep = epoll_create1(0);
            struct epoll_event ev = {.events = EPOLLIN, .data.fd = sv[0]}, got;
            epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
            ready = epoll_wait(ep, &got, 1, -1) == 1 && got.data.fd == sv[0];
            close(ep);
        }
        char c = 0;
        read(sv[0], &c, 1);
        printf("%s: ready %d, read '%c'\n", round == 0 ? "poll" : round == 1 ? "select" : "epoll_wait", ready, c);
        reap(p);
    }
    return 0;
}
