/* Hostile process groups (tests/test_processes_groups.py): forged PGRP, KILL and EXEC messages
 * written raw on the channel, and groups that would reach outside the family.
 *   forged     children each write one malformed message (PGRP with an unknown op, SETPGID's
 *              payload of 3 bytes, EXEC with no path, EXEC with a NUL in it, EXEC_AGAIN before
 *              any EXEC, EXEC with an unknown arg): the Monitor kills each alone; the parent
 *              reports how each ended (one whose well-formed EXEC came first is ended by it)
 *   raw        well-formed raw requests the layer would never send: PGRP_SETPGID of the parent
 *              by a child (ESRCH), PGRP_SETSID with a pid (EINVAL), KILL of a group nobody has
 *   outside    argv[2] is the host's process group of the test: kill(-it, 0) and kill(-1, 0) from
 *              a child, and wait4 of that group: the family's numbers only
 *   alone      (no processes) a raw PGRP: processes are not enabled, the process is killed
 *   execbytes  a child says EXEC of a path that is no UTF-8 and never execs: only its own line of
 *              the trace's tree shows it (escaped), and the Monitor's answer ends the claimant's
 *              thread, which runs its own code, as a thread an exec ends (its "EXEC =" line is
 *              never written; it exits 0, as a process whose last thread called exit)
 *   leave      a child makes a session of its own and idles; the entry exits: nothing is left
 *              (its host session never changed, so the Monitor's sweep finds it) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile.h"
#include "xax_protocol.h"

/* One request written raw on the channel (fd 3), and its reply's arg read raw (or -999). */
static long raw_request(uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len)
{
    char buf[64 + 4096];
    struct xax_msg_hdr h = {XAX_MAGIC, XAX_VERSION, type, chan, arg, len, 7};
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, payload, len);
    if (raw3(SYS_write, XAX_CHANNEL_FD, (long)buf, (long)(sizeof h + len)) < 0)
        return -998;
    long n = raw3(SYS_read, XAX_CHANNEL_FD, (long)buf, sizeof buf);
    if (n < (long)sizeof h)
        return -999;
    memcpy(&h, buf, sizeof h);
    return h.arg;
}

static void ended(const char *what, pid_t p)
{
    int st;
    waitpid(p, &st, 0);
    printf("%s: %s %d\n", what, WIFSIGNALED(st) ? "killed by" : "exited", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void forged(void)
{
    static const char *names[] = {"pgrp op 99", "setpgid payload 3", "exec no path", "exec nul",
                                  "exec again first", "exec again payload", "exec arg 7"};
    for (int i = 0; i < 7; i++) {
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            if (i == 0)
                raw_request(XAX_MSG_PGRP, 0, 99, 0, 0);
            else if (i == 1)
                raw_request(XAX_MSG_PGRP, 0, XAX_PGRP_SETPGID, "abc", 3);
            else if (i == 2)
                raw_request(XAX_MSG_EXEC, -1, 0, 0, 0);
            else if (i == 3)
                raw_request(XAX_MSG_EXEC, -1, 0, "/bin\0sh", 7);
            else if (i == 4) /* the threads again, of an exec never announced */
                raw_request(XAX_MSG_EXEC, -1, XAX_EXEC_AGAIN, 0, 0);
            else if (i == 5) /* ended by the Monitor's signal: it runs its own code */
                raw_request(XAX_MSG_EXEC, -1, 0, "/x", 2), raw_request(XAX_MSG_EXEC, -1, XAX_EXEC_AGAIN, "/x", 2);
            else
                raw_request(XAX_MSG_EXEC, -1, 7, "/x", 2);
            sleep(5);
            _exit(0);
        }
        ended(names[i], p);
    }
}

static void raw_requests(void)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        int32_t pgid = 0;
        printf("setpgid of the parent = %ld\n", raw_request(XAX_MSG_PGRP, getppid(), XAX_PGRP_SETPGID, &pgid, 4));
        printf("setsid with a pid = %ld\n", raw_request(XAX_MSG_PGRP, getppid(), XAX_PGRP_SETSID, 0, 0));
        printf("getpgid of the parent = %ld\n", raw_request(XAX_MSG_PGRP, getppid(), XAX_PGRP_GETPGID, 0, 0));
        printf("kill group 7 = %ld\n", raw_request(XAX_MSG_KILL, -7, 0, 0, 0));
        printf("kill group INT_MIN = %ld\n", raw_request(XAX_MSG_KILL, INT32_MIN, 0, 0, 0));
        fflush(stdout);
        _exit(0);
    }
    ended("child", p);
}

static void outside(int host_pgid)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        printf("kill(-host group, 0) = %s\n", kill(-host_pgid, 0) < 0 ? strerror(errno) : "sent");
        printf("kill(-1, 0) = %s\n", kill(-1, 0) < 0 ? strerror(errno) : "sent (the family)");
        int st;
        printf("waitpid(-host group) = %s\n", waitpid(-host_pgid, &st, WNOHANG) < 0 ? strerror(errno) : "waited");
        printf("setpgid(0, host group) = %s\n", setpgid(0, host_pgid) < 0 ? strerror(errno) : "joined");
        fflush(stdout);
        _exit(0);
    }
    ended("child", p);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "forged"))
        forged();
    else if (!strcmp(mode, "raw"))
        raw_requests();
    else if (!strcmp(mode, "outside"))
        outside(atoi(argv[2]));
    else if (!strcmp(mode, "execbytes")) {
        pid_t p = fork();
        if (p == 0) {
            printf("EXEC = %ld\n", raw_request(XAX_MSG_EXEC, -1, 0, "\xff/not-run", 9));
            fflush(stdout);
            _exit(0);
        }
        ended("child", p);
    } else if (!strcmp(mode, "alone"))
        printf("raw PGRP = %ld\n", raw_request(XAX_MSG_PGRP, 0, XAX_PGRP_GETPGID, 0, 0));
    else if (!strcmp(mode, "leave")) {
        int ready[2];
        char byte;
        pipe(ready);
        pid_t p = fork();
        if (p == 0) {
            setsid();
            write(ready[1], "r", 1);
            for (;;)
                usleep(2000);
        }
        read(ready[0], &byte, 1);
        printf("child's session is its own: %d\n", getsid(p) == p);
    }
    return 0;
}
